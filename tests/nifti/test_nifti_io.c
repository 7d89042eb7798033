/* NIfTI-1 writer and reader: round trips with oblique geometry, the qform
 * maths, byte-swapped files and hostile headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <zlib.h>
#include <cmocka.h>

#include "nifti/nifti_internal.h"
#include "output/output.h"
#include "spinepipe/volume.h"
#include "test_data.h"

typedef struct fixture {
    char *dir;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = test_make_temp_dir();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* An oblique grid: rotation by `deg` about a skew axis, anisotropic
 * spacing, optionally left-handed (k flipped), and an offset. */
static void oblique_geometry(sp_volume *v, double deg, int left_handed)
{
    double ax[3] = {0.3, -0.5, 0.81};
    double n = sqrt(ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2]);
    for (int i = 0; i < 3; i++)
        ax[i] /= n;
    double t = deg * M_PI / 180.0, c = cos(t), s = sin(t), C = 1 - c;
    double x = ax[0], y = ax[1], z = ax[2];
    double r[3][3] = {
        {c + x * x * C, x * y * C - z * s, x * z * C + y * s},
        {y * x * C + z * s, c + y * y * C, y * z * C - x * s},
        {z * x * C - y * s, z * y * C + x * s, c + z * z * C},
    };
    double sp[3] = {0.781, 0.6543, left_handed ? -2.5 : 2.5};
    double off[3] = {-120.25, 87.5, -33.125};
    double m[4][4] = {{0}};
    for (int row = 0; row < 3; row++) {
        for (int col = 0; col < 3; col++)
            m[row][col] = r[row][col] * sp[col];
        m[row][3] = off[row];
    }
    m[3][3] = 1;
    sp_volume_set_geometry(v, m);
}

static void fill_pattern(sp_volume *v)
{
    size_t n = sp_volume_count(v);
    for (size_t i = 0; i < n; i++) {
        switch (v->type) {
        case SP_VOXEL_F32:
            ((float *)v->data)[i] = (float)(sin((double)i * 0.37) * 1500.25);
            break;
        case SP_VOXEL_U8: ((uint8_t *)v->data)[i] = (uint8_t)(i * 7 % 256);
            break;
        case SP_VOXEL_U16:
            ((uint16_t *)v->data)[i] = (uint16_t)(i * 2654435761u % 65536);
            break;
        }
    }
}

static void assert_affine_near(const sp_volume *a, const sp_volume *b,
                               double tol)
{
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            if (fabs(a->vox2lps[r][c] - b->vox2lps[r][c]) > tol)
                fail_msg("affine[%d][%d]: %.9f vs %.9f", r, c,
                         a->vox2lps[r][c], b->vox2lps[r][c]);
}

static void round_trip(fixture *f, sp_voxel_type type, const char *name,
                       double deg, int left_handed)
{
    sp_volume v, back;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, type, 17, 9, 5, &err), SP_OK);
    oblique_geometry(&v, deg, left_handed);
    fill_pattern(&v);
    char *p = sp_path_joined(f->dir, name);
    assert_int_equal(sp_nifti_write(&v, p, &err), SP_OK);
    sp_status st = sp_nifti_read(p, type == SP_VOXEL_U16 || type == SP_VOXEL_U8,
                                 &back, &err);
    if (st != SP_OK)
        fail_msg("%s", err.message);
    assert_int_equal(back.dim[0], 17);
    assert_int_equal(back.dim[1], 9);
    assert_int_equal(back.dim[2], 5);
    assert_affine_near(&v, &back, 1e-5);
    size_t n = sp_volume_count(&v);
    for (size_t i = 0; i < n; i++) {
        double a, b;
        switch (type) {
        case SP_VOXEL_F32:
            a = ((float *)v.data)[i];
            b = ((float *)back.data)[i];
            break;
        case SP_VOXEL_U8:
            a = ((uint8_t *)v.data)[i];
            b = ((uint16_t *)back.data)[i];
            break;
        default:
            a = ((uint16_t *)v.data)[i];
            b = ((uint16_t *)back.data)[i];
            break;
        }
        if (a != b)
            fail_msg("voxel %zu: wrote %g, read %g", i, a, b);
    }
    free(p);
    sp_volume_free(&v);
    sp_volume_free(&back);
}

static void round_trip_f32_gz(void **state)
{
    round_trip(*state, SP_VOXEL_F32, "f32.nii.gz", 23.0, 0);
}

static void round_trip_u8_plain_left_handed(void **state)
{
    round_trip(*state, SP_VOXEL_U8, "u8.nii", 131.0, 1);
}

static void round_trip_u16_gz_half_turn(void **state)
{
    /* 180 degrees exercises the quaternion branch where a is ~0. */
    round_trip(*state, SP_VOXEL_U16, "u16.nii.gz", 180.0, 1);
}

/* The qform alone (sform_code 0) must give the same geometry. */
static void qform_only_matches_sform(void **state)
{
    for (int handed = 0; handed < 2; handed++) {
        for (double deg = 0; deg < 360; deg += 37.5) {
            sp_volume v;
            assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 2, 2, 2, NULL),
                             SP_OK);
            oblique_geometry(&v, deg, handed);
            double ras[4][4], back[4][4];
            nifti_flip_lps_ras(v.vox2lps, ras);
            nifti_quatern q;
            nifti_mat_to_quatern(ras, &q);
            assert_true(q.qfac == (handed ? -1.0 : 1.0));
            nifti_quatern_to_mat(&q, back);
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                    if (fabs(ras[r][c] - back[r][c]) > 1e-9)
                        fail_msg("deg %g handed %d [%d][%d]: %g vs %g", deg,
                                 handed, r, c, ras[r][c], back[r][c]);
            sp_volume_free(&v);
        }
    }
    (void)state;
}

/* Load a whole (decompressed) file into memory, and save bytes back. */
static unsigned char *slurp(const char *path, size_t *n)
{
    gzFile gz = gzopen(path, "rb");
    assert_non_null(gz);
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    int got;
    while ((got = gzread(gz, buf + len, (unsigned)(cap - len))) > 0) {
        len += (size_t)got;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    gzclose(gz);
    *n = len;
    return buf;
}

static void spill(const char *path, const unsigned char *buf, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, n, fp), n);
    fclose(fp);
}

static void put_i16(unsigned char *raw, size_t at, int16_t v)
{
    raw[at] = (unsigned char)(v & 0xff);
    raw[at + 1] = (unsigned char)((uint16_t)v >> 8);
}

static void put_f32(unsigned char *raw, size_t at, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    for (int b = 0; b < 4; b++)
        raw[at + b] = (unsigned char)(u >> (8 * b));
}

static void reverse(unsigned char *p, size_t n)
{
    for (size_t a = 0, b = n - 1; a < b; a++, b--) {
        unsigned char t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
}

/* Write a small oblique F32 volume as .nii and return its bytes. */
static unsigned char *sample_bytes(fixture *f, sp_volume *v, size_t *n)
{
    sp_error err;
    assert_int_equal(sp_volume_alloc(v, SP_VOXEL_F32, 6, 5, 4, &err), SP_OK);
    oblique_geometry(v, 40.0, 0);
    fill_pattern(v);
    char *p = sp_path_joined(f->dir, "sample.nii");
    assert_int_equal(sp_nifti_write(v, p, &err), SP_OK);
    unsigned char *buf = slurp(p, n);
    free(p);
    assert_int_equal(*n, 352 + 6 * 5 * 4 * 4);
    return buf;
}

static void byte_swapped_file_reads_the_same(void **state)
{
    fixture *f = *state;
    sp_volume v, back;
    sp_error err;
    size_t n;
    unsigned char *raw = sample_bytes(f, &v, &n);
    /* Every numeric field spinepipe reads, then the voxels. */
    reverse(raw, 4);
    for (size_t at = 40; at < 56; at += 2)
        reverse(raw + at, 2);
    reverse(raw + 70, 2);
    reverse(raw + 72, 2);
    for (size_t at = 76; at < 120; at += 4)
        reverse(raw + at, 4);
    reverse(raw + 252, 2);
    reverse(raw + 254, 2);
    for (size_t at = 256; at < 328; at += 4)
        reverse(raw + at, 4);
    for (size_t at = 352; at < n; at += 4)
        reverse(raw + at, 4);
    char *p = sp_path_joined(f->dir, "swapped.nii");
    spill(p, raw, n);
    if (sp_nifti_read(p, 0, &back, &err) != SP_OK)
        fail_msg("%s", err.message);
    assert_affine_near(&v, &back, 1e-5);
    assert_memory_equal(v.data, back.data, sp_volume_count(&v) * 4);
    free(p);
    free(raw);
    sp_volume_free(&v);
    sp_volume_free(&back);
}

static void qform_used_without_sform(void **state)
{
    fixture *f = *state;
    sp_volume v, back;
    sp_error err;
    size_t n;
    unsigned char *raw = sample_bytes(f, &v, &n);
    put_i16(raw, 254, 0); /* sform_code */
    for (size_t at = 280; at < 328; at += 4)
        put_f32(raw, at, 0.0f);
    char *p = sp_path_joined(f->dir, "qform.nii");
    spill(p, raw, n);
    if (sp_nifti_read(p, 0, &back, &err) != SP_OK)
        fail_msg("%s", err.message);
    /* float quaternion: about 1e-7 relative */
    assert_affine_near(&v, &back, 1e-5);
    free(p);
    free(raw);
    sp_volume_free(&v);
    sp_volume_free(&back);
}

/* Extension bytes between the header and vox_offset are skipped. */
static void extensions_are_skipped(void **state)
{
    fixture *f = *state;
    sp_volume v, back;
    sp_error err;
    size_t n;
    unsigned char *raw = sample_bytes(f, &v, &n);
    size_t extra = 48;
    unsigned char *grown = calloc(1, n + extra);
    memcpy(grown, raw, 348);
    grown[348] = 1; /* extension flag */
    memset(grown + 352, 0xEE, extra);
    memcpy(grown + 352 + extra, raw + 352, n - 352);
    put_f32(grown, 108, (float)(352 + extra));
    char *p = sp_path_joined(f->dir, "ext.nii");
    spill(p, grown, n + extra);
    if (sp_nifti_read(p, 0, &back, &err) != SP_OK)
        fail_msg("%s", err.message);
    assert_memory_equal(v.data, back.data, sp_volume_count(&v) * 4);
    sp_volume_free(&back);
    free(p);
    free(grown);
    free(raw);
    sp_volume_free(&v);
}

/* dim[0] = 2: a single 2D image, read as one slice. */
static void two_dimensional_image(void **state)
{
    fixture *f = *state;
    sp_volume v, back;
    sp_error err;
    size_t n;
    unsigned char *raw = sample_bytes(f, &v, &n);
    put_i16(raw, 40, 2);
    char *p = sp_path_joined(f->dir, "2d.nii");
    spill(p, raw, n);
    if (sp_nifti_read(p, 0, &back, &err) != SP_OK)
        fail_msg("%s", err.message);
    assert_int_equal(back.dim[0], 6);
    assert_int_equal(back.dim[1], 5);
    assert_int_equal(back.dim[2], 1);
    assert_memory_equal(v.data, back.data, 6 * 5 * 4);
    sp_volume_free(&back);
    free(p);
    free(raw);
    sp_volume_free(&v);
}

/* A hand-made file of each datatype the reader takes: the same numbers
 * must come back as floats (and as labels where they fit). */
static void every_datatype_reads(void **state)
{
    fixture *f = *state;
    static const int types[] = {NIFTI_DT_UINT8,  NIFTI_DT_INT8,
                                NIFTI_DT_INT16,  NIFTI_DT_UINT16,
                                NIFTI_DT_INT32,  NIFTI_DT_UINT32,
                                NIFTI_DT_FLOAT32, NIFTI_DT_FLOAT64};
    enum { NX = 4, NY = 3, NZ = 2, N = NX * NY * NZ };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        int dt = types[t];
        size_t elem = nifti_datatype_size(dt);
        int is_signed = dt == NIFTI_DT_INT8 || dt == NIFTI_DT_INT16 ||
                        dt == NIFTI_DT_INT32 || dt == NIFTI_DT_FLOAT32 ||
                        dt == NIFTI_DT_FLOAT64;
        nifti_header h;
        memset(&h, 0, sizeof h);
        h.dim[0] = 3;
        h.dim[1] = NX;
        h.dim[2] = NY;
        h.dim[3] = NZ;
        h.datatype = (int16_t)dt;
        h.bitpix = (int16_t)(8 * elem);
        for (int a = 1; a <= 3; a++)
            h.pixdim[a] = 2.0f;
        h.vox_offset = 352;
        h.qform_code = 1; /* identity rotation, offset 0 */
        unsigned char buf[352 + N * 8] = {0};
        nifti_header_encode(&h, buf);
        double want[N];
        for (int i = 0; i < N; i++) {
            want[i] = is_signed ? i * 5 - 60 : i * 5;
            unsigned char *p = buf + 352 + i * elem;
            switch (dt) {
            case NIFTI_DT_UINT8: *p = (uint8_t)want[i]; break;
            case NIFTI_DT_INT8: *p = (uint8_t)(int8_t)want[i]; break;
            case NIFTI_DT_INT16: { int16_t v = (int16_t)want[i]; memcpy(p, &v, 2); break; }
            case NIFTI_DT_UINT16: { uint16_t v = (uint16_t)want[i]; memcpy(p, &v, 2); break; }
            case NIFTI_DT_INT32: { int32_t v = (int32_t)want[i]; memcpy(p, &v, 4); break; }
            case NIFTI_DT_UINT32: { uint32_t v = (uint32_t)want[i]; memcpy(p, &v, 4); break; }
            case NIFTI_DT_FLOAT32: { float v = (float)want[i]; memcpy(p, &v, 4); break; }
            default: { double v = want[i]; memcpy(p, &v, 8); break; }
            }
        }
        char *path = sp_path_joined(f->dir, "dt.nii");
        spill(path, buf, 352 + N * elem);
        sp_volume v;
        sp_error err;
        if (sp_nifti_read(path, 0, &v, &err) != SP_OK)
            fail_msg("%s: %s", nifti_datatype_name(dt), err.message);
        for (int i = 0; i < N; i++)
            if (((float *)v.data)[i] != (float)want[i])
                fail_msg("%s voxel %d: %g, want %g", nifti_datatype_name(dt),
                         i, ((float *)v.data)[i], want[i]);
        /* RAS identity * 2 mm -> LPS: x and y flip. */
        assert_true(v.vox2lps[0][0] == -2.0 && v.vox2lps[1][1] == -2.0 &&
                    v.vox2lps[2][2] == 2.0);
        sp_volume_free(&v);
        sp_status st = sp_nifti_read(path, 1, &v, &err);
        assert_int_equal(st, is_signed ? SP_FORMAT : SP_OK);
        if (st == SP_OK)
            for (int i = 0; i < N; i++)
                assert_int_equal(((uint16_t *)v.data)[i], (int)want[i]);
        sp_volume_free(&v);
        free(path);
    }
}

/* Patch the sample file, read it, and expect `code` with a message that
 * names the file and contains `words`. */
typedef void (*patch_fn)(unsigned char *raw, size_t *n);

static void expect_failure(fixture *f, patch_fn patch, int gzip,
                           sp_status code, const char *words)
{
    sp_volume v, back;
    sp_error err;
    size_t n;
    unsigned char *raw = sample_bytes(f, &v, &n);
    patch(raw, &n);
    char *p = sp_path_joined(f->dir, gzip ? "bad.nii.gz" : "bad.nii");
    if (gzip) {
        gzFile gz = gzopen(p, "wb");
        assert_non_null(gz);
        assert_int_equal(gzwrite(gz, raw, (unsigned)n), (int)n);
        gzclose(gz);
    } else {
        spill(p, raw, n);
    }
    sp_status st = sp_nifti_read(p, 0, &back, &err);
    if (st != code)
        fail_msg("expected %s, got %s: %s", sp_status_name(code),
                 sp_status_name(st), err.message);
    if (!strstr(err.message, p) || !strstr(err.message, words))
        fail_msg("message '%s' lacks the path or '%s'", err.message, words);
    assert_null(back.data);
    free(p);
    free(raw);
    sp_volume_free(&v);
}

static void cut_data(unsigned char *raw, size_t *n) { (void)raw; *n -= 7; }
static void cut_header(unsigned char *raw, size_t *n) { (void)raw; *n = 200; }
static void bad_size(unsigned char *raw, size_t *n)
{
    (void)n;
    raw[0] = 0x12;
    raw[1] = 0x34;
}
static void bad_magic(unsigned char *raw, size_t *n)
{
    (void)n;
    memcpy(raw + 344, "XYZ", 4);
}
static void pair_magic(unsigned char *raw, size_t *n)
{
    (void)n;
    memcpy(raw + 344, "ni1", 4);
}
static void nifti2_size(unsigned char *raw, size_t *n)
{
    (void)n;
    raw[0] = 0x1c; /* 540 */
    raw[1] = 0x02;
}
static void bad_ndim(unsigned char *raw, size_t *n) { (void)n; put_i16(raw, 40, 9); }
static void bad_dim(unsigned char *raw, size_t *n) { (void)n; put_i16(raw, 44, -6); }
static void four_d(unsigned char *raw, size_t *n)
{
    (void)n;
    put_i16(raw, 40, 4);
    put_i16(raw, 48, 3);
}
static void huge_dims(unsigned char *raw, size_t *n)
{
    (void)n;
    put_i16(raw, 42, 32767);
    put_i16(raw, 44, 32767);
    put_i16(raw, 46, 32767);
}
static void complex_type(unsigned char *raw, size_t *n)
{
    (void)n;
    put_i16(raw, 70, 32);
    put_i16(raw, 72, 64);
}
static void bitpix_mismatch(unsigned char *raw, size_t *n) { (void)n; put_i16(raw, 72, 16); }
static void low_offset(unsigned char *raw, size_t *n) { (void)n; put_f32(raw, 108, 100.0f); }
static void nan_offset(unsigned char *raw, size_t *n) { (void)n; put_f32(raw, 108, NAN); }
static void nan_sform(unsigned char *raw, size_t *n) { (void)n; put_f32(raw, 284, NAN); }
static void singular_sform(unsigned char *raw, size_t *n)
{
    (void)n;
    for (size_t at = 280; at < 328; at += 4)
        put_f32(raw, at, 0.0f);
}

static void truncated_data(void **state)
{
    expect_failure(*state, cut_data, 0, SP_FORMAT, "truncated");
    expect_failure(*state, cut_data, 1, SP_FORMAT, "truncated");
}

static void truncated_header(void **state)
{
    expect_failure(*state, cut_header, 1, SP_FORMAT, "header");
}

static void corrupted_headers(void **state)
{
    expect_failure(*state, bad_size, 0, SP_FORMAT, "348");
    expect_failure(*state, bad_magic, 1, SP_FORMAT, "magic");
    expect_failure(*state, pair_magic, 0, SP_UNSUPPORTED, ".hdr/.img");
    expect_failure(*state, nifti2_size, 0, SP_UNSUPPORTED, "NIfTI-2");
    expect_failure(*state, bad_ndim, 0, SP_FORMAT, "dim[0]");
    expect_failure(*state, bad_dim, 0, SP_FORMAT, "dim[2]");
    expect_failure(*state, four_d, 0, SP_UNSUPPORTED, "3 volumes");
    expect_failure(*state, huge_dims, 1, SP_LIMIT, "limit");
    expect_failure(*state, complex_type, 0, SP_UNSUPPORTED, "complex64");
    expect_failure(*state, bitpix_mismatch, 0, SP_FORMAT, "bitpix");
    expect_failure(*state, low_offset, 0, SP_FORMAT, "vox_offset");
    expect_failure(*state, nan_offset, 0, SP_FORMAT, "vox_offset");
    expect_failure(*state, nan_sform, 0, SP_FORMAT, "sform");
    expect_failure(*state, singular_sform, 0, SP_FORMAT, "singular");
}

static void corrupt_gzip_stream(void **state)
{
    fixture *f = *state;
    sp_volume v, back;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 40, 30, 20, &err),
                     SP_OK);
    fill_pattern(&v);
    char *p = sp_path_joined(f->dir, "c.nii.gz");
    assert_int_equal(sp_nifti_write(&v, p, &err), SP_OK);
    FILE *fp = fopen(p, "r+b");
    assert_non_null(fp);
    fseek(fp, 400, SEEK_SET);
    for (int i = 0; i < 64; i++)
        fputc(0xA5 ^ i, fp);
    fclose(fp);
    sp_status st = sp_nifti_read(p, 0, &back, &err);
    assert_int_equal(st, SP_FORMAT);
    assert_non_null(strstr(err.message, p));
    free(p);
    sp_volume_free(&v);
}

static void scaling_and_labels(void **state)
{
    fixture *f = *state;
    sp_volume v, back;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_U16, 4, 3, 2, &err), SP_OK);
    for (size_t i = 0; i < 24; i++)
        ((uint16_t *)v.data)[i] = (uint16_t)(i * 3);
    char *p = sp_path_joined(f->dir, "scaled.nii");
    assert_int_equal(sp_nifti_write(&v, p, &err), SP_OK);
    size_t n;
    unsigned char *raw = slurp(p, &n);
    put_f32(raw, 112, 0.5f);  /* scl_slope */
    put_f32(raw, 116, -2.0f); /* scl_inter */
    spill(p, raw, n);
    assert_int_equal(sp_nifti_read(p, 0, &back, &err), SP_OK);
    for (size_t i = 0; i < 24; i++)
        assert_true(((float *)back.data)[i] == (float)(i * 3) * 0.5f - 2.0f);
    sp_volume_free(&back);
    /* Half-integers and negatives are not labels. */
    assert_int_equal(sp_nifti_read(p, 1, &back, &err), SP_FORMAT);
    assert_non_null(strstr(err.message, "not a label map"));
    assert_non_null(strstr(err.message, p));
    put_f32(raw, 112, 2.0f);
    put_f32(raw, 116, 10.0f);
    spill(p, raw, n);
    assert_int_equal(sp_nifti_read(p, 1, &back, &err), SP_OK);
    assert_int_equal(back.type, SP_VOXEL_U16);
    for (size_t i = 0; i < 24; i++)
        assert_int_equal(((uint16_t *)back.data)[i], i * 6 + 10);
    sp_volume_free(&back);
    free(raw);
    free(p);
    sp_volume_free(&v);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static int16_t file_datatype(const char *path)
{
    size_t n;
    unsigned char *raw = slurp(path, &n);
    int16_t dt = (int16_t)(raw[70] | raw[71] << 8);
    free(raw);
    return dt;
}

/* Whole-number floats in int16 range go to disk as int16 (lossless);
 * anything else stays float32. Both read back to the same floats. */
static void integral_floats_are_stored_as_int16(void **state)
{
    fixture *f = *state;
    sp_volume v, back;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 7, 6, 5, &err), SP_OK);
    oblique_geometry(&v, 10.0, 0);
    float *d = sp_volume_f32(&v);
    for (size_t i = 0; i < sp_volume_count(&v); i++)
        d[i] = (float)((long)(i * 977) % 65536 - 32768);
    d[0] = -32768.0f;
    d[1] = 32767.0f;
    char *p = sp_path_joined(f->dir, "ct.nii.gz");
    assert_int_equal(sp_nifti_write(&v, p, &err), SP_OK);
    assert_int_equal(file_datatype(p), NIFTI_DT_INT16);
    assert_int_equal(sp_nifti_read(p, 0, &back, &err), SP_OK);
    assert_memory_equal(v.data, back.data, sp_volume_count(&v) * 4);
    assert_affine_near(&v, &back, 1e-5);
    sp_volume_free(&back);
    const float other[] = {32768.0f, -32769.0f, 0.5f, NAN};
    for (size_t k = 0; k < 4; k++) {
        d[3] = other[k];
        assert_int_equal(sp_nifti_write(&v, p, &err), SP_OK);
        assert_int_equal(file_datatype(p), NIFTI_DT_FLOAT32);
        assert_int_equal(sp_nifti_read(p, 0, &back, &err), SP_OK);
        assert_memory_equal(v.data, back.data, sp_volume_count(&v) * 4);
        sp_volume_free(&back);
    }
    free(p);
    sp_volume_free(&v);
}

static void write_is_atomic_and_checks_names(void **state)
{
    fixture *f = *state;
    sp_volume v, back;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_U8, 3, 3, 3, &err), SP_OK);
    char *p = sp_path_joined(f->dir, "out.nii.gz");
    assert_int_equal(sp_nifti_write(&v, p, &err), SP_OK);
    ((uint8_t *)v.data)[5] = 9;
    assert_int_equal(sp_nifti_write(&v, p, &err), SP_OK); /* overwrite */
    assert_int_equal(count_entries(f->dir), 1);            /* no temp left */
    assert_int_equal(sp_nifti_read(p, 1, &back, &err), SP_OK);
    assert_int_equal(((uint16_t *)back.data)[5], 9);
    sp_volume_free(&back);
    char *missing = sp_path_joined(f->dir, "no/such/dir/x.nii");
    assert_int_equal(sp_nifti_write(&v, missing, &err), SP_CANTCREATE);
    assert_non_null(strstr(err.message, missing));
    char *wrong = sp_path_joined(f->dir, "x.img");
    assert_int_equal(sp_nifti_write(&v, wrong, &err), SP_CANTCREATE);
    assert_non_null(strstr(err.message, ".nii.gz"));
    assert_int_equal(sp_nifti_read(missing, 0, &back, &err), SP_NOINPUT);
    assert_non_null(strstr(err.message, missing));
    assert_int_equal(count_entries(f->dir), 1);
    free(p);
    free(missing);
    free(wrong);
    sp_volume_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip_f32_gz, setup, teardown),
        cmocka_unit_test_setup_teardown(round_trip_u8_plain_left_handed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(round_trip_u16_gz_half_turn, setup,
                                        teardown),
        cmocka_unit_test(qform_only_matches_sform),
        cmocka_unit_test_setup_teardown(byte_swapped_file_reads_the_same,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(qform_used_without_sform, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(extensions_are_skipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(two_dimensional_image, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(every_datatype_reads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(truncated_data, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_header, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupted_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_gzip_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(scaling_and_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(integral_floats_are_stored_as_int16,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(write_is_atomic_and_checks_names,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
