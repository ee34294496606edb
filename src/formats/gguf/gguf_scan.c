/*
 * gguf_scan.c - GGUF parser (versions 1, 2 and 3, little- and big-endian).
 *
 *   header   "GGUF" | version: u32 | tensor_count | metadata_kv_count
 *   kv[]     key: string | value_type: u32 | value
 *   value    u8 | i8 | u16 | i16 | u32 | i32 | f32 | bool (one byte, 0 or 1)
 *            | string | u64 | i64 | f64
 *            | array: element_type: u32 | count | value[count]   (arrays nest)
 *   string   length | bytes (UTF-8, not NUL-terminated)
 *   tensor[] name: string (at most 64 bytes) | n_dims: u32 (at most 4)
 *            | dims[n_dims] | ggml_type: u32 | offset: u64
 *   padding  to ALIGNMENT (metadata general.alignment: u32, default 32)
 *   data     tensor bytes; each tensor at data + offset, offsets multiples
 *            of ALIGNMENT, in order, each tensor padded to ALIGNMENT
 *
 *   counts, lengths and dims: u32 in version 1, u64 from version 2 on.
 *   Version 3 files may be big-endian: the version then reads 0x03000000.
 *
 * Specification: docs/gguf.md in https://github.com/ggml-org/ggml; the
 * reference reader is gguf_init_from_file in ggml/src/gguf.cpp, whose
 * checks are followed here (duplicate keys and tensor names, dims <= 4,
 * row length a multiple of the type's block size, tensors laid out in order,
 * power-of-two alignment up to 1 MiB). Parsed by hand with the bounded
 * cursor: no library reads GGUF without allocating what the file declares.
 * Every count and length is compared with the bytes left *before* it is
 * used, so an absurd tensor count, key count or string length is reported,
 * never allocated. Tensor data is never read: the time taken depends on the
 * header, not the weights.
 *
 * Every string value (and every string of an array, at any depth) goes
 * through the secrets check, key by key, so a finding names its key
 * (details.key). The tokenizer vocabulary (tokenizer.ggml.tokens, .merges,
 * .added_tokens) is checked as vocabulary files are: credentials only, since
 * it holds whatever its corpus held.
 */
#include "gguf_scan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/template_check.h"
#include "../../repo/secrets.h"
#include "../../util/checked.h"
#include "../../util/cursor.h"
#include "../../util/strbuf.h"

enum {
    /* Real models have tens of keys and at most a few thousand tensors;
     * a million of either is far beyond anything published. */
    GGUF_MAX_KV = 1 << 20,
    GGUF_MAX_TENSORS = 1 << 20,
    GGUF_MAX_DEPTH = 8,   /* arrays of arrays: real files nest at most once */
    GGUF_MAX_DIMS = 4,    /* GGML_MAX_DIMS */
    GGUF_MAX_NAME = 64,   /* tensor names, per the specification */
    GGUF_MAX_KEY = 65535, /* key length, per the specification */
    GGUF_MAX_ALIGNMENT = 1 << 20,
    GGUF_DEFAULT_ALIGNMENT = 32,
    TIME_CHECK_EVERY = 1 << 16, /* values read between checks of the time limit */
    KEY_SHOWN = 120,
    /* the strings of one array are checked for secrets in batches of this
     * many bytes (a real vocabulary is a few MB) */
    SECRET_BATCH = 16 << 20,
    /* keys reported for secrets before the check stops (a report bomb of
     * a million keys each holding a token would otherwise follow) */
    SECRET_MAX_KEYS = 64,
};

enum gguf_value_type {
    GT_UINT8, GT_INT8, GT_UINT16, GT_INT16, GT_UINT32, GT_INT32, GT_FLOAT32, GT_BOOL,
    GT_STRING, GT_ARRAY, GT_UINT64, GT_INT64, GT_FLOAT64, GT_COUNT,
};

static const char *const value_type_names[GT_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool",  "string", "array", "uint64", "int64", "float64",
};
static const unsigned value_sizes[GT_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* ggml_type: elements per block and bytes per block (ggml.c type_traits).
 * 4 and 5 were removed before GGUF existed; 31-33 and 36-38 are repacked
 * layouts that some 2024 files carry, with the sizes of Q4_0 and IQ4_NL. */
static const struct {
    const char *name;
    uint32_t block, size;
} ggml_types[] = {
    [0] = {"F32", 1, 4},          [1] = {"F16", 1, 2},        [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},       [6] = {"Q5_0", 32, 22},     [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},       [9] = {"Q8_1", 32, 36},     [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110},    [12] = {"Q4_K", 256, 144},  [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},    [15] = {"Q8_K", 256, 292},  [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74},   [18] = {"IQ3_XXS", 256, 98}, [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},    [21] = {"IQ3_S", 256, 110}, [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136},  [24] = {"I8", 1, 1},        [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},         [27] = {"I64", 1, 8},       [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56},    [30] = {"BF16", 1, 2},      [31] = {"Q4_0_4_4", 32, 18},
    [32] = {"Q4_0_4_8", 32, 18},  [33] = {"Q4_0_8_8", 32, 18}, [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},    [36] = {"IQ4_NL_4_4", 32, 18}, [37] = {"IQ4_NL_4_8", 32, 18},
    [38] = {"IQ4_NL_8_8", 32, 18}, [39] = {"MXFP4", 32, 17},  [40] = {"NVFP4", 64, 36},
    [41] = {"Q1_0", 128, 18},     [42] = {"Q2_0", 64, 18},
};
#define GGML_TYPES (sizeof(ggml_types) / sizeof(ggml_types[0]))

typedef struct span {
    const uint8_t *p;
    size_t n;
    size_t at; /* file offset of the item it names */
} span;

typedef struct tensor_info {
    span name;
    uint64_t offset, nbytes;
} tensor_info;

typedef struct gguf_reader {
    ms_scan_ctx *ctx;
    ms_cursor cur;
    uint32_t version;
    bool big_endian;
    bool stopped; /* a problem or a limit was reported: parsing ends */
    uint64_t steps;
    uint64_t alignment;
    char key[KEY_SHOWN + 1]; /* the key being read, for messages */
    /* the secrets check of the key being read */
    bool secret_on;         /* check this key's strings */
    bool secret_vocabulary; /* a tokenizer vocabulary: credentials only */
    bool secret_hit;        /* this key produced a finding */
    bool secret_limit;      /* SECRET_MAX_KEYS reached and reported */
    bool nomem;             /* memory ran out in the secrets check */
    unsigned secret_keys;   /* keys that produced findings */
    ms_strbuf secret_batch; /* the strings of an array, newline-separated */
    secrets_scratch *secret_scratch;
    char secret_origin[KEY_SHOWN + 48];
} gguf_reader;

static void malformed(gguf_reader *g, size_t at, const char *fmt, ...) MS_PRINTF(3, 4);

static void malformed(gguf_reader *g, size_t at, const char *fmt, ...)
{
    if (g->stopped)
        return;
    g->stopped = true;
    ms_strbuf sb;
    ms_strbuf_init(&sb, 2048);
    va_list ap;
    va_start(ap, fmt);
    ms_strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    const char *problem = sb.data ? sb.data : "";
    ms_report_add(g->ctx->report, "GGUF-MALFORMED", g->ctx->location,
                  json_pack("{s:I, s:I, s:s, s:s}", "offset", (json_int_t)at, "version",
                            (json_int_t)g->version, "byte_order",
                            g->big_endian ? "big-endian" : "little-endian", "problem", problem),
                  "The GGUF file is malformed at byte %zu: %s. GGML loaders refuse or misread "
                  "such a file, and counts or lengths that do not fit the file are how GGUF "
                  "parsers are attacked (huge allocations, reads past the end).",
                  at, problem);
    ms_strbuf_free(&sb);
}

static void limit(gguf_reader *g, const char *what, uint64_t value, uint64_t max)
{
    if (g->stopped)
        return;
    g->stopped = true;
    ms_report_add(g->ctx->report, "SCAN-LIMIT", g->ctx->location,
                  json_pack("{s:s, s:I, s:I}", "limit", what, "value",
                            (json_int_t)(value > INT64_MAX ? INT64_MAX : value), "max",
                            (json_int_t)max),
                  "The GGUF header declares %llu %s, above the limit of %llu; the rest of the "
                  "file was not analysed.",
                  (unsigned long long)value, what, (unsigned long long)max);
}

static bool time_left(gguf_reader *g)
{
    if (++g->steps % TIME_CHECK_EVERY == 0 && !ms_budget_time_left(g->ctx))
        g->stopped = true;
    return !g->stopped;
}

static uint32_t rd_u32(gguf_reader *g)
{
    if (!g->big_endian)
        return ms_cursor_u32le(&g->cur);
    const uint8_t *p = ms_cursor_take(&g->cur, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static uint64_t rd_u64(gguf_reader *g)
{
    if (!g->big_endian)
        return ms_cursor_u64le(&g->cur);
    const uint8_t *p = ms_cursor_take(&g->cur, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* counts, lengths and dims: u32 in version 1 */
static uint64_t rd_count(gguf_reader *g)
{
    return g->version == 1 ? rd_u32(g) : rd_u64(g);
}

static unsigned count_size(const gguf_reader *g) { return g->version == 1 ? 4 : 8; }

/* Reads a string; `what` names it in messages. */
static bool rd_string(gguf_reader *g, const char *what, span *out)
{
    size_t at = g->cur.off;
    uint64_t n = rd_count(g);
    if (g->cur.error) {
        malformed(g, at, "the file ends inside the length of %s", what);
        return false;
    }
    if (n > ms_cursor_left(&g->cur)) {
        malformed(g, at, "%s declares a length of %llu bytes, past the end of the file (%zu "
                  "bytes left)",
                  what, (unsigned long long)n, ms_cursor_left(&g->cur));
        return false;
    }
    out->at = at;
    out->n = (size_t)n;
    out->p = ms_cursor_take(&g->cur, (size_t)n);
    return true;
}

static bool span_is(const span *k, const char *text)
{
    size_t n = strlen(text);
    return k->n == n && memcmp(k->p, text, n) == 0;
}

static void secret_check(gguf_reader *g, const uint8_t *p, size_t n)
{
    ms_report *r = g->ctx->report;
    size_t before = r->nfindings;
    if (secrets_scan_metadata(r, g->ctx->location, g->key, p, n, g->secret_origin,
                              g->secret_vocabulary, g->secret_scratch) == MS_NOMEM)
        g->nomem = true;
    if (r->nfindings > before)
        g->secret_hit = true;
}

static void secret_flush(gguf_reader *g)
{
    ms_strbuf *b = &g->secret_batch;
    if (b->nomem)
        g->nomem = true;
    if (b->len)
        secret_check(g, (const uint8_t *)b->data, b->len);
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Before the value of `key` (g->key is set): its strings are checked unless
 * the limit of keys with findings was reached. */
static void secret_begin(gguf_reader *g, const span *key)
{
    g->secret_on = g->secret_keys < SECRET_MAX_KEYS;
    g->secret_hit = false;
    g->secret_vocabulary = span_is(key, "tokenizer.ggml.tokens") ||
                           span_is(key, "tokenizer.ggml.merges") ||
                           span_is(key, "tokenizer.ggml.added_tokens");
    snprintf(g->secret_origin, sizeof(g->secret_origin), "the GGUF metadata value '%s'",
             g->key);
}

/* One string of the key's value: a lone string is checked where it lies in
 * the file, the strings of an array are batched (none is ever split). */
static void secret_add(gguf_reader *g, const span *s, bool in_array)
{
    if (s->n == 0)
        return;
    if (!g->secret_on) {
        if (!g->secret_limit)
            ms_report_add(g->ctx->report, "SCAN-LIMIT", g->ctx->location,
                          json_pack("{s:s, s:I, s:s}", "limit",
                                    "GGUF metadata values with secrets", "max",
                                    (json_int_t)SECRET_MAX_KEYS, "key", g->key),
                          "%d GGUF metadata values already hold credentials or personal data; "
                          "the strings of '%s' and of the keys after it were not checked for "
                          "more.",
                          SECRET_MAX_KEYS, g->key);
        g->secret_limit = true;
        return;
    }
    ms_strbuf *b = &g->secret_batch;
    if (!in_array || s->n >= SECRET_BATCH) {
        secret_check(g, s->p, s->n);
        return;
    }
    if (b->len + s->n + 1 > SECRET_BATCH)
        secret_flush(g);
    ms_strbuf_append(b, (const char *)s->p, s->n);
    ms_strbuf_append(b, "\n", 1);
}

/* After the value (read whole or not: what was read is checked). */
static void secret_end(gguf_reader *g)
{
    if (!g->secret_on)
        return;
    secret_flush(g);
    if (g->secret_hit)
        g->secret_keys++;
}

static bool is_template_key(const span *k)
{
    static const char base[] = "tokenizer.chat_template";
    size_t m = sizeof(base) - 1;
    return k->n >= m && memcmp(k->p, base, m) == 0 && (k->n == m || k->p[m] == '.');
}

static bool rd_value(gguf_reader *g, uint32_t type, unsigned depth, bool template_key)
{
    if (!time_left(g))
        return false;
    size_t at = g->cur.off;
    if (type >= GT_COUNT) {
        malformed(g, at, "the value of '%s' has the unknown type %u", g->key, type);
        return false;
    }
    if (type == GT_STRING) {
        span s;
        char what[KEY_SHOWN + 32];
        snprintf(what, sizeof(what), "the value of '%s'", g->key);
        if (!rd_string(g, what, &s))
            return false;
        if (template_key)
            template_check(g->ctx, g->key, s.p, s.n, TEMPLATE_DECLARED);
        secret_add(g, &s, depth > 0);
        return true;
    }
    if (type == GT_BOOL) {
        uint8_t b = ms_cursor_u8(&g->cur);
        if (g->cur.error)
            malformed(g, at, "the file ends inside the value of '%s'", g->key);
        else if (b > 1)
            malformed(g, at, "the boolean value of '%s' is %u; only 0 and 1 are valid", g->key,
                      b);
        return !g->stopped;
    }
    if (type != GT_ARRAY) {
        if (!ms_cursor_skip(&g->cur, value_sizes[type]))
            malformed(g, at, "the file ends inside the %s value of '%s'", value_type_names[type],
                      g->key);
        return !g->stopped;
    }
    uint32_t elem = rd_u32(g);
    uint64_t count = rd_count(g);
    if (g->cur.error) {
        malformed(g, at, "the file ends inside the array header of '%s'", g->key);
        return false;
    }
    if (elem >= GT_COUNT) {
        malformed(g, at, "the array in '%s' has the unknown element type %u", g->key, elem);
        return false;
    }
    if (depth + 1 > GGUF_MAX_DEPTH) {
        limit(g, "levels of nested arrays", depth + 1, GGUF_MAX_DEPTH);
        return false;
    }
    uint64_t min = elem == GT_STRING  ? count_size(g)
                   : elem == GT_ARRAY ? 4 + count_size(g)
                                      : value_sizes[elem];
    size_t left = ms_cursor_left(&g->cur);
    if (count > left / min) {
        malformed(g, at, "the array in '%s' declares %llu %s elements (at least %llu bytes each) "
                  "but only %zu bytes are left",
                  g->key, (unsigned long long)count, value_type_names[elem],
                  (unsigned long long)min, left);
        return false;
    }
    if (elem != GT_STRING && elem != GT_ARRAY && elem != GT_BOOL) {
        ms_cursor_skip(&g->cur, count * min); /* fits: checked above */
        return true;
    }
    for (uint64_t i = 0; i < count; i++)
        if (!rd_value(g, elem, depth + 1, template_key))
            return false;
    return true;
}

static int span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c)
        return c;
    return a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
}

/* a span as a C string for messages (shortened, sanitized) */
static void span_text(const span *s, char *out, size_t outsz)
{
    size_t n = s->n < outsz - 1 ? s->n : outsz - 1;
    if (n)
        memcpy(out, s->p, n);
    out[n] = '\0';
    ms_sanitize_text(out);
}

/* Duplicate names among `n` spans (sorted in place); reports the first. */
static void check_duplicates(gguf_reader *g, span *names, size_t n, const char *what)
{
    if (n > 1)
        qsort(names, n, sizeof(*names), span_cmp);
    for (size_t i = 1; i < n; i++) {
        if (span_cmp(&names[i - 1], &names[i]) == 0) {
            char name[KEY_SHOWN + 1];
            span_text(&names[i], name, sizeof(name));
            malformed(g, names[i].at > names[i - 1].at ? names[i].at : names[i - 1].at,
                      "the %s '%s' appears more than once", what, name);
            return;
        }
    }
}

static bool read_kv(gguf_reader *g, uint64_t i, span *key)
{
    char what[64];
    snprintf(what, sizeof(what), "the key of metadata entry %llu", (unsigned long long)i);
    if (!rd_string(g, what, key))
        return false;
    if (key->n == 0 || key->n > GGUF_MAX_KEY) {
        malformed(g, key->at, "the key of metadata entry %llu is %zu bytes long (1 to %d "
                  "allowed)",
                  (unsigned long long)i, key->n, GGUF_MAX_KEY);
        return false;
    }
    for (size_t k = 0; k < key->n; k++) {
        if (key->p[k] < 0x20 || key->p[k] > 0x7e) {
            malformed(g, key->at + count_size(g) + k,
                      "the key of metadata entry %llu is not printable ASCII (byte 0x%02x)",
                      (unsigned long long)i, key->p[k]);
            return false;
        }
    }
    span_text(key, g->key, sizeof(g->key));
    size_t at = g->cur.off;
    uint32_t type = rd_u32(g);
    if (g->cur.error) {
        malformed(g, at, "the file ends inside the value type of '%s'", g->key);
        return false;
    }
    if (key->n == 17 && memcmp(key->p, "general.alignment", 17) == 0) {
        if (type != GT_UINT32) {
            malformed(g, at, "general.alignment is a %s; it must be a uint32",
                      type < GT_COUNT ? value_type_names[type] : "value of unknown type");
            return false;
        }
        at = g->cur.off;
        uint32_t a = rd_u32(g);
        if (g->cur.error)
            malformed(g, at, "the file ends inside general.alignment");
        else if (a == 0 || (a & (a - 1)) != 0 || a > GGUF_MAX_ALIGNMENT)
            malformed(g, at, "general.alignment is %u; it must be a power of two up to %d", a,
                      GGUF_MAX_ALIGNMENT);
        g->alignment = a;
        return !g->stopped;
    }
    secret_begin(g, key);
    bool ok = rd_value(g, type, 0, is_template_key(key));
    secret_end(g);
    return ok;
}

static bool read_tensor_info(gguf_reader *g, uint64_t i, tensor_info *t)
{
    char what[64];
    snprintf(what, sizeof(what), "the name of tensor %llu", (unsigned long long)i);
    if (!rd_string(g, what, &t->name))
        return false;
    char name[GGUF_MAX_NAME + 8];
    span_text(&t->name, name, sizeof(name));
    if (t->name.n > GGUF_MAX_NAME) {
        malformed(g, t->name.at, "the name of tensor %llu is %zu bytes long; at most %d are "
                  "allowed",
                  (unsigned long long)i, t->name.n, GGUF_MAX_NAME);
        return false;
    }
    size_t at = g->cur.off;
    uint32_t ndims = rd_u32(g);
    if (g->cur.error) {
        malformed(g, at, "the file ends inside tensor '%s'", name);
        return false;
    }
    if (ndims > GGUF_MAX_DIMS) {
        malformed(g, at, "tensor '%s' has %u dimensions; at most %d are allowed", name, ndims,
                  GGUF_MAX_DIMS);
        return false;
    }
    uint64_t ne[GGUF_MAX_DIMS] = {1, 1, 1, 1};
    for (uint32_t d = 0; d < ndims; d++) {
        at = g->cur.off;
        ne[d] = rd_count(g);
        if (g->cur.error) {
            malformed(g, at, "the file ends inside the dimensions of tensor '%s'", name);
            return false;
        }
        if (ne[d] > INT64_MAX) {
            malformed(g, at, "dimension %u of tensor '%s' is %llu, negative as the int64 GGML "
                      "reads",
                      d, name, (unsigned long long)ne[d]);
            return false;
        }
    }
    at = g->cur.off;
    uint32_t type = rd_u32(g);
    t->offset = rd_u64(g);
    if (g->cur.error) {
        malformed(g, at, "the file ends inside tensor '%s'", name);
        return false;
    }
    if (type >= GGML_TYPES || ggml_types[type].block == 0) {
        malformed(g, at, "tensor '%s' has the unknown ggml type %u", name, type);
        return false;
    }
    uint64_t block = ggml_types[type].block;
    if (ne[0] % block != 0) {
        malformed(g, at, "tensor '%s' has rows of %llu elements, not a multiple of the %s block "
                  "size %llu",
                  name, (unsigned long long)ne[0], ggml_types[type].name,
                  (unsigned long long)block);
        return false;
    }
    uint64_t bytes = ne[0] / block;
    bool ok = ms_mul_u64(bytes, ggml_types[type].size, &bytes) && ms_mul_u64(bytes, ne[1], &bytes) &&
              ms_mul_u64(bytes, ne[2], &bytes) && ms_mul_u64(bytes, ne[3], &bytes);
    if (!ok) {
        malformed(g, at, "the size of tensor '%s' (%llu x %llu x %llu x %llu %s) overflows 64 "
                  "bits",
                  name, (unsigned long long)ne[0], (unsigned long long)ne[1],
                  (unsigned long long)ne[2], (unsigned long long)ne[3], ggml_types[type].name);
        return false;
    }
    t->nbytes = bytes;
    return true;
}

static uint64_t pad_to(uint64_t v, uint64_t a, bool *ok)
{
    uint64_t r = v % a;
    uint64_t out = v;
    if (r && !ms_add_u64(v, a - r, &out))
        *ok = false;
    return out;
}

/* Tensor data inside the file, aligned and in order (as the reference
 * reader requires: each tensor starts where the previous one, padded to
 * ALIGNMENT, ends). */
static void check_tensor_data(gguf_reader *g, tensor_info *t, uint64_t n, size_t len)
{
    size_t at = g->cur.off;
    bool ok = true;
    uint64_t data = n ? pad_to(at, g->alignment, &ok) : at;
    if (!ok || data > len) {
        malformed(g, at, "the tensor data section would start at byte %llu, past the end of "
                  "the file (%zu bytes)",
                  (unsigned long long)data, len);
        return;
    }
    uint64_t expected = 0;
    for (uint64_t i = 0; i < n && !g->stopped; i++) {
        char name[GGUF_MAX_NAME + 8];
        span_text(&t[i].name, name, sizeof(name));
        uint64_t start, end;
        if (!ms_add_u64(data, t[i].offset, &start) || !ms_add_u64(start, t[i].nbytes, &end) ||
            end > len) {
            malformed(g, t[i].name.at, "the data of tensor '%s' (%llu bytes at data offset "
                      "%llu) runs past the end of the file (%zu bytes)",
                      name, (unsigned long long)t[i].nbytes, (unsigned long long)t[i].offset,
                      len);
            return;
        }
        if (t[i].offset % g->alignment != 0) {
            malformed(g, t[i].name.at, "the data offset %llu of tensor '%s' is not a multiple "
                      "of the alignment %llu",
                      (unsigned long long)t[i].offset, name, (unsigned long long)g->alignment);
            return;
        }
        if (t[i].offset != expected) {
            malformed(g, t[i].name.at, "tensor '%s' starts at data offset %llu where %llu was "
                      "expected: tensors must follow each other in order (%s)",
                      name, (unsigned long long)t[i].offset, (unsigned long long)expected,
                      t[i].offset < expected ? "this one overlaps the previous one"
                                             : "a gap precedes it");
            return;
        }
        ok = true;
        uint64_t padded = pad_to(t[i].nbytes, g->alignment, &ok);
        if (!ok || !ms_add_u64(expected, padded, &expected)) {
            malformed(g, t[i].name.at, "the size of tensor '%s' overflows 64 bits", name);
            return;
        }
    }
}

ms_status gguf_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    gguf_reader g;
    memset(&g, 0, sizeof(g));
    g.ctx = ctx;
    g.cur = ms_cursor_make(data, len);
    g.alignment = GGUF_DEFAULT_ALIGNMENT;
    ms_cursor_skip(&g.cur, 4); /* "GGUF", checked by the probe */
    uint32_t v = ms_cursor_u32le(&g.cur);
    uint32_t swapped = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
    if (v >= 1 && v <= 3) {
        g.version = v;
    } else if (swapped == 3) {
        g.version = 3;
        g.big_endian = true;
    } else if (!g.cur.error) {
        malformed(&g, 4, "unsupported version %u (versions 1 to 3 exist)", v);
        return MS_OK;
    }
    uint64_t ntensors = rd_count(&g);
    uint64_t nkv = rd_count(&g);
    if (g.cur.error) {
        malformed(&g, g.cur.len < 8 ? 4 : 8, "the file (%zu bytes) ends inside the header", len);
        return MS_OK;
    }
    size_t left = ms_cursor_left(&g.cur);
    uint64_t kv_min = count_size(&g) + 4 + 1;   /* key length, type, smallest value */
    uint64_t ti_min = count_size(&g) + 4 + 4 + 8; /* name length, n_dims, type, offset */
    if (nkv > left / kv_min || ntensors > left / ti_min) {
        bool kv = nkv > left / kv_min;
        malformed(&g, kv ? 8 + count_size(&g) : 8,
                  "the header declares %llu %s, which need at least %llu bytes each, but only "
                  "%zu bytes follow the header",
                  (unsigned long long)(kv ? nkv : ntensors),
                  kv ? "metadata key/value pairs" : "tensors",
                  (unsigned long long)(kv ? kv_min : ti_min), left);
        return MS_OK;
    }
    if (nkv > GGUF_MAX_KV) {
        limit(&g, "metadata key/value pairs", nkv, GGUF_MAX_KV);
        return MS_OK;
    }
    if (ntensors > GGUF_MAX_TENSORS) {
        limit(&g, "tensors", ntensors, GGUF_MAX_TENSORS);
        return MS_OK;
    }
    span *keys = malloc((nkv ? nkv : 1) * sizeof(*keys));
    tensor_info *tensors = malloc((ntensors ? ntensors : 1) * sizeof(*tensors));
    span *names = malloc((ntensors ? ntensors : 1) * sizeof(*names));
    if (!keys || !tensors || !names) {
        free(keys);
        free(tensors);
        free(names);
        return MS_NOMEM;
    }
    uint64_t got = 0;
    ms_strbuf_init(&g.secret_batch, SECRET_BATCH + 1);
    g.secret_scratch = secrets_scratch_new();
    while (got < nkv && read_kv(&g, got, &keys[got]))
        got++;
    ms_strbuf_free(&g.secret_batch);
    secrets_scratch_free(g.secret_scratch);
    if (!g.stopped)
        check_duplicates(&g, keys, (size_t)got, "metadata key");
    uint64_t nt = 0;
    while (!g.stopped && nt < ntensors && time_left(&g) && read_tensor_info(&g, nt, &tensors[nt]))
        nt++;
    if (!g.stopped)
        check_tensor_data(&g, tensors, ntensors, len);
    if (!g.stopped) {
        for (uint64_t i = 0; i < ntensors; i++)
            names[i] = tensors[i].name;
        check_duplicates(&g, names, (size_t)ntensors, "tensor name");
    }
    free(keys);
    free(tensors);
    free(names);
    return g.nomem ? MS_NOMEM : MS_OK; /* the verdict travels in the findings */
}
