/* sp_nifti_read: a single-file NIfTI-1 volume (.nii, or gzip through
 * zlib) into an F32 image or a U16 label map, with LPS geometry.
 *
 * Every header field is hostile: sizes are checked for overflow and
 * against a voxel budget before anything is allocated, and short data is
 * an error, never zero-filled. Only 3D images are read: a file with more
 * than one volume along dims 4..7 is refused rather than silently cut to
 * its first volume. */
#include "spinepipe/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nifti_internal.h"

/* 2^30 voxels = 4 GiB as float32; far beyond any spine CT or MRI. */
#define NIFTI_MAX_VOXELS ((size_t)1 << 30)
#define NIFTI_MAX_OFFSET ((size_t)1 << 30)
/* The largest expansion deflate allows (zlib technical details). */
#define DEFLATE_MAX_RATIO 1032u
#define NIFTI_CHUNK ((size_t)4 << 20)

typedef struct nifti_source {
    const char *path;
    gzFile gz;
    struct stat st;
} nifti_source;

/* Read exactly n bytes; a short read is a truncated file. */
static sp_status read_exact(nifti_source *src, void *buf, size_t n,
                            const char *what, sp_error *err)
{
    unsigned char *p = buf;
    while (n > 0) {
        unsigned want = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(src->gz, p, want);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(src->gz, &zerr);
            if (zerr == Z_ERRNO)
                return sp_error_set(err, SP_IO, "%s: read error in %s: %s",
                                    src->path, what, strerror(errno));
            return sp_error_set(err, SP_FORMAT,
                                "%s: corrupt gzip stream in %s (%s)",
                                src->path, what, msg);
        }
        if (got == 0)
            return sp_error_set(err, SP_FORMAT,
                                "%s: file is truncated: it ends inside the "
                                "%s",
                                src->path, what);
        p += got;
        n -= (size_t)got;
    }
    return SP_OK;
}

static void swap_bytes(unsigned char *buf, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char *v = buf + i * size;
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char t = v[a];
            v[a] = v[b];
            v[b] = t;
        }
    }
}

/* Raw value i of a chunk as double (the chunk is in host order). */
static double raw_value(const unsigned char *buf, size_t i, int datatype)
{
#define RAW(T) do { T v; memcpy(&v, buf + i * sizeof v, sizeof v); return v; } while (0)
    switch (datatype) {
    case NIFTI_DT_UINT8: RAW(uint8_t);
    case NIFTI_DT_INT8: RAW(int8_t);
    case NIFTI_DT_INT16: RAW(int16_t);
    case NIFTI_DT_UINT16: RAW(uint16_t);
    case NIFTI_DT_INT32: RAW(int32_t);
    case NIFTI_DT_UINT32: RAW(uint32_t);
    case NIFTI_DT_FLOAT32: RAW(float);
    case NIFTI_DT_FLOAT64: RAW(double);
    }
#undef RAW
    return 0.0;
}

/* The image path, one loop per type so the type switch is not per voxel. */
static void chunk_to_f32(const unsigned char *buf, size_t n, int datatype,
                         double slope, double inter, float *out)
{
#define TO_F32(T)                                                             \
    for (size_t i = 0; i < n; i++) {                                          \
        T v;                                                                  \
        memcpy(&v, buf + i * sizeof v, sizeof v);                             \
        out[i] = (float)(v * slope + inter);                                  \
    }                                                                         \
    break
    switch (datatype) {
    case NIFTI_DT_UINT8: TO_F32(uint8_t);
    case NIFTI_DT_INT8: TO_F32(int8_t);
    case NIFTI_DT_INT16: TO_F32(int16_t);
    case NIFTI_DT_UINT16: TO_F32(uint16_t);
    case NIFTI_DT_INT32: TO_F32(int32_t);
    case NIFTI_DT_UINT32: TO_F32(uint32_t);
    case NIFTI_DT_FLOAT32: TO_F32(float);
    case NIFTI_DT_FLOAT64: TO_F32(double);
    }
#undef TO_F32
}

typedef struct nifti_layout {
    size_t dim[3];
    size_t count;
    size_t elem;
    size_t offset;
    double slope, inter;
    double vox2ras[4][4];
} nifti_layout;

static int all_finite(const float *v, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static double det3(const double m[4][4])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

static sp_status geometry_from_header(const nifti_header *h, const char *path,
                                      double ras[4][4], sp_error *err)
{
    memset(ras, 0, 16 * sizeof(double));
    ras[3][3] = 1.0;
    if (h->sform_code > 0) {
        if (!all_finite(&h->srow[0][0], 12))
            return sp_error_set(err, SP_FORMAT,
                                "%s: sform holds a non-finite number", path);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                ras[r][c] = h->srow[r][c];
    } else {
        if (!all_finite(h->pixdim, 4))
            return sp_error_set(err, SP_FORMAT,
                                "%s: pixdim holds a non-finite number", path);
        for (int a = 1; a <= 3; a++)
            if (h->pixdim[a] == 0.0f)
                return sp_error_set(err, SP_FORMAT,
                                    "%s: voxel size pixdim[%d] is 0", path, a);
        if (h->qform_code > 0) {
            if (!all_finite(h->quatern, 3) || !all_finite(h->qoffset, 3))
                return sp_error_set(err, SP_FORMAT,
                                    "%s: qform holds a non-finite number",
                                    path);
            nifti_quatern q = {.b = h->quatern[0],
                               .c = h->quatern[1],
                               .d = h->quatern[2],
                               .qfac = h->pixdim[0] < 0 ? -1.0 : 1.0};
            for (int a = 0; a < 3; a++) {
                q.offset[a] = h->qoffset[a];
                q.pixdim[a] = fabs((double)h->pixdim[a + 1]);
            }
            nifti_quatern_to_mat(&q, ras);
        } else {
            /* Neither code set: Analyze-style scaling only. */
            for (int a = 0; a < 3; a++)
                ras[a][a] = fabs((double)h->pixdim[a + 1]);
        }
    }
    /* Spatial units: metres and micrometres become millimetres. */
    double unit = 1.0;
    switch (h->xyzt_units & 7) {
    case 1: unit = 1000.0; break;
    case 3: unit = 0.001; break;
    }
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            ras[r][c] *= unit;
    if (!(fabs(det3(ras)) > 1e-12))
        return sp_error_set(err, SP_FORMAT,
                            "%s: the voxel-to-world matrix (%s) is singular",
                            path, h->sform_code > 0 ? "sform" : "qform");
    return SP_OK;
}

static sp_status layout_from_header(const nifti_header *h, const char *path,
                                    nifti_layout *lay, sp_error *err)
{
    memset(lay, 0, sizeof *lay);
    int nd = h->dim[0];
    if (nd < 1 || nd > 7)
        return sp_error_set(err, SP_FORMAT,
                            "%s: dim[0] is %d; a NIfTI-1 image has 1 to 7 "
                            "dimensions",
                            path, nd);
    for (int a = 1; a <= nd; a++)
        if (h->dim[a] < 1)
            return sp_error_set(err, SP_FORMAT,
                                "%s: dim[%d] is %d; sizes must be at least 1",
                                path, a, h->dim[a]);
    size_t volumes = 1;
    for (int a = 4; a <= nd; a++)
        volumes *= (size_t)h->dim[a]; /* at most 32767^4: fits 64 bits */
    if (volumes > 1)
        return sp_error_set(err, SP_UNSUPPORTED,
                            "%s: holds %zu volumes (dims 4..%d); spinepipe "
                            "reads single 3D volumes only",
                            path, volumes, nd);
    for (int a = 0; a < 3; a++)
        lay->dim[a] = a < nd ? (size_t)h->dim[a + 1] : 1;
    lay->count = lay->dim[0] * lay->dim[1] * lay->dim[2];
    if (lay->count > NIFTI_MAX_VOXELS)
        return sp_error_set(err, SP_LIMIT,
                            "%s: %zu x %zu x %zu voxels exceed the limit of "
                            "%zu voxels",
                            path, lay->dim[0], lay->dim[1], lay->dim[2],
                            NIFTI_MAX_VOXELS);
    lay->elem = nifti_datatype_size(h->datatype);
    if (lay->elem == 0)
        return sp_error_set(err, SP_UNSUPPORTED,
                            "%s: datatype %d (%s) is not supported; spinepipe "
                            "reads 8/16/32-bit integers and 32/64-bit floats",
                            path, h->datatype,
                            nifti_datatype_name(h->datatype));
    if ((size_t)h->bitpix != 8 * lay->elem)
        return sp_error_set(err, SP_FORMAT,
                            "%s: bitpix is %d but datatype %s has %zu bits",
                            path, h->bitpix, nifti_datatype_name(h->datatype),
                            8 * lay->elem);
    float off = h->vox_offset;
    if (!isfinite(off) || off < (float)NIFTI1_DATA_OFFSET ||
        off > (float)NIFTI_MAX_OFFSET || off != floorf(off))
        return sp_error_set(err, SP_FORMAT,
                            "%s: vox_offset %g is invalid (must be a whole "
                            "number from 352 to %zu)",
                            path, (double)off, NIFTI_MAX_OFFSET);
    lay->offset = (size_t)off;
    /* scl_slope 0 (or not a number) means "no scaling" in NIfTI-1. */
    lay->slope = 1.0;
    lay->inter = 0.0;
    if (isfinite(h->scl_slope) && h->scl_slope != 0.0f) {
        if (!isfinite(h->scl_inter))
            return sp_error_set(err, SP_FORMAT,
                                "%s: scl_inter is not a finite number", path);
        lay->slope = h->scl_slope;
        lay->inter = h->scl_inter;
    }
    return geometry_from_header(h, path, lay->vox2ras, err);
}

/* Convert n raw values starting at voxel `first` into the volume. */
static sp_status convert_chunk(const nifti_source *src, const nifti_layout *lay,
                               int datatype, const unsigned char *buf,
                               size_t first, size_t n, sp_volume *vol,
                               sp_error *err)
{
    float *f = sp_volume_f32(vol);
    if (f) {
        chunk_to_f32(buf, n, datatype, lay->slope, lay->inter, f + first);
        return SP_OK;
    }
    uint16_t *u = sp_volume_u16(vol);
    for (size_t i = 0; i < n; i++) {
        double v = raw_value(buf, i, datatype) * lay->slope + lay->inter;
        if (!(v >= 0.0 && v <= 65535.0 && v == floor(v))) {
            size_t at = first + i;
            return sp_error_set(err, SP_FORMAT,
                                "%s: not a label map: voxel (%zu, %zu, %zu) "
                                "is %g, not an integer in 0..65535",
                                src->path, at % lay->dim[0],
                                at / lay->dim[0] % lay->dim[1],
                                at / (lay->dim[0] * lay->dim[1]), v);
        }
        u[first + i] = (uint16_t)v;
    }
    return SP_OK;
}

static sp_status read_voxels(nifti_source *src, const nifti_layout *lay,
                             int datatype, int swapped, sp_volume *vol,
                             sp_error *err)
{
    int native = swapped == !nifti_host_is_little_endian();
    int identity = lay->slope == 1.0 && lay->inter == 0.0;
    if (vol->type == SP_VOXEL_F32 && datatype == NIFTI_DT_FLOAT32 && native &&
        identity)
        return read_exact(src, vol->data, lay->count * lay->elem,
                          "voxel data", err);
    size_t per_chunk = NIFTI_CHUNK / lay->elem;
    unsigned char *buf = malloc(per_chunk * lay->elem);
    if (!buf)
        return sp_error_set(err, SP_NOMEM,
                            "%s: cannot allocate a read buffer", src->path);
    sp_status st = SP_OK;
    for (size_t first = 0; first < lay->count && st == SP_OK;
         first += per_chunk) {
        size_t n = lay->count - first < per_chunk ? lay->count - first
                                                  : per_chunk;
        st = read_exact(src, buf, n * lay->elem, "voxel data", err);
        if (st != SP_OK)
            break;
        if (!native && lay->elem > 1)
            swap_bytes(buf, n, lay->elem);
        st = convert_chunk(src, lay, datatype, buf, first, n, vol, err);
    }
    free(buf);
    return st;
}

static sp_status open_source(nifti_source *src, const char *path,
                             sp_error *err)
{
    src->path = path;
    src->gz = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return sp_error_set(err, e == ENOENT ? SP_NOINPUT : SP_IO,
                            "%s: cannot open: %s", path, strerror(e));
    }
    if (fstat(fd, &src->st) != 0 || !S_ISREG(src->st.st_mode)) {
        close(fd);
        return sp_error_set(err, SP_NOINPUT, "%s: not a regular file", path);
    }
    src->gz = gzdopen(fd, "rb");
    if (!src->gz) {
        close(fd);
        return sp_error_set(err, SP_NOMEM, "%s: cannot start a zlib reader",
                            path);
    }
    gzbuffer(src->gz, 256 * 1024);
    return SP_OK;
}

static sp_status skip_to_data(nifti_source *src, const nifti_layout *lay,
                              sp_error *err)
{
    unsigned char scratch[4096];
    size_t left = lay->offset - NIFTI1_HEADER_SIZE;
    while (left > 0) {
        size_t n = left < sizeof scratch ? left : sizeof scratch;
        sp_status st = read_exact(src, scratch, n,
                                  "header extensions before vox_offset", err);
        if (st != SP_OK)
            return st;
        left -= n;
    }
    size_t need = lay->offset + lay->count * lay->elem;
    if (gzdirect(src->gz)) {
        /* Uncompressed: the size is known, so refuse before allocating. */
        if ((uintmax_t)src->st.st_size < (uintmax_t)need)
            return sp_error_set(err, SP_FORMAT,
                                "%s: file is truncated: %jd bytes, the "
                                "header needs %zu",
                                src->path, (intmax_t)src->st.st_size, need);
    } else if ((uintmax_t)need / DEFLATE_MAX_RATIO >
               (uintmax_t)src->st.st_size) {
        /* Deflate never inflates more than 1032:1, so a small .nii.gz
         * whose header declares a huge volume cannot hold it: refuse
         * before allocating (a decompression bomb, or a lying header). */
        return sp_error_set(err, SP_FORMAT,
                            "%s: the header declares %zu bytes, more than "
                            "a gzip file of %jd bytes can hold",
                            src->path, need, (intmax_t)src->st.st_size);
    }
    return SP_OK;
}

/* sp_volume_alloc's report, with the file's name in front. */
static sp_status alloc_named(sp_volume *vol, sp_voxel_type type,
                             const nifti_layout *lay, const char *path,
                             sp_error *err)
{
    sp_error inner;
    sp_status st = sp_volume_alloc(vol, type, lay->dim[0], lay->dim[1],
                                   lay->dim[2], &inner);
    if (st != SP_OK)
        return sp_error_set(err, st, "%s: %s", path, inner.message);
    return SP_OK;
}

sp_status sp_nifti_read(const char *path, int as_labels, sp_volume *vol,
                        sp_error *err)
{
    memset(vol, 0, sizeof *vol);
    if (!path)
        return sp_error_set(err, SP_USAGE, "no NIfTI path given");
    nifti_source src;
    sp_status st = open_source(&src, path, err);
    if (st != SP_OK)
        return st;
    unsigned char raw[NIFTI1_HEADER_SIZE];
    nifti_header hdr;
    nifti_layout lay;
    int swapped = 0;
    st = read_exact(&src, raw, sizeof raw, "348-byte header", err);
    if (st == SP_OK)
        st = nifti_header_decode(raw, path, &hdr, &swapped, err);
    if (st == SP_OK)
        st = layout_from_header(&hdr, path, &lay, err);
    if (st == SP_OK)
        st = skip_to_data(&src, &lay, err);
    if (st == SP_OK)
        st = alloc_named(vol, as_labels ? SP_VOXEL_U16 : SP_VOXEL_F32, &lay,
                         path, err);
    if (st == SP_OK)
        st = read_voxels(&src, &lay, hdr.datatype, swapped, vol, err);
    gzclose(src.gz);
    if (st != SP_OK) {
        sp_volume_free(vol);
        return st;
    }
    double lps[4][4];
    nifti_flip_lps_ras(lay.vox2ras, lps);
    sp_volume_set_geometry(vol, lps);
    return SP_OK;
}
