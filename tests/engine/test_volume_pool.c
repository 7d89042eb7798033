/* The host's volume pool (engine/volume_pool.h): a freed large buffer
 * serves the next request of its size class, zeroed when asked (as
 * sp_volume_alloc promises) and with fresh fields; the window's view
 * (U8 voxels in a float buffer) returns the whole buffer; a request of
 * another shape releases what is kept; at most SP_POOL_MAX_KEPT are kept;
 * small volumes are never kept; concurrent use; and the DICOM loader on a
 * real series: the second load of the head CT reuses the first load's
 * buffer and gives the same voxels and geometry; draining large buffers.
 * Leaks: ASan and valgrind
 * (engine suite). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/volume_pool.h"
#include "spinepipe/dicom.h"
#include "test_data.h"

#define NX 256
#define NY 256
#define NZ 40 /* 10 MiB of float: above SP_POOL_MIN_BYTES */

static sp_volume_pool_stats stats(void)
{
    sp_volume_pool_stats s;
    sp_volume_pool_stats_get(&s);
    return s;
}

static int reset(void **state)
{
    (void)state;
    sp_volume_pool_drain();
    return 0;
}

static void freed_buffer_comes_back_zeroed(void **state)
{
    (void)state;
    sp_error err;
    sp_volume v;
    assert_int_equal(sp_pool_volume_alloc(&v, SP_VOXEL_F32, NX, NY, NZ, 1,
                                          &err),
                     SP_OK);
    float *f = sp_volume_f32(&v);
    for (size_t i = 0; i < (size_t)NX * NY * NZ; i++)
        f[i] = (float)i + 1.0f;
    double tilted[4][4] = {{0.5, 0, 0, 3}, {0, 0.5, 0, 4}, {0, 0, 2, 5},
                           {0, 0, 0, 1}};
    sp_volume_set_geometry(&v, tilted);
    void *first = v.data;
    sp_volume_pool_stats before = stats();
    sp_pool_volume_free(&v);
    assert_null(v.data);
    assert_int_equal(stats().kept, 1);
    assert_true(stats().kept_bytes >= (size_t)NX * NY * NZ * 4);

    assert_int_equal(sp_pool_volume_alloc(&v, SP_VOXEL_F32, NX, NY, NZ, 1,
                                          &err),
                     SP_OK);
    assert_ptr_equal(v.data, first);
    assert_int_equal(stats().hits, before.hits + 1);
    assert_int_equal(stats().kept, 0);
    assert_int_equal(v.type, SP_VOXEL_F32);
    assert_int_equal(v.dim[0], NX);
    assert_int_equal(v.dim[1], NY);
    assert_int_equal(v.dim[2], NZ);
    /* The geometry is the identity of a new volume, not the old one's. */
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            assert_true(v.vox2lps[r][c] == (r == c ? 1.0 : 0.0));
    assert_true(v.spacing[0] == 1.0 && v.spacing[2] == 1.0);
    f = sp_volume_f32(&v);
    for (size_t i = 0; i < (size_t)NX * NY * NZ; i++)
        if (f[i] != 0.0f)
            fail_msg("voxel %zu of a reused zeroed volume is %g", i, f[i]);
    sp_pool_volume_free(&v);
}

static void unzeroed_reuse_keeps_the_buffer(void **state)
{
    (void)state;
    sp_error err;
    sp_volume v, like;
    sp_volume_pool_drain();
    assert_int_equal(sp_pool_volume_alloc(&v, SP_VOXEL_F32, NX, NY, NZ, 0,
                                          &err),
                     SP_OK);
    /* Fresh and unzeroed: on a huge page boundary (all of it on huge
     * pages). */
    assert_int_equal((uintptr_t)v.data & (((uintptr_t)2 << 20) - 1), 0);
    memset(v.data, 0x5a, (size_t)NX * NY * NZ * 4);
    void *first = v.data;
    sp_pool_volume_free(&v);
    assert_int_equal(sp_pool_volume_alloc(&v, SP_VOXEL_F32, NX, NY, NZ, 0,
                                          &err),
                     SP_OK);
    assert_ptr_equal(v.data, first);
    sp_pool_volume_free(&v);
    /* alloc_like: zeroed, the source's dimensions and geometry. */
    sp_volume src = {0};
    src.dim[0] = NX, src.dim[1] = NY, src.dim[2] = NZ;
    double g[4][4] = {{0.7, 0, 0, 1}, {0, 0.7, 0, 2}, {0, 0, 1.5, 3},
                      {0, 0, 0, 1}};
    sp_volume_set_geometry(&src, g);
    assert_int_equal(sp_pool_volume_alloc_like(&like, &src, SP_VOXEL_F32,
                                               &err),
                     SP_OK);
    assert_ptr_equal(like.data, first);
    assert_memory_equal(like.vox2lps, src.vox2lps, sizeof like.vox2lps);
    assert_true(like.spacing[2] == 1.5);
    const unsigned char *b = like.data;
    for (size_t i = 0; i < (size_t)NX * NY * NZ * 4; i++)
        if (b[i])
            fail_msg("byte %zu of an alloc_like is %u", i, b[i]);
    sp_pool_volume_free(&like);
}

static void view_in_float_buffer_returns_whole_buffer(void **state)
{
    (void)state;
    sp_error err;
    sp_volume v;
    assert_int_equal(sp_pool_volume_alloc(&v, SP_VOXEL_F32, NX, NY, NZ, 1,
                                          &err),
                     SP_OK);
    void *first = v.data;
    /* As the window writes its U8 view into its float input. */
    v.type = SP_VOXEL_U8;
    sp_pool_volume_free(&v);
    assert_int_equal(stats().kept, 1);
    assert_int_equal(sp_pool_volume_alloc(&v, SP_VOXEL_F32, NX, NY, NZ, 1,
                                          &err),
                     SP_OK);
    assert_ptr_equal(v.data, first);
    sp_pool_volume_free(&v);
}

static void other_shape_releases_kept(void **state)
{
    (void)state;
    sp_error err;
    sp_volume a, b;
    assert_int_equal(sp_pool_volume_alloc(&a, SP_VOXEL_F32, NX, NY, NZ, 1,
                                          &err),
                     SP_OK);
    sp_pool_volume_free(&a);
    assert_int_equal(stats().kept, 1);
    size_t misses = stats().misses;
    assert_int_equal(sp_pool_volume_alloc(&b, SP_VOXEL_F32, NX, NY, 2 * NZ,
                                          1, &err),
                     SP_OK);
    assert_int_equal(stats().misses, misses + 1);
    assert_int_equal(stats().kept, 0);
    const float *f = sp_volume_f32(&b);
    for (size_t i = 0; i < (size_t)NX * NY * NZ * 2; i += 4099)
        assert_true(f[i] == 0.0f);
    /* A smaller request does not take a buffer twice its size. */
    sp_pool_volume_free(&b);
    assert_int_equal(sp_pool_volume_alloc(&a, SP_VOXEL_F32, NX, NY, NZ, 1,
                                          &err),
                     SP_OK);
    assert_int_equal(stats().kept, 0);
    sp_pool_volume_free(&a);
}

static void bounded_and_small_ones_not_kept(void **state)
{
    (void)state;
    sp_error err;
    sp_volume v[SP_POOL_MAX_KEPT + 2];
    for (size_t i = 0; i < SP_POOL_MAX_KEPT + 2; i++)
        assert_int_equal(sp_pool_volume_alloc(&v[i], SP_VOXEL_F32, NX, NY,
                                              NZ, 1, &err),
                         SP_OK);
    for (size_t i = 0; i < SP_POOL_MAX_KEPT + 2; i++)
        sp_pool_volume_free(&v[i]);
    assert_int_equal(stats().kept, SP_POOL_MAX_KEPT);
    sp_volume_pool_drain();
    assert_int_equal(stats().kept, 0);

    sp_volume s;
    assert_int_equal(sp_pool_volume_alloc(&s, SP_VOXEL_U8, 64, 64, 64, 1,
                                          &err),
                     SP_OK);
    sp_pool_volume_free(&s);
    assert_int_equal(stats().kept, 0);
    /* The checks of sp_volume_alloc still apply. */
    assert_int_equal(sp_pool_volume_alloc(&s, SP_VOXEL_F32, 0, 4, 4, 1,
                                          &err),
                     SP_FORMAT);
    assert_int_equal(sp_pool_volume_alloc(&s, SP_VOXEL_F32, SIZE_MAX / 2, 4,
                                          4, 1, &err),
                     SP_LIMIT);
}

static void *churn(void *arg)
{
    (void)arg;
    sp_error err;
    for (int i = 0; i < 20; i++) {
        sp_volume v;
        if (sp_pool_volume_alloc(&v, SP_VOXEL_F32, NX, NY, NZ, 1, &err) !=
            SP_OK)
            return (void *)1;
        float *f = sp_volume_f32(&v);
        for (size_t k = 0; k < (size_t)NX * NY * NZ; k += 997)
            if (f[k] != 0.0f)
                return (void *)2;
        f[(size_t)i * 1000] = 1.0f;
        sp_pool_volume_free(&v);
    }
    return NULL;
}

static void concurrent_use(void **state)
{
    (void)state;
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    assert_true(stats().kept <= SP_POOL_MAX_KEPT);
}

/* Buffers of 32 MiB and more are unmapped on all threads when drained
 * (MADV_DONTNEED on the whole 2 MiB blocks inside, then free): both kinds
 * the pool keeps, a fresh aligned one and a calloc'd one, and the
 * allocator is sound afterwards (glibc and ASan check their headers). */
static void drain_of_large_buffers(void **state)
{
    (void)state;
    sp_error err;
    sp_volume v[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sp_pool_volume_alloc(&v[i], SP_VOXEL_F32, 256, 256,
                                              161, i, &err),
                         SP_OK);
        memset(v[i].data, 0x7f, sp_volume_count(&v[i]) * sizeof(float));
    }
    sp_pool_volume_free(&v[0]);
    sp_pool_volume_free(&v[1]);
    assert_int_equal(stats().kept, 2);
    sp_volume_pool_drain();
    assert_int_equal(stats().kept, 0);
    assert_int_equal(stats().kept_bytes, 0);
    for (int i = 0; i < 4; i++) {
        unsigned char *p = malloc((size_t)(40 + i) << 20);
        assert_non_null(p);
        p[0] = p[((size_t)(40 + i) << 20) - 1] = 1;
        free(p);
    }
}

static void loader_reuses_on_real_series(void **state)
{
    (void)state;
    char *dir = test_data_path("conformance/ct-head-phantom-512/dicom");
    sp_error err;
    sp_dicom_scan *scan;
    assert_int_equal(sp_dicom_scan_path(dir, NULL, &scan, &err), SP_OK);
    assert_int_equal(scan->n_series, 1);
    sp_volume a, b;
    assert_int_equal(sp_dicom_load_series(&scan->series[0], NULL, &a, &err),
                     SP_OK);
    size_t bytes = sp_volume_count(&a) * sizeof(float);
    float *copy = malloc(bytes);
    assert_non_null(copy);
    memcpy(copy, a.data, bytes);
    sp_volume first = a;
    void *buffer = a.data;
    /* Scribble over it, as the window's view does, before it goes back. */
    memset(a.data, 0xff, bytes / 3);
    sp_pool_volume_free(&a);
    size_t hits = stats().hits;
    assert_int_equal(sp_dicom_load_series(&scan->series[0], NULL, &b, &err),
                     SP_OK);
    assert_int_equal(stats().hits, hits + 1);
    assert_ptr_equal(b.data, buffer);
    assert_memory_equal(b.data, copy, bytes);
    assert_memory_equal(b.vox2lps, first.vox2lps, sizeof b.vox2lps);
    assert_memory_equal(b.dim, first.dim, sizeof b.dim);
    sp_pool_volume_free(&b);
    free(copy);
    sp_dicom_scan_free(scan);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(freed_buffer_comes_back_zeroed, reset),
        cmocka_unit_test_setup(unzeroed_reuse_keeps_the_buffer, reset),
        cmocka_unit_test_setup(view_in_float_buffer_returns_whole_buffer,
                               reset),
        cmocka_unit_test_setup(other_shape_releases_kept, reset),
        cmocka_unit_test_setup(bounded_and_small_ones_not_kept, reset),
        cmocka_unit_test_setup(concurrent_use, reset),
        cmocka_unit_test_setup(drain_of_large_buffers, reset),
        cmocka_unit_test_setup(loader_reuses_on_real_series, reset),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
