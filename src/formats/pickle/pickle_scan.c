/*
 * pickle_scan.c - the pickle analyser: runs the symbolic VM over every pickle
 * stream in a buffer and turns its facts into findings through the policy.
 *
 *   buffer := stream (stream | legacy-torch storages)* [trailing bytes]
 *
 * - Streams back to back are all analysed (an appended pickle is reported).
 * - A legacy torch.save file (first stream = magic number 0x1950a86a20f9469cfc6c)
 *   has 5 pickles then raw storages: int64 element count + bytes, in sorted key
 *   order; they are skipped structurally using the persistent ids of stream 4.
 * - A broken stream is reported *and* everything seen before the break is.
 * - Bytes reaching a nested loader (pickle.loads, torch.storage._load_from_bytes
 *   ...), decoded statically through base64/hex/zlib/latin-1 where they are
 *   constants, are analysed as pickles themselves ("<loc>!pickle@<offset>").
 */
#include "pickle_scan.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../codec/pickle_vm.h"
#include "../../policy/pickle_policy.h"
#include "../../policy/policy_file.h"
#include "../../repo/secrets.h"
#include "../../util/cursor.h"
#include "../../util/strbuf.h"

enum {
    MAX_CALL_EXAMPLES = 3,
    MAX_STORAGES = 1 << 20, /* legacy torch storages tracked per file */
    PROBE_OPCODES = 4096,
};

static const uint8_t torch_legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                               0x20, 0x6a, 0xa8, 0x50, 0x19};

typedef struct gstat {
    bool seen;
    pickle_class cls;
    uint32_t calls;     /* calls attributed to this global */
    uint32_t explained; /* getattr calls resolved to safe attributes */
    size_t first_offset;
    uint8_t first_opcode;
    uint32_t stream;
    json_t *call_list; /* up to MAX_CALL_EXAMPLES */
    ms_strbuf text;    /* rendered calls for the description */
} gstat;

typedef struct storage_rec {
    char *key;
    uint64_t numel;
    unsigned elsize;
} storage_rec;

typedef struct analysis {
    ms_scan_ctx *ctx;
    const char *location;
    const uint8_t *data;
    size_t len;
    pickle_vm *vm;
    gstat *g;
    uint32_t ng;
    uint32_t stream;   /* index of the stream being analysed */
    uint32_t nstreams; /* streams started so far (a broken one included) */
    size_t text_end;   /* end of the last pickle stream: string constants lie before */
    bool legacy;     /* legacy torch layout detected */
    storage_rec *storages;
    size_t nstorages, storages_cap;
    bool storages_overflow;
    unsigned depth; /* nesting depth of this analysis */
    bool failed_nomem;
} analysis;

static gstat *gstat_for(analysis *an, uint32_t gid)
{
    if (gid >= an->ng) {
        uint32_t n = an->ng ? an->ng : 16;
        while (n <= gid)
            n *= 2;
        gstat *g = realloc(an->g, n * sizeof(*g));
        if (!g) {
            an->failed_nomem = true;
            return NULL;
        }
        memset(g + an->ng, 0, (n - an->ng) * sizeof(*g));
        an->g = g;
        an->ng = n;
    }
    return &an->g[gid];
}

static void gstat_init(analysis *an, gstat *s, const pickle_global *pg, size_t offset,
                       uint8_t opcode)
{
    s->seen = true;
    s->first_offset = offset;
    s->first_opcode = opcode;
    s->stream = an->stream;
    ms_strbuf_init(&s->text, 2048);
    s->call_list = json_array();
    if (pg->dynamic) {
        s->cls.verdict = PICKLE_DANGEROUS;
        s->cls.reason = "the module or name is computed at load time, not a constant";
    } else if (pg->extension) {
        s->cls.verdict = PICKLE_UNKNOWN;
        s->cls.reason = "resolved through the copyreg extension registry of the loading process";
    } else {
        s->cls = pickle_policy_classify(pg->module, pg->name);
        policy_adjust_global(an->ctx->policy, pg->module, pg->name, &s->cls);
    }
}

static void on_global(void *ud, pickle_vm *vm, uint32_t gid, size_t offset, uint8_t opcode)
{
    analysis *an = ud;
    gstat *s = gstat_for(an, gid);
    if (!s || s->seen)
        return;
    gstat_init(an, s, pickle_vm_global(vm, gid), offset, opcode);
}

/* "(a, b)" for an argument tuple, without Python's 1-tuple comma */
static void render_args(const pickle_vm *vm, const pickle_value *args, ms_strbuf *sb)
{
    size_t n = pickle_value_count(args);
    ms_strbuf_puts(sb, "(");
    for (size_t i = 0; i < n; i++) {
        const pickle_value *a = pickle_value_item(args, i);
        if (!a) {
            ms_strbuf_printf(sb, ", ...<%zu arguments>", n);
            break;
        }
        if (i)
            ms_strbuf_puts(sb, ", ");
        pickle_value_render(vm, a, sb);
    }
    ms_strbuf_puts(sb, ")");
}

static void record_call(analysis *an, gstat *s, const pickle_value *callable,
                        const pickle_value *args, size_t offset, uint8_t opcode)
{
    s->calls++;
    if (s->calls > MAX_CALL_EXAMPLES)
        return;
    ms_strbuf sb;
    ms_strbuf_init(&sb, 700);
    if (callable->kind == PK_GLOBAL) {
        pickle_value_render(an->vm, callable, &sb);
        if (args->kind == PK_TUPLE) {
            render_args(an->vm, args, &sb);
        } else {
            ms_strbuf_puts(&sb, "(*");
            pickle_value_render(an->vm, args, &sb);
            ms_strbuf_puts(&sb, ")");
        }
    } else {
        /* a method run on an object this global built */
        const char *method = opcode == 'b' ? "__setstate__"
                             : opcode == 's' || opcode == 'u' ? "__setitem__"
                             : opcode == 0x90                 ? "add"
                             : opcode == 'a' || opcode == 'e' ? "append"
                                                              : "__call__";
        ms_strbuf_puts(&sb, "(");
        pickle_value_render(an->vm, callable, &sb);
        ms_strbuf_printf(&sb, ").%s", method);
        render_args(an->vm, args, &sb);
    }
    const char *text = sb.data ? sb.data : "";
    if (s->text.len)
        ms_strbuf_puts(&s->text, "; ");
    ms_strbuf_printf(&s->text, "%s (%s at offset %zu)", text, pickle_opcode_name(opcode), offset);
    json_t *c = json_pack("{s:s, s:I, s:s}", "opcode", pickle_opcode_name(opcode), "offset",
                          (json_int_t)offset, "call", text);
    if (c)
        json_array_append_new(s->call_list, c);
    ms_strbuf_free(&sb);
}

/* The global a call is attributed to: the callable itself, or for a method
 * run on an object (BUILD, APPEND...), the global that built the object. */
static bool attributed_global(const pickle_value *callable, uint32_t *gid)
{
    const pickle_value *v = callable;
    for (int i = 0; i < 8 && v; i++) {
        if (v->kind == PK_GLOBAL) {
            *gid = v->n;
            return true;
        }
        if (v->kind != PK_CALL)
            return false;
        v = &v->u.o->u.call.callable;
    }
    return false;
}

static bool arg_bytes(const pickle_value *args, size_t i, const uint8_t **p, size_t *n,
                      uint8_t **owned)
{
    const pickle_value *a = pickle_value_item(args, i);
    if (!a)
        return false;
    /* a wrapper call such as io.BytesIO(b'...') hands its first argument to
     * the loader: whatever the wrapper, that argument is what gets analysed */
    if (a->kind == PK_CALL) {
        const pickle_value *inner = pickle_value_item(&a->u.o->u.call.args, 0);
        if (inner)
            a = inner;
    }
    return pickle_value_bytes(a, p, n, owned, 64u << 20);
}

static void scan_nested(analysis *an, const uint8_t *p, size_t n, size_t offset);

static bool budget_take(analysis *an, size_t n)
{
    ms_scan_ctx *ctx = an->ctx;
    if (ctx->budget->nested_bytes + n > ctx->limits->nested_max_bytes)
        return false;
    ctx->budget->nested_bytes += n;
    return true;
}

static int b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

static uint8_t *decode_b64(const uint8_t *p, size_t n, size_t *outlen)
{
    uint8_t *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(p[i]);
        if (v < 0)
            continue; /* padding and whitespace, as binascii discards them */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *outlen = o;
    return out;
}

static uint8_t *decode_hex(const uint8_t *p, size_t n, size_t *outlen)
{
    uint8_t *out = malloc(n / 2 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            continue;
        if (hi < 0) {
            hi = d;
        } else {
            out[o++] = (uint8_t)(hi * 16 + d);
            hi = -1;
        }
    }
    *outlen = o;
    return out;
}

static uint8_t *decode_zlib(analysis *an, const uint8_t *p, size_t n, size_t *outlen)
{
    uint64_t cap = an->ctx->limits->nested_max_bytes - an->ctx->budget->nested_bytes;
    if (cap > (64u << 20))
        cap = 64u << 20;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 32) != Z_OK) /* zlib or gzip header */
        return NULL;
    size_t size = 4096, used = 0;
    uint8_t *out = malloc(size);
    zs.next_in = (Bytef *)p;
    zs.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    int rc = Z_OK;
    while (out && rc == Z_OK) {
        if (used == size) {
            if (size >= cap) {
                rc = Z_BUF_ERROR;
                break;
            }
            size = size * 2 > cap ? (size_t)cap : size * 2;
            uint8_t *o2 = realloc(out, size);
            if (!o2) {
                free(out);
                out = NULL;
                break;
            }
            out = o2;
        }
        zs.next_out = out + used;
        zs.avail_out = (uInt)(size - used);
        rc = inflate(&zs, Z_NO_FLUSH);
        used = size - zs.avail_out;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    *outlen = used;
    return out;
}

/* latin-1 encoding of a str whose text we hold as UTF-8 */
static uint8_t *encode_latin1(const uint8_t *p, size_t n, size_t *outlen)
{
    uint8_t *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            out[o++] = c;
            i++;
        } else if ((c & 0xe0) == 0xc0 && i + 1 < n) {
            uint32_t cp = ((uint32_t)(c & 0x1f) << 6) | (p[i + 1] & 0x3f);
            if (cp > 0xff) {
                free(out);
                return NULL; /* Python raises UnicodeEncodeError */
            }
            out[o++] = (uint8_t)cp;
            i += 2;
        } else {
            free(out);
            return NULL;
        }
    }
    *outlen = o;
    return out;
}

static bool str_equals_ci(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = p[i], b = (uint8_t)s[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (a != b)
            return false;
    }
    return true;
}

/* Evaluates a pure helper on constant arguments; returns true with *result. */
static bool eval_pure(analysis *an, pickle_role role, const pickle_value *args,
                      pickle_value *result)
{
    const uint8_t *p;
    size_t n;
    uint8_t *owned = NULL;
    if (!arg_bytes(args, 0, &p, &n, &owned))
        return false;
    uint8_t *out = NULL;
    size_t outlen = 0;
    switch (role) {
    case PICKLE_ROLE_B64DECODE: out = decode_b64(p, n, &outlen); break;
    case PICKLE_ROLE_HEXDECODE: out = decode_hex(p, n, &outlen); break;
    case PICKLE_ROLE_ZLIB: out = decode_zlib(an, p, n, &outlen); break;
    case PICKLE_ROLE_ENCODE: {
        const uint8_t *e;
        size_t en;
        uint8_t *eo = NULL;
        const pickle_value *a0 = pickle_value_item(args, 0);
        bool is_str = a0 && a0->kind == PK_STR;
        if (pickle_value_count(args) >= 2 && arg_bytes(args, 1, &e, &en, &eo) && is_str &&
            (str_equals_ci(e, en, "latin1") || str_equals_ci(e, en, "latin-1") ||
             str_equals_ci(e, en, "iso-8859-1") || str_equals_ci(e, en, "iso8859-1")))
            out = encode_latin1(p, n, &outlen);
        free(eo);
        break;
    }
    default: break;
    }
    free(owned);
    if (!out)
        return false;
    if (!budget_take(an, outlen)) {
        free(out);
        return false;
    }
    *result = pickle_vm_make_bytes(an->vm, out, outlen);
    return true;
}

static bool public_attr(const uint8_t *p, size_t n)
{
    if (n == 0 || p[0] == '_')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
            return false;
    return true;
}

/* getattr(<global X>, 'attr') -> the global X.attr, classified on its own. */
static bool eval_getattr(analysis *an, const pickle_value *args, size_t offset, uint8_t opcode,
                         pickle_value *result)
{
    const pickle_value *target = pickle_value_item(args, 0);
    const pickle_value *attr = pickle_value_item(args, 1);
    if (pickle_value_count(args) != 2 || !target || !attr || target->kind != PK_GLOBAL ||
        attr->kind != PK_STR)
        return false;
    const pickle_global *tg = pickle_vm_global(an->vm, target->n);
    const uint8_t *ap;
    size_t an_len;
    uint8_t *owned = NULL;
    if (!tg || tg->dynamic || tg->extension ||
        !pickle_value_bytes(attr, &ap, &an_len, &owned, 4096))
        return false;
    ms_strbuf name;
    ms_strbuf_init(&name, 8192);
    ms_strbuf_printf(&name, "%s.%.*s", tg->name, (int)an_len, (const char *)ap);
    bool public = public_attr(ap, an_len);
    free(owned);
    if (name.truncated || !name.data) {
        ms_strbuf_free(&name);
        return false;
    }
    pickle_value derived = pickle_vm_make_global(an->vm, tg->module, name.data, offset, opcode);
    ms_strbuf_free(&name);
    if (derived.kind != PK_GLOBAL)
        return false;
    gstat *ts = gstat_for(an, target->n);
    gstat *ds = gstat_for(an, derived.n);
    if (!ts || !ds)
        return false;
    if (!ds->seen) {
        gstat_init(an, ds, pickle_vm_global(an->vm, derived.n), offset, opcode);
        /* a public method of a safe data class is as safe as the class */
        if (ts->seen && ts->cls.verdict == PICKLE_SAFE && ts->cls.methods_safe && public &&
            ds->cls.verdict != PICKLE_DANGEROUS) {
            ds->cls.verdict = PICKLE_SAFE;
            ds->cls.reason = "a public method of a safe class";
        }
    }
    *result = derived;
    return true;
}

/* joblib's NumpyArrayWrapper: numpy_pickle.NumpyPickler writes the array's
 * bytes straight into the file right after the wrapper's BUILD opcode, and
 * NumpyUnpickler.load_build reads them back from there (joblib/numpy_pickle.py
 * write_array/read_array):
 *
 *   ... NEWOBJ(NumpyArrayWrapper) {state} BUILD [pad_len:u8 pad*0xff] raw bytes ...
 *   ... NEWOBJ(NumpyArrayWrapper) {dtype=object}  BUILD <a whole protocol-2 pickle> ...
 *
 * The padding byte exists when the state has numpy_array_alignment_bytes
 * (joblib >= 1.2). Raw bytes are skipped exactly; an object array is a
 * further pickle that runs at load time, analysed as a nested stream. */
static bool is_joblib_wrapper(const pickle_global *g)
{
    return strcmp(g->name, "NumpyArrayWrapper") == 0 &&
           (strcmp(g->module, "joblib.numpy_pickle") == 0 ||
            strcmp(g->module, "sklearn.externals.joblib.numpy_pickle") == 0);
}

/* numpy dtype string ('<f8', 'i4', 'U10', 'V24', 'O8' ...) -> item size;
 * 0 for object arrays, -1 when it cannot be read. */
static int64_t dtype_itemsize(const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (i < n && (p[i] == '<' || p[i] == '>' || p[i] == '|' || p[i] == '='))
        i++;
    if (i >= n)
        return -1;
    uint8_t kind = p[i++];
    int64_t num = 0;
    bool digits = false;
    for (; i < n; i++) {
        if (p[i] == '[')
            break; /* datetime unit, e.g. M8[ns] */
        if (p[i] < '0' || p[i] > '9' || num > (INT64_C(1) << 40))
            return -1;
        num = num * 10 + (p[i] - '0');
        digits = true;
    }
    switch (kind) {
    case 'O': return 0;
    case '?': return 1;
    case 'b': case 'B': case 'i': case 'u': case 'f': case 'c':
        return digits ? num : -1;
    case 'M': case 'm': return 8;
    case 'S': case 'a': case 'V': return digits ? num : -1;
    case 'U': return digits ? num * 4 : -1;
    default: return -1;
    }
}

static void joblib_break(analysis *an, const char *why)
{
    ms_report_add(an->ctx->report, "PICKLE-MALFORMED", an->location,
                  json_pack("{s:I, s:s}", "offset", (json_int_t)pickle_vm_offset(an->vm), "error",
                            why),
                  "joblib array data after the NumpyArrayWrapper at offset %zu cannot be "
                  "delimited: %s. The rest of the stream cannot be read the way joblib reads it.",
                  pickle_vm_offset(an->vm), why);
    /* stop the stream: skip everything that is left */
    pickle_vm_skip(an->vm, UINT64_MAX);
}

static size_t scan_inline_pickle(analysis *an, size_t off);

static void joblib_inline_array(analysis *an, const pickle_value *args)
{
    const pickle_value *state = pickle_value_item(args, 0), *shape, *dtype, *align = NULL;
    if (!state || !pickle_vm_dict_get(an->vm, state, "shape", &shape) ||
        !pickle_vm_dict_get(an->vm, state, "dtype", &dtype)) {
        joblib_break(an, "the wrapper's state (shape, dtype) is not readable");
        return;
    }
    pickle_vm_dict_get(an->vm, state, "numpy_array_alignment_bytes", &align);
    /* dtype is numpy.dtype('<kind><size>', ...) */
    const pickle_value *dstr =
        dtype->kind == PK_CALL ? pickle_value_item(&dtype->u.o->u.call.args, 0) : NULL;
    const uint8_t *dp;
    size_t dn;
    uint8_t *downed = NULL;
    if (!dstr || !pickle_value_bytes(dstr, &dp, &dn, &downed, 256)) {
        joblib_break(an, "the array's dtype is not a constant");
        return;
    }
    int64_t itemsize = dtype_itemsize(dp, dn);
    free(downed);
    if (itemsize < 0) {
        joblib_break(an, "unknown dtype");
        return;
    }
    size_t off = pickle_vm_offset(an->vm);
    if (itemsize == 0) {
        size_t used = scan_inline_pickle(an, off);
        if (used == SIZE_MAX)
            joblib_break(an, "the object array's inline pickle is broken");
        else
            pickle_vm_skip(an->vm, used);
        return;
    }
    uint64_t count = 1;
    size_t ndim = pickle_value_count(shape);
    if (shape->kind != PK_TUPLE || ndim > PICKLE_KEEP) {
        joblib_break(an, "the array's shape is not a short constant tuple");
        return;
    }
    for (size_t i = 0; i < ndim; i++) {
        const pickle_value *d = pickle_value_item(shape, i);
        if (!d || d->kind != PK_INT || d->u.i < 0 ||
            __builtin_mul_overflow(count, (uint64_t)d->u.i, &count)) {
            joblib_break(an, "the array's shape is not made of sane integers");
            return;
        }
    }
    uint64_t bytes;
    if (__builtin_mul_overflow(count, (uint64_t)itemsize, &bytes)) {
        joblib_break(an, "the array's size overflows");
        return;
    }
    if (align) {
        /* one byte giving the padding length, then that many bytes */
        if (off >= an->len) {
            joblib_break(an, "the file ends before the array's padding byte");
            return;
        }
        uint64_t pad = an->data[off];
        if (__builtin_add_overflow(bytes, pad + 1, &bytes)) {
            joblib_break(an, "the array's size overflows");
            return;
        }
    }
    pickle_vm_skip(an->vm, bytes); /* past the end: the VM reports truncation */
}

static bool on_call(void *ud, pickle_vm *vm, const pickle_value *callable,
                    const pickle_value *args, size_t offset, uint8_t opcode, pickle_value *result)
{
    analysis *an = ud;
    (void)vm;
    uint32_t gid;
    if (!attributed_global(callable, &gid))
        return false;
    gstat *s = gstat_for(an, gid);
    if (!s || !s->seen)
        return false;
    record_call(an, s, callable, args, offset, opcode);
    if (opcode == 'b' && callable->kind == PK_CALL) {
        const pickle_global *g = pickle_vm_global(an->vm, gid);
        if (g && is_joblib_wrapper(g))
            joblib_inline_array(an, args);
        return false;
    }
    if (callable->kind != PK_GLOBAL)
        return false; /* a method on a built object: attribution only */

    switch (s->cls.role) {
    case PICKLE_ROLE_GETATTR:
        if (eval_getattr(an, args, offset, opcode, result)) {
            gstat *d = gstat_for(an, result->n);
            s = &an->g[gid]; /* gstat_for may have moved the array */
            if (d && d->cls.verdict == PICKLE_SAFE)
                s->explained++;
            return true;
        }
        return false;
    case PICKLE_ROLE_LOADER: {
        const uint8_t *p;
        size_t n;
        uint8_t *owned = NULL;
        if (arg_bytes(args, 0, &p, &n, &owned)) {
            scan_nested(an, p, n, offset);
            free(owned);
        }
        return false;
    }
    case PICKLE_ROLE_B64DECODE:
    case PICKLE_ROLE_HEXDECODE:
    case PICKLE_ROLE_ZLIB:
    case PICKLE_ROLE_ENCODE:
        return eval_pure(an, s->cls.role, args, result);
    default:
        return false;
    }
}

static unsigned storage_elsize(const char *name)
{
    static const struct {
        const char *name;
        unsigned size;
    } t[] = {
        {"DoubleStorage", 8}, {"FloatStorage", 4},         {"HalfStorage", 2},
        {"BFloat16Storage", 2}, {"LongStorage", 8},        {"IntStorage", 4},
        {"ShortStorage", 2},  {"CharStorage", 1},          {"ByteStorage", 1},
        {"BoolStorage", 1},   {"ComplexFloatStorage", 8},  {"ComplexDoubleStorage", 16},
        {"QInt8Storage", 1},  {"QUInt8Storage", 1},        {"QInt32Storage", 4},
        {"QUInt4x2Storage", 1}, {"QUInt2x4Storage", 1},    {"UntypedStorage", 1},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].size;
    return 0;
}

static void on_persid(void *ud, pickle_vm *vm, const pickle_value *pid, size_t offset)
{
    analysis *an = ud;
    (void)offset;
    if (!an->legacy || an->stream != 3 || pid->kind != PK_TUPLE)
        return;
    const pickle_value *tag = pickle_value_item(pid, 0), *cls = pickle_value_item(pid, 1),
                       *key = pickle_value_item(pid, 2), *numel = pickle_value_item(pid, 4);
    if (!tag || !cls || !key || !numel || cls->kind != PK_GLOBAL || key->kind != PK_STR ||
        numel->kind != PK_INT || numel->u.i < 0)
        return;
    const pickle_global *g = pickle_vm_global(vm, cls->n);
    unsigned es = g && strcmp(g->module, "torch") == 0 ? storage_elsize(g->name) : 0;
    const uint8_t *kp;
    size_t kn;
    uint8_t *owned = NULL;
    if (!es || !pickle_value_bytes(key, &kp, &kn, &owned, 4096))
        return;
    /* a storage shared by several tensors has one record */
    for (size_t i = 0; i < an->nstorages; i++) {
        if (strlen(an->storages[i].key) == kn && memcmp(an->storages[i].key, kp, kn) == 0) {
            free(owned);
            return;
        }
    }
    if (an->nstorages >= MAX_STORAGES) {
        an->storages_overflow = true;
        free(owned);
        return;
    }
    if (an->nstorages == an->storages_cap) {
        size_t cap = an->storages_cap ? an->storages_cap * 2 : 16;
        storage_rec *r = realloc(an->storages, cap * sizeof(*r));
        if (!r) {
            free(owned);
            an->failed_nomem = true;
            return;
        }
        an->storages = r;
        an->storages_cap = cap;
    }
    char *k = malloc(kn + 1);
    if (k) {
        memcpy(k, kp, kn);
        k[kn] = '\0';
        an->storages[an->nstorages++] = (storage_rec){k, (uint64_t)numel->u.i, es};
    }
    free(owned);
}

/* Releases the pages of the file mapping well behind the VM, so a scan's
 * memory does not grow with the file: values still point into the mapping
 * and a released page is read again from the page cache if used later. */
static bool on_progress(void *ud, pickle_vm *vm, size_t offset)
{
    analysis *an = ud;
    (void)vm;
    if (an->data == an->ctx->mapping && offset > (8u << 20))
        ms_release_pages(an->data, offset - (8u << 20));
    return ms_budget_time_left(an->ctx);
}

static int storage_cmp(const void *a, const void *b)
{
    return strcmp(((const storage_rec *)a)->key, ((const storage_rec *)b)->key);
}

typedef struct probe_counts {
    uint32_t globals, calls;
} probe_counts;

static void probe_on_global(void *ud, pickle_vm *vm, uint32_t gid, size_t offset, uint8_t op)
{
    (void)vm;
    (void)gid;
    (void)offset;
    (void)op;
    ((probe_counts *)ud)->globals++;
}

static bool probe_on_call(void *ud, pickle_vm *vm, const pickle_value *callable,
                          const pickle_value *args, size_t offset, uint8_t opcode,
                          pickle_value *result)
{
    (void)vm;
    (void)callable;
    (void)args;
    (void)offset;
    (void)opcode;
    (void)result;
    ((probe_counts *)ud)->calls++;
    return false;
}

bool pickle_looks_like_stream(const ms_limits *limits, const uint8_t *data, size_t len,
                              size_t start)
{
    if (start >= len)
        return false;
    const uint8_t *p = data + start;
    size_t n = len - start;
    if (n >= 2 && p[0] == 0x80 && p[1] <= 5)
        return true;
    /* Protocol 0/1 streams have no header: run the VM for a few thousand
     * opcodes. Text rarely forms even two valid opcodes in a row; a stream
     * counts when it reaches STOP, or when it breaks after an import followed
     * by more valid opcodes, or after a call (nullifAI-style broken pickles). */
    ms_limits l = *limits;
    l.pickle_max_opcodes = PROBE_OPCODES;
    probe_counts counts = {0, 0};
    pickle_hooks hooks = {.ud = &counts, .on_global = probe_on_global, .on_call = probe_on_call};
    pickle_vm *vm = pickle_vm_new(&l, &hooks);
    if (!vm)
        return false;
    pickle_run_result res;
    pickle_vm_run(vm, data, len, start, &res);
    pickle_vm_free(vm);
    if (res.status == MS_OK)
        return res.opcodes >= 2;
    if (res.status == MS_LIMIT && res.opcodes >= PROBE_OPCODES)
        return true;
    return counts.calls > 0 || (counts.globals > 0 && res.opcodes >= 5);
}

bool pickle_probe(const uint8_t *data, size_t len)
{
    ms_limits l;
    ms_limits_default(&l);
    return pickle_looks_like_stream(&l, data, len, 0);
}

static char *nested_location(const char *outer, size_t offset)
{
    return ms_strdup_printf("%s!pickle@%zu", outer, offset);
}

static void analysis_report(analysis *an, bool top_level);
static void analyse_streams(analysis *an);

static void analysis_free(analysis *an)
{
    for (uint32_t i = 0; i < an->ng; i++) {
        if (an->g[i].seen) {
            ms_strbuf_free(&an->g[i].text);
            json_decref(an->g[i].call_list);
        }
    }
    free(an->g);
    for (size_t i = 0; i < an->nstorages; i++)
        free(an->storages[i].key);
    free(an->storages);
    pickle_vm_free(an->vm);
}

static bool analysis_init(analysis *an, ms_scan_ctx *ctx, const char *location,
                          const uint8_t *data, size_t len, unsigned depth)
{
    memset(an, 0, sizeof(*an));
    an->ctx = ctx;
    an->location = location;
    an->data = data;
    an->len = len;
    an->depth = depth;
    pickle_hooks hooks = {.ud = an,
                         .on_global = on_global,
                         .on_call = on_call,
                         .on_persid = on_persid,
                         .on_progress = on_progress};
    an->vm = pickle_vm_new(ctx->limits, &hooks);
    return an->vm != NULL;
}

static void scan_nested(analysis *an, const uint8_t *p, size_t n, size_t offset)
{
    ms_scan_ctx *ctx = an->ctx;
    char *loc = nested_location(an->location, offset);
    if (!loc)
        return;
    if (an->depth + 1 > ctx->limits->nested_max_depth) {
        ms_report_add(ctx->report, "SCAN-LIMIT", loc,
                      json_pack("{s:s, s:I}", "limit", "nested pickle depth", "max",
                                (json_int_t)ctx->limits->nested_max_depth),
                      "A pickle nested %u levels deep inside other pickles was not analysed "
                      "(nesting limit %u).",
                      an->depth + 1, ctx->limits->nested_max_depth);
        free(loc);
        return;
    }
    if (!pickle_looks_like_stream(ctx->limits, p, n, 0)) {
        free(loc);
        return;
    }
    analysis inner;
    if (analysis_init(&inner, ctx, loc, p, n, an->depth + 1)) {
        analyse_streams(&inner);
        analysis_report(&inner, false);
    }
    analysis_free(&inner);
    free(loc);
}

/* A complete pickle written inline at `off` (a joblib object array): its
 * findings are reported at "<file>!pickle@<off>"; returns the bytes it spans,
 * or SIZE_MAX when it breaks (the break is reported). */
static void report_break(analysis *an, const pickle_run_result *res);

static size_t scan_inline_pickle(analysis *an, size_t off)
{
    ms_scan_ctx *ctx = an->ctx;
    if (an->depth + 1 > ctx->limits->nested_max_depth || off >= an->len)
        return SIZE_MAX;
    char *loc = nested_location(an->location, off);
    if (!loc)
        return SIZE_MAX;
    size_t used = SIZE_MAX;
    analysis inner;
    if (analysis_init(&inner, ctx, loc, an->data + off, an->len - off, an->depth + 1)) {
        pickle_run_result res;
        pickle_vm_run(inner.vm, inner.data, inner.len, 0, &res);
        inner.nstreams = 1;
        if (res.status == MS_OK)
            used = res.end;
        else
            report_break(&inner, &res);
        analysis_report(&inner, false);
    }
    analysis_free(&inner);
    free(loc);
    return used;
}

static void report_break(analysis *an, const pickle_run_result *res)
{
    ms_scan_ctx *ctx = an->ctx;
    const char *opname = pickle_opcode_name(res->error_opcode);
    char opbuf[16];
    if (!opname) {
        snprintf(opbuf, sizeof(opbuf), "0x%02x", res->error_opcode);
        opname = opbuf;
    }
    json_t *d = json_pack("{s:I, s:s, s:s, s:I, s:I}", "offset", (json_int_t)res->error_offset,
                          "opcode", opname, "error", res->error, "stream",
                          (json_int_t)an->stream, "opcodes_before_break",
                          (json_int_t)(res->opcodes ? res->opcodes - 1 : 0));
    if (res->status == MS_LIMIT || res->status == MS_NOMEM) {
        const char *what = pickle_vm_limit_hit(an->vm);
        ms_report_add(ctx->report, "SCAN-LIMIT", an->location, d,
                      "Pickle stream %u was analysed only up to offset %zu: %s (%s). Anything "
                      "after that point was not checked.",
                      an->stream, res->error_offset, res->error,
                      what ? what : ms_status_name(res->status));
        return;
    }
    ms_report_add(ctx->report, "PICKLE-MALFORMED", an->location, d,
                  "Pickle stream %u breaks at offset %zu (%s): %s. A loader executes every "
                  "opcode before the break, so anything imported or called before it still "
                  "runs; the findings for this file include what was seen up to the break.",
                  an->stream, res->error_offset, opname, res->error);
}

static bool is_torch_magic(const pickle_value *v)
{
    return v->kind == PK_BIGINT && !(v->flags & PV_TEXTINT) && pickle_value_len(v) == sizeof(torch_legacy_magic) &&
           memcmp(v->u.p, torch_legacy_magic, sizeof(torch_legacy_magic)) == 0;
}

/* After the 5th legacy pickle: storages in sorted key order. Returns the
 * offset after them, or SIZE_MAX after reporting a problem. */
static size_t skip_legacy_storages(analysis *an, size_t off)
{
    if (an->nstorages > 1)
        qsort(an->storages, an->nstorages, sizeof(*an->storages), storage_cmp);
    ms_cursor cur = ms_cursor_make(an->data, an->len);
    cur.off = off;
    for (size_t i = 0; i < an->nstorages; i++) {
        size_t at = cur.off;
        uint64_t numel = ms_cursor_u64le(&cur);
        uint64_t bytes;
        const char *problem = NULL;
        if (cur.error)
            problem = "the file ends inside a storage header";
        else if (numel != an->storages[i].numel)
            problem = "the storage's element count differs from its persistent id";
        else if (__builtin_mul_overflow(numel, (uint64_t)an->storages[i].elsize, &bytes) ||
                 !ms_cursor_skip(&cur, bytes))
            problem = "the storage extends past the end of the file";
        if (problem) {
            ms_report_add(an->ctx->report, "PICKLE-MALFORMED", an->location,
                          json_pack("{s:I, s:s, s:s}", "offset", (json_int_t)at, "storage",
                                    an->storages[i].key, "error", problem),
                          "Legacy torch.save layout is broken at offset %zu (storage '%s'): %s.",
                          at, an->storages[i].key, problem);
            return SIZE_MAX;
        }
    }
    return cur.off;
}

static void analyse_streams(analysis *an)
{
    ms_scan_ctx *ctx = an->ctx;
    size_t off = 0;
    while (off < an->len) {
        an->stream = an->nstreams;
        if (an->nstreams >= ctx->limits->pickle_max_streams) {
            ms_report_add(ctx->report, "SCAN-LIMIT", an->location,
                          json_pack("{s:s, s:I}", "limit", "pickle streams per file", "offset",
                                    (json_int_t)off),
                          "More than %u pickle streams follow each other; the rest of the file "
                          "from offset %zu was not analysed.",
                          ctx->limits->pickle_max_streams, off);
            return;
        }
        /* a legacy torch.save file has exactly 5 pickles before its storages */
        bool expected = an->nstreams == 0 || (an->legacy && an->nstreams < 5);
        if (!expected) {
            if (!pickle_looks_like_stream(ctx->limits, an->data, an->len, off)) {
                ms_report_add(ctx->report, "PICKLE-TRAILING-DATA", an->location,
                              json_pack("{s:I, s:I}", "offset", (json_int_t)off, "bytes",
                                        (json_int_t)(an->len - off)),
                              "%zu bytes after the last pickle stream (from offset %zu) are not "
                              "explained by the format; they may hide data or a payload for a "
                              "custom loader.",
                              an->len - off, off);
                return;
            }
            ms_report_add(ctx->report, "PICKLE-APPENDED-STREAM", an->location,
                          json_pack("{s:I, s:I}", "offset", (json_int_t)off, "stream",
                                    (json_int_t)an->stream),
                          "A further pickle stream (number %u) starts at offset %zu after the "
                          "previous STOP; loaders that read more than one pickle execute it. "
                          "Its imports and calls are reported too.",
                          an->stream, off);
        }
        pickle_run_result res;
        pickle_vm_run(an->vm, an->data, an->len, off, &res);
        an->nstreams++;
        an->text_end = res.status == MS_OK ? res.end : res.error_offset;
        if (res.status != MS_OK) {
            report_break(an, &res);
            return;
        }
        if (an->nstreams == 1 && is_torch_magic(&res.result))
            an->legacy = true;
        off = res.end;
        if (an->legacy && an->nstreams == 5) {
            if (an->storages_overflow) {
                ms_report_add(ctx->report, "SCAN-LIMIT", an->location,
                              json_pack("{s:s}", "limit", "legacy torch storages"),
                              "The legacy torch.save file names more than %d storages; its raw "
                              "data was not checked.",
                              MAX_STORAGES);
                return;
            }
            off = skip_legacy_storages(an, off);
            if (off == SIZE_MAX)
                return;
        }
    }
    if (an->legacy && an->nstreams < 5)
        ms_report_add(ctx->report, "PICKLE-MALFORMED", an->location,
                      json_pack("{s:I, s:I}", "offset", (json_int_t)off, "streams",
                                (json_int_t)an->nstreams),
                      "The file starts like a legacy torch.save file but ends after %u of its 5 "
                      "pickle streams.",
                      an->nstreams);
}

static const char *finding_rule(const pickle_global *pg, const gstat *s)
{
    if (pg->dynamic)
        return "PICKLE-DYNAMIC-GLOBAL";
    if (pg->extension)
        return "PICKLE-EXTENSION-CODE";
    return s->cls.verdict == PICKLE_DANGEROUS ? "PICKLE-DANGEROUS-GLOBAL"
                                              : "PICKLE-UNKNOWN-GLOBAL";
}

static void analysis_report(analysis *an, bool top_level)
{
    ms_scan_ctx *ctx = an->ctx;
    uint32_t total = 0, unsafe = 0;
    ms_strbuf names;
    ms_strbuf_init(&names, 600);
    uint32_t nglobals = pickle_vm_global_count(an->vm);
    for (uint32_t gid = 0; gid < nglobals && gid < an->ng; gid++) {
        gstat *s = &an->g[gid];
        if (!s->seen)
            continue;
        const pickle_global *pg = pickle_vm_global(an->vm, gid);
        total++;
        bool safe = s->cls.verdict == PICKLE_SAFE && !pg->dynamic && !pg->extension;
        /* getattr whose every call resolved to a safe attribute of a safe
         * class (how Python pickles bound methods) adds nothing */
        if (s->cls.role == PICKLE_ROLE_GETATTR && s->calls > 0 && s->explained == s->calls)
            safe = true;
        if (safe)
            continue;
        unsafe++;
        if (names.len)
            ms_strbuf_puts(&names, ", ");
        ms_strbuf_printf(&names, "%s.%s", pg->module, pg->name);

        const char *rule = finding_rule(pg, s);
        json_t *d = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s}", "global",
                              "", "module", pg->module, "name", pg->name, "offset",
                              (json_int_t)s->first_offset, "opcode",
                              pickle_opcode_name(s->first_opcode), "imports",
                              (json_int_t)pg->imports, "calls_seen", (json_int_t)s->calls,
                              "reason", s->cls.reason ? s->cls.reason : "");
        char *full = ms_strdup_printf("%s.%s", pg->module, pg->name);
        if (d && full)
            json_object_set_new(d, "global", json_string(full));
        if (d && json_array_size(s->call_list))
            json_object_set(d, "calls", s->call_list);
        if (d && pg->extension)
            json_object_set_new(d, "extension_code", json_integer(pg->ext_code));
        char py3[512];
        char *what_owned = NULL;
        if (!pg->extension && !pg->dynamic &&
            pickle_policy_py3_name(pg->module, pg->name, py3, sizeof(py3))) {
            if (d)
                json_object_set_new(d, "python3_name", json_string(py3));
            what_owned = ms_strdup_printf("%s (loaded by Python 3 as %s)", full ? full : "", py3);
        }
        const char *what = pg->extension ? "an object from the copyreg extension registry"
                           : what_owned  ? what_owned
                                         : full;
        if (s->calls > 0) {
            ms_report_add(ctx->report, rule, an->location, d,
                          "The pickle imports %s (%s) with %s at offset %zu and calls it: %s%s.",
                          what, s->cls.reason, pickle_opcode_name(s->first_opcode),
                          s->first_offset, s->text.data ? s->text.data : "",
                          s->calls > MAX_CALL_EXAMPLES ? " (more calls not shown)" : "");
        } else {
            ms_report_add(ctx->report, rule, an->location, d,
                          "The pickle imports %s (%s) with %s at offset %zu; importing alone "
                          "runs the module's code, and any later opcode can call it.",
                          what, s->cls.reason, pickle_opcode_name(s->first_opcode),
                          s->first_offset);
        }
        free(what_owned);
        free(full);
    }
    if (top_level) {
        json_t *d = json_pack("{s:I, s:I, s:I, s:b}", "streams", (json_int_t)an->nstreams,
                              "globals", (json_int_t)total, "unsafe_globals",
                              (json_int_t)unsafe, "legacy_torch", an->legacy);
        if (unsafe)
            ms_report_add(ctx->report, "PICKLE-INSECURE-FORMAT", an->location, d,
                          "Model weights are stored using Python's pickle format, which can "
                          "execute arbitrary code upon deserialization. This file imports %u "
                          "global(s), %u of them outside the safe list: %s.",
                          total, unsafe, names.data ? names.data : "");
        else
            ms_report_add(ctx->report, "PICKLE-INSECURE-FORMAT", an->location, d,
                          "Model weights are stored using Python's pickle format, which can "
                          "execute arbitrary code upon deserialization. No global outside the "
                          "safe list was seen (%u global(s) imported), but loading a pickle "
                          "from an untrusted source remains unsafe.",
                          total);
    }
    ms_strbuf_free(&names);
}

ms_status pickle_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    analysis an;
    if (!analysis_init(&an, ctx, ctx->location, data, len, 0)) {
        analysis_free(&an);
        return MS_NOMEM;
    }
    analyse_streams(&an);
    analysis_report(&an, true);
    /* credentials in string constants (not in legacy raw storages) */
    if (data == ctx->mapping) /* keep the scan's memory flat */
        secrets_scan_mapped(ctx->report, ctx->location, data, an.text_end,
                            "the pickle's string constants");
    else
        secrets_scan(ctx->report, ctx->location, data, an.text_end,
                     "the pickle's string constants");
    ms_status st = an.failed_nomem ? MS_NOMEM : MS_OK;
    analysis_free(&an);
    return st;
}

struct pickle_session {
    analysis an;
    pickle_run_result res;
    bool limit_reported;
};

pickle_session *pickle_session_new(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    pickle_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (!analysis_init(&s->an, ctx, ctx->location, data, len, 0)) {
        analysis_free(&s->an);
        free(s);
        return NULL;
    }
    return s;
}

const pickle_value *pickle_session_run(pickle_session *s, size_t off, size_t *end)
{
    analysis *an = &s->an;
    ms_scan_ctx *ctx = an->ctx;
    an->stream = an->nstreams;
    if (an->nstreams >= ctx->limits->pickle_max_streams) {
        if (!s->limit_reported)
            ms_report_add(ctx->report, "SCAN-LIMIT", an->location,
                          json_pack("{s:s, s:I}", "limit", "pickle streams per file", "offset",
                                    (json_int_t)off),
                          "More than %u pickle streams in this file; the rest of it from offset "
                          "%zu was not analysed.",
                          ctx->limits->pickle_max_streams, off);
        s->limit_reported = true;
        return NULL;
    }
    pickle_vm_run(an->vm, an->data, an->len, off, &s->res);
    an->nstreams++;
    if (s->res.status != MS_OK) {
        report_break(an, &s->res);
        return NULL;
    }
    *end = s->res.end;
    return &s->res.result;
}

unsigned pickle_session_storage_elsize(const pickle_session *s, const pickle_value *v)
{
    if (v->kind != PK_GLOBAL)
        return 0;
    const pickle_global *g = pickle_vm_global(s->an.vm, v->n);
    if (!g || g->dynamic || g->extension || strcmp(g->module, "torch") != 0)
        return 0;
    return storage_elsize(g->name);
}

void pickle_session_finish(pickle_session *s)
{
    analysis_report(&s->an, true);
}

ms_status pickle_session_free(pickle_session *s)
{
    if (!s)
        return MS_OK;
    ms_status st = s->an.failed_nomem ? MS_NOMEM : MS_OK;
    analysis_free(&s->an);
    free(s);
    return st;
}

typedef struct explain_state {
    analysis an;
    ms_strbuf out;
    ms_strbuf pending; /* annotations of the opcode being executed */
    unsigned indent;
} explain_state;

static void explain_on_op(void *ud, pickle_vm *vm, size_t offset, uint8_t opcode,
                          const char *arg)
{
    explain_state *es = ud;
    (void)vm;
    if (opcode == ')' || opcode == 't' || opcode == 'l' || opcode == 'd' || opcode == 'e' ||
        opcode == 'u' || opcode == '1' || opcode == 0x91 || opcode == 0x90 || opcode == 'o' ||
        opcode == 'i')
        es->indent = es->indent ? es->indent - 1 : 0;
    if (opcode == ')')
        es->indent++; /* EMPTY_TUPLE takes no mark */
    ms_strbuf_printf(&es->out, "%8zu: %*s%-16s %s\n", offset, (int)(es->indent * 2), "",
                     pickle_opcode_name(opcode), arg);
    if (es->pending.len) {
        ms_strbuf_append(&es->out, es->pending.data, es->pending.len);
        es->pending.len = 0;
    }
    if (opcode == '(')
        es->indent++;
}

static void explain_on_global(void *ud, pickle_vm *vm, uint32_t gid, size_t offset,
                              uint8_t opcode)
{
    explain_state *es = ud;
    on_global(&es->an, vm, gid, offset, opcode);
    gstat *s = gid < es->an.ng ? &es->an.g[gid] : NULL;
    const pickle_global *pg = pickle_vm_global(vm, gid);
    if (!s || !pg)
        return;
    const char *verdict = pg->dynamic                            ? "DYNAMIC (computed name)"
                          : s->cls.verdict == PICKLE_SAFE        ? "safe"
                          : s->cls.verdict == PICKLE_DANGEROUS   ? "DANGEROUS"
                                                                 : "NOT ON SAFE LIST";
    ms_strbuf_printf(&es->pending, "          ^ imports %s.%s  [%s: %s]\n", pg->module, pg->name,
                     verdict, s->cls.reason ? s->cls.reason : "");
}

static bool explain_on_call(void *ud, pickle_vm *vm, const pickle_value *callable,
                            const pickle_value *args, size_t offset, uint8_t opcode,
                            pickle_value *result)
{
    explain_state *es = ud;
    ms_strbuf sb;
    ms_strbuf_init(&sb, 800);
    pickle_value_render(vm, callable, &sb);
    ms_strbuf_puts(&sb, opcode == 'b' ? ".__setstate__" : "");
    render_args(vm, args, &sb);
    ms_strbuf_printf(&es->pending, "          ^ would call %s\n", sb.data ? sb.data : "");
    ms_strbuf_free(&sb);
    return on_call(&es->an, vm, callable, args, offset, opcode, result);
}

char *ms_pickle_explain(const uint8_t *data, size_t len, const ms_limits *limits)
{
    explain_state es;
    memset(&es, 0, sizeof(es));
    ms_strbuf_init(&es.out, 64u << 20);
    ms_strbuf_init(&es.pending, 1u << 20);
    ms_report *scratch = ms_report_new("explain");
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_scan_ctx ctx = {.report = scratch, .limits = limits, .location = "input", .budget = &budget};
    if (!scratch || !analysis_init(&es.an, &ctx, "input", data, len, 0)) {
        ms_report_free(scratch);
        analysis_free(&es.an);
        ms_strbuf_free(&es.out);
        ms_strbuf_free(&es.pending);
        return NULL;
    }
    pickle_vm_free(es.an.vm);
    pickle_hooks hooks = {.ud = &es,
                         .on_global = explain_on_global,
                         .on_call = explain_on_call,
                         .on_persid = on_persid,
                         .on_op = explain_on_op};
    es.an.vm = pickle_vm_new(limits, &hooks);
    size_t off = 0;
    for (unsigned stream = 0; es.an.vm && off < len && stream < limits->pickle_max_streams;
         stream++) {
        if (stream > 0 && !pickle_looks_like_stream(limits, data, len, off)) {
            ms_strbuf_printf(&es.out, "%8zu: %zu bytes of non-pickle data follow\n", off,
                             len - off);
            break;
        }
        ms_strbuf_printf(&es.out, "--- pickle stream %u at offset %zu ---\n", stream, off);
        es.an.stream = stream;
        es.indent = 0;
        pickle_run_result res;
        pickle_vm_run(es.an.vm, data, len, off, &res);
        if (es.pending.len) { /* annotations of the opcode that failed */
            ms_strbuf_append(&es.out, es.pending.data, es.pending.len);
            es.pending.len = 0;
        }
        if (res.status != MS_OK) {
            ms_strbuf_printf(&es.out, "%8zu: !! stream breaks: %s\n", res.error_offset,
                             res.error);
            break;
        }
        if (stream == 0 && is_torch_magic(&res.result))
            es.an.legacy = true;
        off = res.end;
        if (es.an.legacy && stream == 4) {
            ms_strbuf_printf(&es.out, "%8zu: raw tensor storages (legacy torch.save)\n", off);
            off = skip_legacy_storages(&es.an, off);
            if (off == SIZE_MAX)
                break;
        }
    }
    /* the findings the scan would report, as a summary */
    es.an.nstreams = es.an.stream + 1;
    analysis_report(&es.an, true);
    ms_report_finish(scratch);
    ms_strbuf_puts(&es.out, "\nverdict:\n");
    for (size_t i = 0; i < scratch->nfindings; i++)
        ms_strbuf_printf(&es.out, "  [%s] %s (%s): %s\n",
                         ms_severity_name(scratch->findings[i].severity),
                         scratch->findings[i].type, scratch->findings[i].location,
                         scratch->findings[i].description);
    analysis_free(&es.an);
    ms_report_free(scratch);
    ms_strbuf_free(&es.pending);
    return ms_strbuf_take(&es.out);
}
