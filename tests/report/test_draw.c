/* The drawing layer and the HTML escaping behind the report: the font
 * loads from its file, text with invalid UTF-8 (as DICOM strings can be)
 * neither fails nor stops later drawing, semi-transparent masks blend
 * with the anatomy under them, outlines land on mask boundaries, and
 * sp_html_escape neutralises markup and bad bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "draw/draw.h"
#include "engine/run_index.h"

static void pixel(const sp_canvas *c, int x, int y, uint8_t rgb[3])
{
    int w = sp_canvas_width(c), h = sp_canvas_height(c);
    uint8_t *all = malloc((size_t)w * (size_t)h * 3);
    assert_non_null(all);
    sp_canvas_rgb(c, all);
    memcpy(rgb, all + ((size_t)y * (size_t)w + (size_t)x) * 3, 3);
    free(all);
}

static void text_survives_invalid_utf8(void **state)
{
    (void)state;
    sp_canvas *c;
    sp_error err;
    assert_int_equal(sp_canvas_new(200, 60, 0x000000ff, &c, &err), SP_OK);
    const char bad[] = {'A', (char)0xff, (char)0xc3, '(', '\n', 'B', 0};
    double w = sp_canvas_text(c, 5, 30, 16, SP_ALIGN_LEFT, 0xffffffff, 1, bad);
    assert_true(w > 20); /* drawn with '?' for the bad bytes */
    /* cairo still draws afterwards */
    sp_canvas_rect(c, 150, 40, 20, 10, 0x00ff00ff, 0);
    uint8_t rgb[3];
    pixel(c, 160, 45, rgb);
    assert_int_equal(rgb[1], 255);
    /* glyph pixels were drawn: some lit pixel in the text box */
    int w_ = sp_canvas_width(c);
    uint8_t *all = malloc((size_t)w_ * 60 * 3);
    sp_canvas_rgb(c, all);
    size_t lit = 0;
    for (int y = 10; y < 35; y++)
        for (int x = 0; x < 100; x++)
            lit += all[((size_t)y * (size_t)w_ + (size_t)x) * 3] > 200;
    free(all);
    assert_true(lit > 30);
    /* the same string twice is the same width: no state kept */
    assert_true(sp_canvas_text_width(c, 16, bad) == w);
    sp_canvas_free(c);
}

static void masks_blend_and_outline(void **state)
{
    (void)state;
    sp_canvas *c;
    sp_error err;
    assert_int_equal(sp_canvas_new(40, 40, 0x000000ff, &c, &err), SP_OK);
    uint8_t gray[10 * 10], mask[10 * 10];
    for (int i = 0; i < 100; i++) {
        gray[i] = 100;
        mask[i] = (i % 10) >= 3 && (i % 10) < 7 && i / 10 >= 3 && i / 10 < 7;
    }
    sp_canvas_gray(c, gray, 10, 10, 0, 0, 4, 0);
    sp_canvas_mask(c, mask, 10, 10, 0, 0, 4, 0xff000080, 0x00ff00ff, 1);
    uint8_t in[3], out[3], edge[3];
    pixel(c, 20, 20, in);   /* inside: gray 100 half-blended with red */
    pixel(c, 4, 4, out);    /* outside: the gray untouched */
    pixel(c, 12, 20, edge); /* the left boundary at x = 12 */
    assert_int_equal(out[0], 100);
    assert_int_equal(out[1], 100);
    assert_true(in[0] > 160 && in[0] < 190); /* 100 + (255-100)/2 */
    assert_true(in[1] > 40 && in[1] < 60);   /* 100 / 2: anatomy shows */
    assert_true(edge[1] > 150);              /* green outline */
    sp_canvas_free(c);
}

static void header_and_legend_fit(void **state)
{
    (void)state;
    const char *lines[] = {"Patient ID: X", "Overview", "Research/triage aid. "
                           "Not for diagnostic use."};
    double h = sp_canvas_header_height(3, 15);
    assert_true(h > 3 * 15 && h < 3 * 15 * 2);
    sp_canvas *c;
    sp_error err;
    assert_int_equal(sp_canvas_new(400, (int)h + 100, 0x000000ff, &c, &err),
                     SP_OK);
    sp_canvas_header(c, lines, 3, 15);
    sp_legend_item items[] = {{0xff0000ff, "absolute / severe"},
                              {0x00ff00ff, "normal"},
                              {0x0000ffff, "a rather long legend entry"}};
    double lh = sp_canvas_legend(c, 0, h, 150, 13, "Legend:", items, 3, 1);
    double lh2 = sp_canvas_legend(c, 0, h, 400, 13, "Legend:", items, 3, 0);
    assert_true(lh > lh2); /* a narrower band wraps into more rows */
    uint8_t rgb[3];
    pixel(c, 399, 2, rgb); /* the header band is dark, not black */
    assert_int_equal(rgb[0], 0x18);
    sp_canvas_free(c);
}

static char *escaped(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sp_html_escape(f, s);
    fclose(f);
    return buf;
}

static void html_escape_neutralises_markup(void **state)
{
    (void)state;
    char *e = escaped("<script>alert('x')</script> & \"q\"");
    assert_string_equal(e, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
                           "&amp; &quot;q&quot;");
    free(e);
    const char bad[] = {'a', (char)0xe9, 'b', 0x01, (char)0xc3, (char)0xa9, 0};
    e = escaped(bad);
    assert_string_equal(e, "a&#xFFFD;b&#xFFFD;\xc3\xa9");
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_survives_invalid_utf8),
        cmocka_unit_test(masks_blend_and_outline),
        cmocka_unit_test(header_and_legend_fit),
        cmocka_unit_test(html_escape_neutralises_markup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
