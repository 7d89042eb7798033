/* JPEG 2000 (and HTJ2K) decoding of one frame with OpenJPEG, from memory.
 * DCMTK 3.6.7 has no JPEG 2000 codec. OpenJPEG's messages are captured,
 * never printed. */
#include <openjpeg.h>
#include <stdio.h>
#include <string.h>

#include "dicom_internal.h"

typedef struct mem_stream {
    const uint8_t *data;
    size_t size, pos;
} mem_stream;

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *user)
{
    mem_stream *m = user;
    if (m->pos >= m->size)
        return (OPJ_SIZE_T)-1;
    size_t left = m->size - m->pos;
    if (n > left)
        n = left;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return n;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user)
{
    mem_stream *m = user;
    if (n < 0) {
        if ((size_t)-n > m->pos)
            n = -(OPJ_OFF_T)m->pos;
    } else if ((size_t)n > m->size - m->pos) {
        n = (OPJ_OFF_T)(m->size - m->pos);
    }
    m->pos += (size_t)n;
    return n;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user)
{
    mem_stream *m = user;
    if (n < 0 || (size_t)n > m->size)
        return OPJ_FALSE;
    m->pos = (size_t)n;
    return OPJ_TRUE;
}

static void quiet(const char *msg, void *user)
{
    (void)msg;
    (void)user;
}

/* Keep the first error line for the report. */
static void keep_error(const char *msg, void *user)
{
    char *buf = user;
    if (!buf[0]) {
        snprintf(buf, 200, "%s", msg);
        size_t n = strlen(buf);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
    }
}

sp_status spd_j2k_decode(const uint8_t *data, size_t size, uint32_t rows,
                         uint32_t columns, int32_t *out, int *is_signed,
                         int *precision, sp_error *err)
{
    if (size < 4)
        return sp_error_set(err, SP_DECODE, "JPEG 2000 codestream is empty");
    /* A JP2 file starts with a signature box, a raw codestream with SOC. */
    OPJ_CODEC_FORMAT format =
        (data[0] == 0xFF && data[1] == 0x4F) ? OPJ_CODEC_J2K : OPJ_CODEC_JP2;
    char message[200] = "";
    mem_stream m = {data, size, 0};
    opj_codec_t *codec = opj_create_decompress(format);
    opj_stream_t *stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, 1);
    opj_image_t *image = NULL;
    sp_status st = SP_OK;
    if (!codec || !stream) {
        st = sp_error_set(err, SP_NOMEM, "cannot create a JPEG 2000 decoder");
        goto done;
    }
    opj_set_info_handler(codec, quiet, NULL);
    opj_set_warning_handler(codec, quiet, NULL);
    opj_set_error_handler(codec, keep_error, message);
    opj_stream_set_user_data(stream, &m, NULL);
    opj_stream_set_user_data_length(stream, size);
    opj_stream_set_read_function(stream, mem_read);
    opj_stream_set_skip_function(stream, mem_skip);
    opj_stream_set_seek_function(stream, mem_seek);
    opj_dparameters_t params;
    opj_set_default_decoder_parameters(&params);
    if (!opj_setup_decoder(codec, &params) ||
        !opj_read_header(stream, codec, &image) ||
        !opj_decode(codec, stream, image) ||
        !opj_end_decompress(codec, stream)) {
        st = sp_error_set(err, SP_DECODE, "JPEG 2000 decoding failed: %s",
                          message[0] ? message : "corrupt codestream");
        goto done;
    }
    if (image->numcomps != 1) {
        st = sp_error_set(err, SP_UNSUPPORTED,
                          "JPEG 2000 image has %u components, expected 1",
                          image->numcomps);
        goto done;
    }
    const opj_image_comp_t *c = &image->comps[0];
    if (c->w != columns || c->h != rows || !c->data) {
        st = sp_error_set(err, SP_DECODE,
                          "JPEG 2000 image is %ux%u, the header says %ux%u",
                          c->w, c->h, columns, rows);
        goto done;
    }
    memcpy(out, c->data, (size_t)rows * columns * sizeof *out);
    *is_signed = (int)c->sgnd;
    *precision = (int)c->prec;
done:
    if (image)
        opj_image_destroy(image);
    if (stream)
        opj_stream_destroy(stream);
    if (codec)
        opj_destroy_codec(codec);
    return st;
}
