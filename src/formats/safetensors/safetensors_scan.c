/*
 * safetensors_scan.c - safetensors header validation.
 *
 *   0          8                    8+N                              end
 *   +----------+--------------------+--------------------------------+
 *   | N: u64   | header: N bytes of | data area: the tensors' bytes, |
 *   | little-  | UTF-8 JSON, padded | back to back                   |
 *   | endian   | with spaces        |                                |
 *   +----------+--------------------+--------------------------------+
 *
 *   header := { "__metadata__": { "<str>": "<str>", ... },     optional
 *               "<tensor name>": { "dtype": "BF16",
 *                                  "shape": [4096, 4096],
 *                                  "data_offsets": [begin, end] },
 *               ... }
 *
 *   begin and end are relative to the data area. Sorted by begin, the spans
 *   tile [0, data size) exactly - no gap, no overlap, nothing after the last
 *   one - and end - begin = prod(shape) * bits(dtype) / 8.
 *
 * Specification: https://github.com/huggingface/safetensors (README,
 * "Format"; safetensors/src/tensor.rs: read_metadata, Metadata::validate,
 * Dtype::bitsize). The header is parsed with jansson as strict JSON
 * (duplicate keys, NaN/Infinity, trailing garbage and invalid UTF-8 are
 * refused); the layout rules are checked by hand here, with checked
 * arithmetic. Stricter than the reference loader: a tensor entry may hold
 * only dtype, shape and data_offsets (serde ignores other keys) and the
 * header must start with '{'. The tensor data itself is never read.
 */
#include "safetensors_scan.h"

#include <stdlib.h>
#include <string.h>

#include "../../util/checked.h"
#include "../../util/cursor.h"
#include "../../util/strbuf.h"

/* every dtype of the reference implementation, with its size in bits */
static const struct {
    const char *name;
    unsigned bits;
} dtypes[] = {
    {"BOOL", 8},         {"F4", 4},           {"F6_E2M3", 6},  {"F6_E3M2", 6},
    {"U8", 8},           {"I8", 8},           {"F8_E5M2", 8},  {"F8_E4M3", 8},
    {"F8_E8M0", 8},      {"F8_E4M3FNUZ", 8},  {"F8_E5M2FNUZ", 8}, {"I16", 16},
    {"U16", 16},         {"F16", 16},         {"BF16", 16},    {"I32", 32},
    {"U32", 32},         {"F32", 32},         {"C64", 64},     {"F64", 64},
    {"I64", 64},         {"U64", 64},
};

enum { NAME_SHOWN = 120, DIMS_SHOWN = 8 };

typedef struct st_tensor {
    const char *name;
    uint64_t begin, end;
} st_tensor;

bool safetensors_probe(const uint8_t *d, size_t n)
{
    if (n < 9 || d[8] != '{' || d[6] != 0 || d[7] != 0)
        return false;
    ms_cursor c = ms_cursor_make(d, n);
    return ms_cursor_u64le(&c) >= 2;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "value";
}

static bool get_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* The header as a JSON object (new reference), or NULL with *problem set. */
static json_t *parse_header(const uint8_t *data, size_t len, uint64_t *hl_out, char **problem)
{
    ms_cursor c = ms_cursor_make(data, len);
    uint64_t hl = ms_cursor_u64le(&c);
    *hl_out = hl;
    if (c.error) {
        *problem = ms_strdup_printf("the file is %zu bytes, shorter than the 8-byte header "
                                    "length",
                                    len);
        return NULL;
    }
    if (hl > SAFETENSORS_MAX_HEADER) {
        *problem = ms_strdup_printf("the header length is %llu bytes, above the %llu-byte "
                                    "limit of the reference loader",
                                    (unsigned long long)hl, SAFETENSORS_MAX_HEADER);
        return NULL;
    }
    if (hl > ms_cursor_left(&c)) {
        *problem = ms_strdup_printf("the header length (%llu bytes) runs past the end of the "
                                    "file (%zu bytes follow the length field)",
                                    (unsigned long long)hl, ms_cursor_left(&c));
        return NULL;
    }
    const uint8_t *h = ms_cursor_take(&c, (size_t)hl);
    if (hl < 2 || h[0] != '{') {
        *problem = ms_strdup_printf("the %llu-byte header does not start with '{'",
                                    (unsigned long long)hl);
        return NULL;
    }
    json_error_t err;
    json_t *doc = json_loadb((const char *)h, (size_t)hl, JSON_REJECT_DUPLICATES, &err);
    if (!doc) {
        *problem = ms_strdup_printf("the header is not strict JSON: %s (at byte %lld of the "
                                    "file)",
                                    err.text, (long long)err.position + 8);
        return NULL;
    }
    if (!json_is_object(doc)) {
        *problem = ms_strdup_printf("the header is a JSON %s, not an object", json_kind(doc));
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static char *check_metadata(const json_t *m)
{
    if (json_is_null(m))
        return NULL; /* the reference reads null as "no metadata" */
    if (!json_is_object(m))
        return ms_strdup_printf("__metadata__ is a JSON %s; it must map strings to strings",
                                json_kind(m));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        if (!json_is_string(v))
            return ms_strdup_printf("__metadata__ entry '%.*s' is a JSON %s; metadata values "
                                    "must be strings",
                                    NAME_SHOWN, k, json_kind(v));
    }
    return NULL;
}

static void render_shape(const json_t *shape, ms_strbuf *sb)
{
    size_t n = json_array_size(shape);
    ms_strbuf_puts(sb, "[");
    for (size_t i = 0; i < n && i < DIMS_SHOWN; i++)
        ms_strbuf_printf(sb, "%s%lld", i ? ", " : "",
                         (long long)json_integer_value(json_array_get(shape, i)));
    if (n > DIMS_SHOWN)
        ms_strbuf_printf(sb, ", ...%zu dims", n);
    ms_strbuf_puts(sb, "]");
}

/* Validates one tensor entry; returns the problem (owned) or NULL. */
static char *check_tensor(const char *name, const json_t *v, uint64_t data_len, st_tensor *out)
{
    if (!json_is_object(v))
        return ms_strdup_printf("tensor '%.*s' is a JSON %s, not an object", NAME_SHOWN, name,
                                json_kind(v));
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        if (strcmp(k, "dtype") != 0 && strcmp(k, "shape") != 0 && strcmp(k, "data_offsets") != 0)
            return ms_strdup_printf("tensor '%.*s' has an unexpected key '%.*s' (only dtype, "
                                    "shape and data_offsets belong there)",
                                    NAME_SHOWN, name, NAME_SHOWN, k);
    }
    const json_t *dtype = json_object_get(v, "dtype");
    const json_t *shape = json_object_get(v, "shape");
    const json_t *offs = json_object_get(v, "data_offsets");
    if (!dtype || !shape || !offs)
        return ms_strdup_printf("tensor '%.*s' lacks '%s'", NAME_SHOWN, name,
                                !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    unsigned bits = 0;
    const char *dname = json_string_value(dtype);
    for (size_t i = 0; dname && i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
        if (strcmp(dname, dtypes[i].name) == 0)
            bits = dtypes[i].bits;
    if (!bits)
        return dname ? ms_strdup_printf("tensor '%.*s' has the unknown dtype '%.*s'", NAME_SHOWN,
                                        name, NAME_SHOWN, dname)
                     : ms_strdup_printf("the dtype of tensor '%.*s' is a JSON %s, not a string",
                                        NAME_SHOWN, name, json_kind(dtype));
    if (!json_is_array(shape))
        return ms_strdup_printf("the shape of tensor '%.*s' is a JSON %s, not an array",
                                NAME_SHOWN, name, json_kind(shape));
    uint64_t numel = 1;
    bool overflow = false;
    for (size_t i = 0; i < json_array_size(shape); i++) {
        uint64_t dim;
        if (!get_u64(json_array_get(shape, i), &dim))
            return ms_strdup_printf("dimension %zu of tensor '%.*s' is not a non-negative "
                                    "integer",
                                    i, NAME_SHOWN, name);
        if (!ms_mul_u64(numel, dim, &numel))
            overflow = true;
    }
    uint64_t begin, end;
    if (!json_is_array(offs) || json_array_size(offs) != 2 ||
        !get_u64(json_array_get(offs, 0), &begin) || !get_u64(json_array_get(offs, 1), &end))
        return ms_strdup_printf("data_offsets of tensor '%.*s' is not a pair of non-negative "
                                "integers",
                                NAME_SHOWN, name);
    if (begin > end)
        return ms_strdup_printf("data_offsets [%llu, %llu] of tensor '%.*s' end before they "
                                "begin",
                                (unsigned long long)begin, (unsigned long long)end, NAME_SHOWN,
                                name);
    if (end > data_len)
        return ms_strdup_printf("data_offsets [%llu, %llu] of tensor '%.*s' lie outside the "
                                "%llu-byte data area",
                                (unsigned long long)begin, (unsigned long long)end, NAME_SHOWN,
                                name, (unsigned long long)data_len);
    uint64_t nbits;
    if (overflow || !ms_mul_u64(numel, bits, &nbits)) {
        ms_strbuf sb;
        ms_strbuf_init(&sb, 256);
        render_shape(shape, &sb);
        char *p = ms_strdup_printf("the size of tensor '%.*s' (shape %s, dtype %s) overflows "
                                   "64 bits",
                                   NAME_SHOWN, name, sb.data ? sb.data : "", dname);
        ms_strbuf_free(&sb);
        return p;
    }
    if (nbits % 8 != 0 || nbits / 8 != end - begin) {
        ms_strbuf sb;
        ms_strbuf_init(&sb, 256);
        render_shape(shape, &sb);
        char *p =
            nbits % 8 != 0
                ? ms_strdup_printf("tensor '%.*s' (shape %s, dtype %s) holds %llu bits, not a "
                                   "whole number of bytes",
                                   NAME_SHOWN, name, sb.data ? sb.data : "", dname,
                                   (unsigned long long)nbits)
                : ms_strdup_printf("tensor '%.*s' (shape %s, dtype %s) needs %llu bytes but "
                                   "its data_offsets [%llu, %llu] span %llu",
                                   NAME_SHOWN, name, sb.data ? sb.data : "", dname,
                                   (unsigned long long)(nbits / 8), (unsigned long long)begin,
                                   (unsigned long long)end, (unsigned long long)(end - begin));
        ms_strbuf_free(&sb);
        return p;
    }
    out->name = name;
    out->begin = begin;
    out->end = end;
    return NULL;
}

static int tensor_cmp(const void *x, const void *y)
{
    const st_tensor *a = x, *b = y;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Sorted by offset, the spans must tile the data area exactly. */
static char *check_layout(st_tensor *t, size_t n, uint64_t data_len)
{
    if (n > 1)
        qsort(t, n, sizeof(*t), tensor_cmp);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].begin < at)
            return ms_strdup_printf("tensors '%.*s' and '%.*s' overlap (bytes %llu to %llu of "
                                    "the data area)",
                                    NAME_SHOWN, t[i - 1].name, NAME_SHOWN, t[i].name,
                                    (unsigned long long)t[i].begin, (unsigned long long)at);
        if (t[i].begin > at)
            return i == 0 ? ms_strdup_printf("the data area starts with %llu bytes that belong "
                                             "to no tensor (the first, '%.*s', starts at %llu)",
                                             (unsigned long long)t[i].begin, NAME_SHOWN,
                                             t[i].name, (unsigned long long)t[i].begin)
                          : ms_strdup_printf("%llu bytes between tensors '%.*s' and '%.*s' "
                                             "belong to no tensor (a gap at %llu)",
                                             (unsigned long long)(t[i].begin - at), NAME_SHOWN,
                                             t[i - 1].name, NAME_SHOWN, t[i].name,
                                             (unsigned long long)at);
        at = t[i].end;
    }
    if (at < data_len)
        return ms_strdup_printf("%llu trailing bytes after the last tensor belong to no tensor "
                                "(the data area is %llu bytes, the tensors cover %llu)",
                                (unsigned long long)(data_len - at),
                                (unsigned long long)data_len, (unsigned long long)at);
    return NULL;
}

ms_status safetensors_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    uint64_t hl = 0;
    char *problem = NULL;
    const char *tensor = NULL;
    size_t ntensors = 0;
    st_tensor *tensors = NULL;
    json_t *doc = parse_header(data, len, &hl, &problem);
    if (doc) {
        uint64_t data_len = (uint64_t)len - 8 - hl;
        size_t n = json_object_size(doc);
        tensors = malloc((n ? n : 1) * sizeof(*tensors));
        if (!tensors) {
            json_decref(doc);
            return MS_NOMEM;
        }
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v) {
            problem = strcmp(key, "__metadata__") == 0
                          ? check_metadata(v)
                          : check_tensor(key, v, data_len, &tensors[ntensors]);
            if (problem) {
                tensor = key;
                break;
            }
            if (strcmp(key, "__metadata__") != 0)
                ntensors++;
        }
        if (!problem)
            problem = check_layout(tensors, ntensors, data_len);
    }
    if (problem) {
        json_t *d = json_pack("{s:s, s:I, s:I}", "problem", problem, "header_length",
                              (json_int_t)(hl > INT64_MAX ? INT64_MAX : hl), "file_size",
                              (json_int_t)len);
        if (d && tensor)
            json_object_set_new(d, "entry", json_string(tensor));
        ms_report_add(ctx->report, "SAFETENSORS-MALFORMED", ctx->location, d,
                      "The safetensors file is malformed: %s. A safetensors header must "
                      "describe the data exactly; loaders refuse this file or read it "
                      "differently from one another, and bytes the header does not account "
                      "for are where a payload hides from scanners.",
                      problem);
    }
    free(problem);
    free(tensors);
    json_decref(doc);
    return MS_OK; /* the verdict travels in the finding */
}

json_t *safetensors_metadata(const uint8_t *data, size_t len)
{
    uint64_t hl;
    char *problem = NULL;
    json_t *doc = parse_header(data, len, &hl, &problem);
    free(problem);
    if (!doc)
        return NULL;
    json_t *m = json_object_get(doc, "__metadata__");
    char *bad = m ? check_metadata(m) : NULL;
    json_t *out = m && !bad && json_is_object(m) ? json_incref(m) : NULL;
    free(bad);
    json_decref(doc);
    return out;
}
