/* The artifact store: kinds are enforced, names are unique, ownership moves
 * in on put (also on failure), and pointers handed out stay valid while
 * later artifacts are added (stages keep ctx->volume across puts); a
 * volume can be taken out once (in-place stages). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine.h"

static void pointers_stay_valid_as_the_store_grows(void **state)
{
    (void)state;
    sp_store *s;
    sp_error err;
    assert_int_equal(sp_store_new(&s, &err), SP_OK);
    sp_volume v;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 3, 2, 2, &err), SP_OK);
    sp_volume_f32(&v)[5] = 42.0f;
    assert_int_equal(sp_store_put_volume(s, "volume.hu", SP_ARTIFACT_VOLUME,
                                         &v, &err),
                     SP_OK);
    assert_null(v.data);
    const sp_volume *hu = sp_store_volume(s, "volume.hu", SP_ARTIFACT_VOLUME);
    for (int i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "table.n%d", i);
        assert_int_equal(sp_store_put_table(s, name, json_integer(i), &err),
                         SP_OK);
    }
    assert_ptr_equal(hu, sp_store_volume(s, "volume.hu", SP_ARTIFACT_VOLUME));
    assert_true(sp_volume_f32(hu)[5] == 42.0f);
    assert_int_equal(json_integer_value(sp_store_table(s, "table.n77")), 77);
    sp_store_free(s);
}

/* Taking a volume (stage ABI 1.3): the buffer moves out once; the name
 * stays (no second artifact of that name), get finds nothing, and the
 * artifact list says who consumed it. Tables cannot be taken. */
static void take_moves_the_buffer_out_once(void **state)
{
    (void)state;
    sp_store *s;
    sp_error err;
    assert_int_equal(sp_store_new(&s, &err), SP_OK);
    sp_volume v, got;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 4, 3, 2, &err), SP_OK);
    sp_volume_f32(&v)[7] = -5.0f;
    void *buffer = v.data;
    assert_int_equal(sp_store_put_volume(s, "volume.hu", SP_ARTIFACT_VOLUME,
                                         &v, &err),
                     SP_OK);
    assert_int_equal(sp_store_put_table(s, "t", json_true(), &err), SP_OK);
    assert_int_equal(sp_store_take_volume(s, "t", SP_ARTIFACT_TABLE, "x",
                                          &got),
                     0);
    assert_int_equal(sp_store_take_volume(s, "volume.hu", SP_ARTIFACT_MASK,
                                          "x", &got),
                     0);
    assert_null(got.data);
    assert_int_equal(sp_store_take_volume(s, "volume.hu", SP_ARTIFACT_VOLUME,
                                          "denoise", &got),
                     1);
    assert_ptr_equal(got.data, buffer);
    assert_true(sp_volume_f32(&got)[7] == -5.0f);
    assert_int_equal(got.dim[0], 4);
    assert_int_equal(sp_store_take_volume(s, "volume.hu", SP_ARTIFACT_VOLUME,
                                          "again", &v),
                     0);
    assert_null(sp_store_volume(s, "volume.hu", SP_ARTIFACT_VOLUME));
    assert_true(sp_store_has(s, "volume.hu"));
    assert_int_equal(sp_store_put_volume(s, "volume.hu", SP_ARTIFACT_VOLUME,
                                         &got, &err),
                     SP_STAGE);
    assert_null(got.data);
    json_t *j = sp_store_json(s);
    json_t *hu = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(hu, "consumed_by")),
                        "denoise");
    assert_int_equal(json_integer_value(json_array_get(
                         json_object_get(hu, "dim"), 1)),
                     3);
    assert_null(json_object_get(json_array_get(j, 1), "consumed_by"));
    json_decref(j);
    sp_store_free(s);
}

static void kinds_and_duplicates(void **state)
{
    (void)state;
    sp_store *s;
    sp_error err;
    assert_int_equal(sp_store_new(&s, &err), SP_OK);
    sp_volume v;
    /* a mask must be U8; the store frees the refused volume */
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 2, 2, 2, &err), SP_OK);
    assert_int_equal(sp_store_put_volume(s, "mask.bone", SP_ARTIFACT_MASK, &v,
                                         &err),
                     SP_STAGE);
    assert_non_null(strstr(err.message, "a mask must hold U8 voxels"));
    assert_null(v.data);
    /* a key image has one slice */
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_U8, 2, 2, 2, &err), SP_OK);
    assert_int_equal(sp_store_put_volume(s, "key.axial", SP_ARTIFACT_IMAGE,
                                         &v, &err),
                     SP_STAGE);
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_U16, 2, 2, 2, &err), SP_OK);
    assert_int_equal(sp_store_put_volume(s, "labels.vertebrae",
                                         SP_ARTIFACT_LABELS, &v, &err),
                     SP_OK);
    /* asking for another kind gives nothing */
    assert_null(sp_store_volume(s, "labels.vertebrae", SP_ARTIFACT_MASK));
    assert_null(sp_store_table(s, "labels.vertebrae"));
    assert_non_null(sp_store_volume(s, "labels.vertebrae",
                                    SP_ARTIFACT_LABELS));
    assert_int_equal(sp_store_put_table(s, "labels.vertebrae", json_true(),
                                        &err),
                     SP_STAGE);
    assert_non_null(strstr(err.message, "already in the store"));
    json_t *j = sp_store_json(s);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(j, 0), "kind")),
                        "labels");
    json_decref(j);
    sp_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pointers_stay_valid_as_the_store_grows),
        cmocka_unit_test(take_moves_the_buffer_out_once),
        cmocka_unit_test(kinds_and_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
