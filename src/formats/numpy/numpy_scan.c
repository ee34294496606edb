/*
 * numpy_scan.c - NumPy .npy files (numpy.save, np.lib.format.write_array).
 *
 *   offset       size          field
 *   0            6             magic "\x93NUMPY"
 *   6            1             major version: 1, 2 or 3
 *   7            1             minor version: 0
 *   8            2 (v1.0)      header length HLEN, little-endian
 *                4 (v2.0/3.0)
 *   10 or 12     HLEN          header text: latin-1 (v1.0, v2.0) or UTF-8 (v3.0),
 *                              a Python literal dict, padded with spaces to a
 *                              multiple of 64 bytes and ending in '\n':
 *                              {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 *   10/12+HLEN   ...           array data:
 *                              - plain dtype: shape product x item size raw bytes,
 *                                nothing after them;
 *                              - dtype holding objects ('O' anywhere, also in a
 *                                structured dtype): a pickle, which
 *                                numpy.load(allow_pickle=True) unpickles.
 *
 *   descr := dtype string ('<f4', '|b1', '<U10', '|O', '<M8[ns]')
 *          | [(name | (title, name), descr[, shape]), ...]    structured
 *          | (descr, shape)                                   subarray
 *
 * Specification: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 * (and NEP 1, https://numpy.org/neps/nep-0001-npy-format.html).
 *
 * Parsed by hand: no C library reads the format, and the header is a Python
 * literal that numpy evaluates with ast.literal_eval. Evaluating it is out of
 * the question and string search misreads crafted headers (duplicate keys,
 * escapes, concatenated strings, 'O' hidden in a nested field), so
 * npy_header.c holds a strict, bounded reader of Python literals. A header it
 * cannot read is a finding, and if the bytes after it look like a pickle they
 * are analysed anyway (fail closed).
 */
#include "numpy_scan.h"

#include <stdio.h>
#include <string.h>

#include "npy_header.h"
#include "../pickle/pickle_scan.h"
#include "../../util/strbuf.h"

bool numpy_probe(const uint8_t *data, size_t len)
{
    return len >= 6 && memcmp(data, "\x93NUMPY", 6) == 0;
}

static void version_text(const npy_header *h, char out[8])
{
    snprintf(out, 8, "%u.%u", h->major, h->minor);
}

/* "(3, 4)", "(5,)", "()" as Python prints a shape */
static void shape_text(const npy_header *h, ms_strbuf *sb)
{
    ms_strbuf_puts(sb, "(");
    for (unsigned i = 0; i < h->ndim; i++)
        ms_strbuf_printf(sb, "%s%lld", i ? ", " : "", (long long)h->shape[i]);
    ms_strbuf_puts(sb, h->ndim == 1 ? ",)" : ")");
}

static json_t *array_details(const npy_header *h)
{
    char version[8];
    version_text(h, version);
    json_t *shape = json_array();
    for (unsigned i = 0; shape && i < h->ndim; i++)
        json_array_append_new(shape, json_integer((json_int_t)h->shape[i]));
    return json_pack("{s:s, s:s, s:o*, s:b, s:I, s:I}", "version", version, "descr", h->descr,
                     "shape", shape, "fortran_order", h->fortran_order, "itemsize",
                     (json_int_t)h->itemsize, "data_offset", (json_int_t)h->data_offset);
}

static void report_header_problem(ms_scan_ctx *ctx, const npy_header *h, const npy_error *err,
                                  bool body_as_pickle)
{
    char version[8];
    version_text(h, version);
    json_t *d = json_pack("{s:I, s:s}", "offset", (json_int_t)err->offset, "problem", err->what);
    if (d && h->major)
        json_object_set_new(d, "version", json_string(version));
    if (d && h->layout_known)
        json_object_set_new(d, "header_length", json_integer((json_int_t)h->header_len));
    if (d)
        json_object_set_new(d, "data_analysed_as_pickle", json_boolean(body_as_pickle));
    const char *then = body_as_pickle ? " The data after the header was analysed as the pickle "
                                        "numpy.load(allow_pickle=True) would unpickle."
                                      : "";
    if (err->status == MS_LIMIT) {
        if (d)
            json_object_set_new(d, "limit", json_string("npy header"));
        ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location, d,
                      "The NumPy .npy header could not be analysed at offset %zu: %s. What it "
                      "declares (dtype, shape, whether the data is a pickle) was not verified.%s",
                      err->offset, err->what, then);
        return;
    }
    ms_report_add(ctx->report, "NUMPY-MALFORMED", ctx->location, d,
                  "The NumPy .npy header is malformed at offset %zu: %s. numpy.load refuses or "
                  "misreads such a file, and a header other tools read differently is a way to "
                  "hide what the file holds.%s",
                  err->offset, err->what, then);
}

static ms_status check_plain_data(ms_scan_ctx *ctx, const npy_header *h, const uint8_t *data,
                                  size_t len)
{
    size_t body = len - (size_t)h->data_offset;
    ms_strbuf shape;
    ms_strbuf_init(&shape, 1024);
    shape_text(h, &shape);
    const char *shape_s = shape.data ? shape.data : "()";
    ms_status st = MS_OK;
    if (body < h->data_bytes) {
        json_t *d = array_details(h);
        if (d) {
            json_object_set_new(d, "expected_bytes", json_integer((json_int_t)h->data_bytes));
            json_object_set_new(d, "actual_bytes", json_integer((json_int_t)body));
        }
        ms_report_add(ctx->report, "NUMPY-MALFORMED", ctx->location, d,
                      "The NumPy .npy header declares a %s array of shape %s (%llu bytes of "
                      "data) but only %zu bytes follow the header; numpy.load fails on it.",
                      h->descr, shape_s, (unsigned long long)h->data_bytes, body);
    } else if (body > h->data_bytes) {
        size_t extra_at = (size_t)(h->data_offset + h->data_bytes);
        size_t extra = len - extra_at;
        json_t *d = array_details(h);
        if (d) {
            json_object_set_new(d, "expected_bytes", json_integer((json_int_t)h->data_bytes));
            json_object_set_new(d, "actual_bytes", json_integer((json_int_t)body));
            json_object_set_new(d, "trailing_offset", json_integer((json_int_t)extra_at));
            json_object_set_new(d, "trailing_bytes", json_integer((json_int_t)extra));
        }
        ms_report_add(ctx->report, "NUMPY-MALFORMED", ctx->location, d,
                      "%zu bytes follow the %llu bytes of data that the NumPy .npy header "
                      "declares (a %s array of shape %s), from offset %zu. numpy.load ignores "
                      "them, so they can hide content; they are analysed as '%s!trailing@%zu'.",
                      extra, (unsigned long long)h->data_bytes, h->descr, shape_s, extra_at,
                      ctx->location, extra_at);
        /* what hides there is analysed like a container member (a pickle,
         * an archive...), so a payload is named, not only counted */
        char member[40];
        snprintf(member, sizeof(member), "trailing@%zu", extra_at);
        if (ms_scan_member(ctx, member, data + extra_at, extra) == MS_NOMEM)
            st = MS_NOMEM;
    }
    ms_strbuf_free(&shape);
    return st;
}

ms_status numpy_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    npy_header h;
    npy_error err;
    ms_status st = npy_header_parse(data, len, &h, &err);
    if (st == MS_NOMEM)
        return MS_NOMEM;
    if (st != MS_OK) {
        /* Fail closed: numpy may read a header this parser refuses. When the
         * dtype named an object, or the bytes after the header look like a
         * pickle, analyse them as numpy.load(allow_pickle=True) would load
         * them. */
        bool as_pickle =
            h.layout_known && h.data_offset < len &&
            (h.object || pickle_looks_like_stream(ctx->limits, data, len, (size_t)h.data_offset));
        report_header_problem(ctx, &h, &err, as_pickle);
        if (as_pickle)
            return pickle_scan(ctx, data + h.data_offset, len - (size_t)h.data_offset);
        return MS_OK;
    }
    if (h.duplicate_key) {
        ms_strbuf shape;
        ms_strbuf_init(&shape, 1024);
        shape_text(&h, &shape);
        json_t *d = array_details(&h);
        if (d)
            json_object_set_new(d, "duplicate_key", json_string(h.duplicate_key));
        ms_report_add(ctx->report, "NUMPY-MALFORMED", ctx->location, d,
                      "The NumPy .npy header gives the key '%s' more than once. Python keeps "
                      "the last value, so numpy.load reads a %s array of shape %s; no numpy "
                      "writer produces this, and tools that read the first value see "
                      "something else.",
                      h.duplicate_key, h.descr, shape.data ? shape.data : "()");
        ms_strbuf_free(&shape);
    }
    if (!h.object)
        return check_plain_data(ctx, &h, data, len);
    /* numpy.load unpickles the data of an object array whatever its shape:
     * the pickle analyser reports it (Insecure Pickle Loading, and every
     * global it imports) at this file's location */
    if (h.data_offset >= len) {
        ms_report_add(ctx->report, "NUMPY-MALFORMED", ctx->location, array_details(&h),
                      "The NumPy .npy header declares a dtype holding Python objects (%s), "
                      "whose data numpy.load unpickles, but no data follows the header.",
                      h.descr);
        return MS_OK;
    }
    return pickle_scan(ctx, data + h.data_offset, len - (size_t)h.data_offset);
}
