/*
 * onnx_scan.c - ONNX models: a protobuf ModelProto (onnx/onnx.proto), walked
 * field by field with the bounded wire reader in src/codec/protobuf.c.
 *
 *   ModelProto
 *   |- 1  ir_version          varint (required)
 *   |- 8  opset_import*       OperatorSetIdProto { 1 domain, 2 version }
 *   |- 2,3,4,6 producer_name, producer_version, domain, doc_string
 *   |- 7  graph               GraphProto
 *   |     |- 2  name
 *   |     |- 1  node*         NodeProto { 3 name, 4 op_type, 7 domain, 8 overload,
 *   |     |                               1 input*, 2 output*, 5 attribute* }
 *   |     |        attribute: AttributeProto { 1 name, 5 t, 10 tensors*,
 *   |     |                     6 g, 11 graphs*   <- If/Loop/Scan bodies: GraphProto again
 *   |     |                     22 sparse_tensor, 23 sparse_tensors* }
 *   |     |- 5  initializer*  TensorProto { 8 name, 9 raw_data, 14 data_location
 *   |     |                     (1 = EXTERNAL), 13 external_data* { 1 key, 2 value }
 *   |     |                     keys: location, offset, length, checksum }
 *   |     |- 15 sparse_initializer*  SparseTensorProto { 1 values, 2 indices }
 *   |     '- 11 input*, 12 output*, 13 value_info* (types only)
 *   |- 14 metadata_props*     StringStringEntryProto { 1 key, 2 value }
 *   |- 20 training_info*      TrainingInfoProto { 1 initialization, 2 algorithm }
 *   '- 25 functions*          FunctionProto { 1 name, 10 domain, 13 overload,
 *                                             7 node*, 9 opset_import* }
 *
 * Specification: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto and
 * https://github.com/onnx/onnx/blob/main/docs/IR.md (external data:
 * docs/ExternalData.md).
 *
 * Why by hand: the ONNX and protobuf libraries parse a whole model into memory
 * (and onnx.load follows external data paths); a scanner needs a bounded walk
 * that never opens the files a model names, survives any byte sequence and
 * sees every field the loader would see. The wire format is small enough to
 * read directly; only the fields above are interpreted, the rest is skipped
 * after its framing is checked.
 *
 * What is reported:
 * - operators from domains that are not part of ONNX or onnxruntime's
 *   contrib set ('' / ai.onnx, ai.onnx.ml, ai.onnx.training,
 *   ai.onnx.preview.training, com.microsoft): running them needs native code
 *   registered by whoever loads the model. A node calling a function defined
 *   in the model itself (same domain, name and overload) is not custom: the
 *   function's own nodes are walked instead.
 * - external data locations that are absolute or climb out of the model
 *   folder after normalisation. (Symbolic links leaving the folder are
 *   reported by the folder walk for every file, data files included.)
 * - anything that cannot be parsed, or a known field with the wrong wire
 *   type (protobuf would silently ignore it: no producer writes that).
 */
#include "onnx_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/protobuf.h"
#include "../../util/strbuf.h"

enum {
    ONNX_MAX_CUSTOM_PAIRS = 4096, /* distinct custom (domain, op) pairs listed */
    ONNX_MAX_FUNCTIONS = 1 << 20, /* model-local functions remembered */
    ONNX_NAMES_BYTES = 64 << 20,  /* bytes of names remembered per set */
    ONNX_MAX_TRAVERSALS = 64,     /* external-data findings per file */
    ONNX_MAX_COMPANIONS = 4096,   /* distinct external data files recorded */
    ONNX_EXAMPLES = 5,            /* node locations listed per custom op */
    ONNX_TIME_CHECK_EVERY = 4096, /* nodes between two time checks */
    ONNX_PATH_MAX = 1024,         /* bytes of "where" text kept */
    ONNX_SHOW = 200,              /* bytes of a name shown in a report */
};

/* Domains whose operators ship with ONNX runtimes. */
static const char *const standard_domains[] = {
    "", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "com.microsoft",
};

typedef struct custom_pair {
    size_t domain;  /* index in scan.custom_domains */
    char *op;       /* printable op_type */
    uint64_t count; /* nodes */
    ms_strbuf where;
} custom_pair;

typedef struct onnx_walk {
    ms_scan_ctx *ctx;
    pb_nameset functions;   /* "domain\x1fname\x1foverload" of model-local functions */
    pb_nameset custom_keys; /* "domain\x1fop_type" -> pairs[] */
    custom_pair *pairs;
    size_t pairs_cap;
    pb_nameset custom_domains; /* raw domain bytes, insertion order */
    pb_nameset companions;     /* external data files recorded, model-relative */
    json_t *opsets;            /* model opset imports */
    char path[ONNX_PATH_MAX];  /* where the walk is, for messages */
    size_t path_len;
    uint64_t nodes, graphs, tensors, external_tensors;
    unsigned traversals, traversals_dropped;
    char *error; /* first malformed structure */
    size_t error_offset;
    char *error_where;
    unsigned errors;
    bool depth_reported;
    bool stopped; /* out of time */
    bool nomem;
} onnx_walk;

/* ---- probe --------------------------------------------------------------- */

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
    return true;
}

/* The head of a ModelProto as every exporter writes it (fields in number
 * order): ir_version first, as a small varint, then another ModelProto field
 * with its proper wire type (a string field holding text: a SavedModel's
 * head, "\x08\x01\x12" + a message, must not pass). A truncated or damaged
 * model, or one without a graph, is then ONNX (reported malformed) rather
 * than unknown binary. */
static bool onnx_head(const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    if (!pb_next(&r, &f) || f.number != 1 || f.wire != PB_VARINT || f.value == 0 || f.value > 255)
        return false;
    /* the second tag by hand: its payload may be cut short */
    uint64_t tag, n;
    if (!pb_read_varint(&r.cur, &tag))
        return false;
    uint64_t number = tag >> 3, wire = tag & 7;
    if (number == 5)
        return wire == PB_VARINT; /* model_version */
    if (wire != PB_LEN || !pb_read_varint(&r.cur, &n))
        return false;
    size_t left = ms_cursor_left(&r.cur);
    switch (number) {
    case 2:
    case 3:
    case 4:
    case 6: /* producer, version, domain, doc: text */
        return printable(r.cur.base + r.cur.off, n < left ? (size_t)n : left);
    case 7:
    case 8:
    case 14:
    case 20:
    case 25:
        return true;
    default:
        return false;
    }
}

bool onnx_probe(const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    bool ir_version = false, body = false;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number == 1 && f.wire == PB_VARINT)
            ir_version = true;
        else if ((f.number == 7 || f.number == 25) && f.wire == PB_LEN &&
                 pb_message_valid(f.data, f.len))
            body = true;
    }
    return (r.error == NULL && ir_version && body) || onnx_head(data, len);
}

/* ---- helpers ------------------------------------------------------------- */

static size_t path_push(onnx_walk *sc, const char *fmt, ...) MS_PRINTF(2, 3);

/* Appends " > <text>" to the current path; returns the length to restore. */
static size_t path_push(onnx_walk *sc, const char *fmt, ...)
{
    size_t old = sc->path_len;
    size_t room = sizeof(sc->path) - old;
    if (room <= 4)
        return old;
    int n = 0;
    if (old > 0)
        n = snprintf(sc->path + old, room, " > ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(sc->path + old + (size_t)n, room - (size_t)n, fmt, ap);
    va_end(ap);
    size_t add = (size_t)n + (m > 0 ? (size_t)m : 0);
    sc->path_len = add < room ? old + add : sizeof(sc->path) - 1;
    return old;
}

static void path_pop(onnx_walk *sc, size_t old)
{
    sc->path_len = old;
    sc->path[old] = '\0';
}

static void malformed(onnx_walk *sc, size_t offset, const char *why)
{
    sc->errors++;
    if (sc->error)
        return;
    sc->error = strdup(why);
    sc->error_where = strdup(sc->path_len ? sc->path : "model");
    sc->error_offset = offset;
    if (!sc->error || !sc->error_where)
        sc->nomem = true;
}

/* A reader's own error (bad framing inside a message). */
static void reader_error(onnx_walk *sc, const pb_reader *r)
{
    if (r->error)
        malformed(sc, r->error_offset, r->error);
}

/* False (and malformed) when a known field has an unexpected wire type. */
static bool expect(onnx_walk *sc, const pb_field *f, pb_wire want, const char *field)
{
    if (f->wire == want)
        return true;
    char why[200];
    snprintf(why, sizeof(why), "%s (field %u) has wire type %s where %s is expected", field,
             f->number, pb_wire_name(f->wire), pb_wire_name(want));
    malformed(sc, f->offset, why);
    return false;
}

static bool bytes_eq(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    return n == m && memcmp(p, s, n) == 0;
}

static bool standard_domain(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof(standard_domains) / sizeof(standard_domains[0]); i++)
        if (bytes_eq(p, n, standard_domains[i]))
            return true;
    return false;
}

/* "a\x1fb\x1fc" into sb (capped by the name set's byte cap anyway). */
static void join_key(ms_strbuf *sb, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                     const uint8_t *c, size_t cn)
{
    ms_strbuf_append(sb, (const char *)a, an);
    ms_strbuf_append(sb, "\x1f", 1);
    ms_strbuf_append(sb, (const char *)b, bn);
    if (c) {
        ms_strbuf_append(sb, "\x1f", 1);
        ms_strbuf_append(sb, (const char *)c, cn);
    }
}

/* Shown names: printable, bounded, never NULL. */
static char *shown(const uint8_t *p, size_t n)
{
    char *s = pb_text(p, n, ONNX_SHOW);
    return s ? s : strdup("?");
}

static bool too_deep(onnx_walk *sc, unsigned depth, size_t offset)
{
    if (depth <= PB_MAX_DEPTH)
        return false;
    if (!sc->depth_reported)
        ms_report_add(sc->ctx->report, "SCAN-LIMIT", sc->ctx->location,
                      json_pack("{s:s, s:I, s:I}", "limit", "protobuf nesting depth", "max",
                                (json_int_t)PB_MAX_DEPTH, "offset", (json_int_t)offset),
                      "ONNX messages are nested more than %u deep at offset %zu (%s); the "
                      "protobuf library refuses such files and what lies deeper was not "
                      "analysed.",
                      PB_MAX_DEPTH, offset, sc->path_len ? sc->path : "model");
    sc->depth_reported = true;
    return true;
}

/* ---- the walk ------------------------------------------------------------ */

static void walk_graph(onnx_walk *sc, const pb_field *gf, unsigned depth, const char *role);

static void note_custom(onnx_walk *sc, const uint8_t *dom, size_t dn, const uint8_t *op, size_t on,
                        const uint8_t *name, size_t nn)
{
    ms_strbuf key;
    ms_strbuf_init(&key, 2 * ONNX_NAMES_BYTES);
    join_key(&key, dom, dn, op, on, NULL, 0);
    size_t k, d;
    bool ok =
        !key.nomem && pb_nameset_add(&sc->custom_keys, (const uint8_t *)key.data, key.len, &k);
    ms_strbuf_free(&key);
    if (!ok) {
        sc->nomem |= sc->custom_keys.nomem;
        return; /* over the cap: the pairs already listed are reported */
    }
    if (k >= sc->pairs_cap) {
        size_t n = sc->pairs_cap ? sc->pairs_cap * 2 : 16;
        while (n <= k)
            n *= 2;
        custom_pair *np = realloc(sc->pairs, n * sizeof(*np));
        if (!np) {
            sc->nomem = true;
            return;
        }
        memset(np + sc->pairs_cap, 0, (n - sc->pairs_cap) * sizeof(*np));
        sc->pairs = np;
        sc->pairs_cap = n;
    }
    custom_pair *cp = &sc->pairs[k];
    if (!cp->op) { /* first node with this pair */
        if (!pb_nameset_add(&sc->custom_domains, dom, dn, &d)) {
            sc->nomem |= sc->custom_domains.nomem;
            return;
        }
        cp->domain = d;
        cp->op = shown(op, on);
        ms_strbuf_init(&cp->where, 2048);
        if (!cp->op) {
            sc->nomem = true;
            return;
        }
    }
    cp->count++;
    if (cp->count <= ONNX_EXAMPLES) {
        char *nm = name ? shown(name, nn) : NULL;
        if (cp->where.len)
            ms_strbuf_puts(&cp->where, "; ");
        ms_strbuf_printf(&cp->where, "node '%s' in %s", nm ? nm : "(unnamed)",
                         sc->path_len ? sc->path : "the model");
        free(nm);
    }
}

static void classify_node(onnx_walk *sc, const uint8_t *dom, size_t dn, const uint8_t *op,
                          size_t on, const uint8_t *ovl, size_t ovn, const uint8_t *name, size_t nn)
{
    if (standard_domain(dom, dn))
        return;
    ms_strbuf key;
    ms_strbuf_init(&key, 3 * ONNX_NAMES_BYTES);
    join_key(&key, dom, dn, op, on, ovl, ovn);
    bool local =
        !key.nomem && pb_nameset_find(&sc->functions, (const uint8_t *)key.data, key.len, NULL);
    ms_strbuf_free(&key);
    if (!local)
        note_custom(sc, dom, dn, op, on, name, nn);
}

static void check_location(onnx_walk *sc, const uint8_t *tname, size_t tn, const uint8_t *loc,
                           size_t ln, uint64_t data_location, size_t offset)
{
    const char *why = onnx_location_escapes(loc, ln);
    if (!why)
        return;
    if (sc->traversals >= ONNX_MAX_TRAVERSALS) {
        sc->traversals_dropped++;
        return;
    }
    sc->traversals++;
    char *t = tname ? shown(tname, tn) : strdup("(unnamed)");
    char *l = shown(loc, ln);
    json_t *d = json_pack("{s:s, s:s, s:s, s:I, s:b, s:I, s:s}", "tensor", t ? t : "?",
                          "external_location", l ? l : "?", "reason", why, "data_location",
                          (json_int_t)data_location, "data_location_external", data_location == 1,
                          "offset", (json_int_t)offset, "where", sc->path_len ? sc->path : "model");
    ms_report_add(sc->ctx->report, "ONNX-EXTERNAL-DATA-TRAVERSAL", sc->ctx->location, d,
                  "Tensor '%s' (%s) keeps its data in the external file '%s', which %s. "
                  "Loading the model (onnx.load, onnxruntime) reads that file from the "
                  "loading machine into the model's weights.%s",
                  t ? t : "?", sc->path_len ? sc->path : "model", l ? l : "?", why,
                  data_location == 1 ? ""
                                     : " (data_location is not EXTERNAL here, but runtimes "
                                       "that honour external_data alone still follow it.)");
    free(t);
    free(l);
}

/* An external data file inside the model folder is recorded, so that the
 * scan recognises it as this model's data instead of unexplained content
 * (ms_report_resolve_companions). Only for a model on disk at the top level
 * (onnx.load resolves a location against the model file's folder), and only
 * for a location resolved exactly as the loader would: '/'-separated, no NUL
 * or backslash, '.' and '..' folded, never above the model folder. */
static void note_companion(onnx_walk *sc, const uint8_t *loc, size_t ln)
{
    const ms_scan_ctx *ctx = sc->ctx;
    if (ctx->depth != 0 || !ctx->root || ln == 0 || ln > 1024 || memchr(loc, 0, ln) ||
        memchr(loc, '\\', ln) || onnx_location_escapes(loc, ln))
        return;
    const char *slash = strrchr(ctx->location, '/');
    size_t dn = slash ? (size_t)(slash - ctx->location) : 0;
    char path[ONNX_PATH_MAX + 1100];
    if (dn >= ONNX_PATH_MAX)
        return;
    memcpy(path, ctx->location, dn);
    size_t n = dn;
    for (size_t i = 0; i < ln;) {
        size_t j = i;
        while (j < ln && loc[j] != '/')
            j++;
        size_t k = j - i;
        if (k == 2 && loc[i] == '.' && loc[i + 1] == '.') {
            while (n > 0 && path[n - 1] != '/')
                n--; /* drop the last segment and its separator */
            if (n > 0)
                n--;
        } else if (k > 0 && !(k == 1 && loc[i] == '.')) {
            if (n > 0)
                path[n++] = '/';
            memcpy(path + n, loc + i, k);
            n += k;
        }
        i = j + 1;
    }
    if (n == 0)
        return;
    path[n] = '\0';
    size_t before = sc->companions.count;
    if (!pb_nameset_add(&sc->companions, (const uint8_t *)path, n, NULL) ||
        sc->companions.count == before)
        return; /* known already, or over the cap (the file stays unrecognised) */
    if (!ms_report_add_companion(ctx->report, path, "onnx-external-data", ctx->location))
        sc->nomem = true;
}

static void walk_tensor(onnx_walk *sc, const pb_field *tf, unsigned depth)
{
    if (too_deep(sc, depth, tf->offset))
        return;
    sc->tensors++;
    pb_reader r;
    pb_field f;
    const uint8_t *name = NULL;
    size_t nn = 0;
    uint64_t data_location = 0;
    bool has_external = false;
    pb_reader_sub(&r, tf);
    while (pb_next(&r, &f)) {
        if (f.number == 8 && expect(sc, &f, PB_LEN, "TensorProto.name")) {
            name = f.data;
            nn = f.len;
        } else if (f.number == 14 && expect(sc, &f, PB_VARINT, "TensorProto.data_location")) {
            data_location = f.value;
        } else if (f.number == 13 && expect(sc, &f, PB_LEN, "TensorProto.external_data")) {
            has_external = true;
        }
    }
    reader_error(sc, &r);
    if (!has_external)
        return;
    sc->external_tensors++;
    /* second pass: the locations, now that the name and data_location are known */
    pb_reader_sub(&r, tf);
    while (pb_next(&r, &f)) {
        if (f.number != 13 || f.wire != PB_LEN)
            continue;
        pb_reader e;
        pb_field ef;
        const uint8_t *key = NULL, *value = NULL;
        size_t kn = 0, vn = 0;
        pb_reader_sub(&e, &f);
        while (pb_next(&e, &ef)) {
            if (ef.number == 1 && expect(sc, &ef, PB_LEN, "StringStringEntryProto.key")) {
                key = ef.data;
                kn = ef.len;
            } else if (ef.number == 2 && expect(sc, &ef, PB_LEN, "StringStringEntryProto.value")) {
                value = ef.data;
                vn = ef.len;
            }
        }
        reader_error(sc, &e);
        if (key && value && bytes_eq(key, kn, "location")) {
            check_location(sc, name, nn, value, vn, data_location, f.offset);
            note_companion(sc, value, vn);
        }
    }
}

static void walk_sparse(onnx_walk *sc, const pb_field *sf, unsigned depth)
{
    if (too_deep(sc, depth, sf->offset))
        return;
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, sf);
    while (pb_next(&r, &f))
        if ((f.number == 1 || f.number == 2) &&
            expect(sc, &f, PB_LEN,
                   f.number == 1 ? "SparseTensorProto.values" : "SparseTensorProto.indices"))
            walk_tensor(sc, &f, depth + 1);
    reader_error(sc, &r);
}

static void walk_attribute(onnx_walk *sc, const pb_field *af, unsigned depth)
{
    if (too_deep(sc, depth, af->offset))
        return;
    const uint8_t *an = NULL;
    size_t ann = 0;
    pb_find_len(af->data, af->len, 1, &an, &ann);
    char *aname = an ? shown(an, ann) : NULL;
    size_t mark = path_push(sc, "attribute '%s'", aname ? aname : "?");
    free(aname);
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, af);
    while (pb_next(&r, &f) && !sc->stopped) {
        switch (f.number) {
        case 5:
            if (expect(sc, &f, PB_LEN, "AttributeProto.t"))
                walk_tensor(sc, &f, depth + 1);
            break;
        case 10:
            if (expect(sc, &f, PB_LEN, "AttributeProto.tensors"))
                walk_tensor(sc, &f, depth + 1);
            break;
        case 6:
            if (expect(sc, &f, PB_LEN, "AttributeProto.g"))
                walk_graph(sc, &f, depth + 1, "subgraph");
            break;
        case 11:
            if (expect(sc, &f, PB_LEN, "AttributeProto.graphs"))
                walk_graph(sc, &f, depth + 1, "subgraph");
            break;
        case 22:
            if (expect(sc, &f, PB_LEN, "AttributeProto.sparse_tensor"))
                walk_sparse(sc, &f, depth + 1);
            break;
        case 23:
            if (expect(sc, &f, PB_LEN, "AttributeProto.sparse_tensors"))
                walk_sparse(sc, &f, depth + 1);
            break;
        case 1:
            expect(sc, &f, PB_LEN, "AttributeProto.name");
            break;
        default:
            break;
        }
    }
    reader_error(sc, &r);
    path_pop(sc, mark);
}

static void walk_node(onnx_walk *sc, const pb_field *nf, unsigned depth)
{
    if (too_deep(sc, depth, nf->offset))
        return;
    if (++sc->nodes % ONNX_TIME_CHECK_EVERY == 0 && !ms_budget_time_left(sc->ctx)) {
        sc->stopped = true;
        return;
    }
    static const uint8_t empty[1] = {0};
    const uint8_t *op = NULL, *dom = empty, *name = NULL, *ovl = empty;
    size_t on = 0, dn = 0, nn = 0, ovn = 0;
    bool attributes = false;
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, nf);
    while (pb_next(&r, &f)) {
        switch (f.number) {
        case 3:
            if (expect(sc, &f, PB_LEN, "NodeProto.name")) {
                name = f.data;
                nn = f.len;
            }
            break;
        case 4:
            if (expect(sc, &f, PB_LEN, "NodeProto.op_type")) {
                op = f.data;
                on = f.len;
            }
            break;
        case 7:
            if (expect(sc, &f, PB_LEN, "NodeProto.domain")) {
                dom = f.data;
                dn = f.len;
            }
            break;
        case 8:
            if (expect(sc, &f, PB_LEN, "NodeProto.overload")) {
                ovl = f.data;
                ovn = f.len;
            }
            break;
        case 5:
            attributes = expect(sc, &f, PB_LEN, "NodeProto.attribute") || attributes;
            break;
        default:
            break;
        }
    }
    reader_error(sc, &r);
    if (!op || on == 0) {
        char *nm = name ? shown(name, nn) : NULL;
        char why[300];
        snprintf(why, sizeof(why), "node '%s' has no op_type", nm ? nm : "(unnamed)");
        free(nm);
        malformed(sc, nf->offset, why);
    } else {
        classify_node(sc, dom, dn, op, on, ovl, ovn, name, nn);
    }
    if (!attributes)
        return;
    char *nm = name ? shown(name, nn) : NULL;
    char *ot = op ? shown(op, on) : NULL;
    size_t mark = path_push(sc, "node '%s' (%s)", nm ? nm : "(unnamed)", ot ? ot : "?");
    free(nm);
    free(ot);
    pb_reader_sub(&r, nf);
    while (pb_next(&r, &f) && !sc->stopped)
        if (f.number == 5 && f.wire == PB_LEN)
            walk_attribute(sc, &f, depth + 1);
    path_pop(sc, mark);
}

static void walk_graph(onnx_walk *sc, const pb_field *gf, unsigned depth, const char *role)
{
    if (too_deep(sc, depth, gf->offset))
        return;
    sc->graphs++;
    const uint8_t *gn = NULL;
    size_t gnn = 0;
    pb_find_len(gf->data, gf->len, 2, &gn, &gnn);
    char *gname = gn ? shown(gn, gnn) : NULL;
    size_t mark = path_push(sc, "%s '%s'", role, gname ? gname : "(unnamed)");
    free(gname);
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, gf);
    while (pb_next(&r, &f) && !sc->stopped) {
        switch (f.number) {
        case 1:
            if (expect(sc, &f, PB_LEN, "GraphProto.node"))
                walk_node(sc, &f, depth + 1);
            break;
        case 5:
            if (expect(sc, &f, PB_LEN, "GraphProto.initializer"))
                walk_tensor(sc, &f, depth + 1);
            break;
        case 15:
            if (expect(sc, &f, PB_LEN, "GraphProto.sparse_initializer"))
                walk_sparse(sc, &f, depth + 1);
            break;
        case 2:
            expect(sc, &f, PB_LEN, "GraphProto.name");
            break;
        default:
            break;
        }
    }
    reader_error(sc, &r);
    path_pop(sc, mark);
}

/* Name, domain and overload of a FunctionProto (missing ones are empty). */
static void function_id(const pb_field *ff, const uint8_t **name, size_t *nn, const uint8_t **dom,
                        size_t *dn, const uint8_t **ovl, size_t *ovn)
{
    static const uint8_t empty[1] = {0};
    *name = *dom = *ovl = empty;
    *nn = *dn = *ovn = 0;
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, ff);
    while (pb_next(&r, &f)) {
        if (f.wire != PB_LEN)
            continue;
        if (f.number == 1) {
            *name = f.data;
            *nn = f.len;
        } else if (f.number == 10) {
            *dom = f.data;
            *dn = f.len;
        } else if (f.number == 13) {
            *ovl = f.data;
            *ovn = f.len;
        }
    }
}

static void walk_function(onnx_walk *sc, const pb_field *ff, unsigned depth)
{
    if (too_deep(sc, depth, ff->offset))
        return;
    const uint8_t *name, *dom, *ovl;
    size_t nn, dn, ovn;
    function_id(ff, &name, &nn, &dom, &dn, &ovl, &ovn);
    char *n = shown(name, nn), *d = shown(dom, dn);
    size_t mark = path_push(sc, "function '%s%s%s'", d ? d : "", dn ? "." : "", n ? n : "?");
    free(n);
    free(d);
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, ff);
    while (pb_next(&r, &f) && !sc->stopped) {
        switch (f.number) {
        case 7:
            if (expect(sc, &f, PB_LEN, "FunctionProto.node"))
                walk_node(sc, &f, depth + 1);
            break;
        case 1:
            expect(sc, &f, PB_LEN, "FunctionProto.name");
            break;
        case 10:
            expect(sc, &f, PB_LEN, "FunctionProto.domain");
            break;
        default:
            break;
        }
    }
    reader_error(sc, &r);
    path_pop(sc, mark);
}

static void walk_training_info(onnx_walk *sc, const pb_field *tf, unsigned depth)
{
    if (too_deep(sc, depth, tf->offset))
        return;
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, tf);
    while (pb_next(&r, &f) && !sc->stopped) {
        if (f.number == 1 && expect(sc, &f, PB_LEN, "TrainingInfoProto.initialization"))
            walk_graph(sc, &f, depth + 1, "training initialization graph");
        else if (f.number == 2 && expect(sc, &f, PB_LEN, "TrainingInfoProto.algorithm"))
            walk_graph(sc, &f, depth + 1, "training algorithm graph");
    }
    reader_error(sc, &r);
}

static void note_opset(onnx_walk *sc, const pb_field *of)
{
    pb_reader r;
    pb_field f;
    const uint8_t *dom = NULL;
    size_t dn = 0;
    int64_t version = -1;
    pb_reader_sub(&r, of);
    while (pb_next(&r, &f)) {
        if (f.number == 1 && expect(sc, &f, PB_LEN, "OperatorSetIdProto.domain")) {
            dom = f.data;
            dn = f.len;
        } else if (f.number == 2 && expect(sc, &f, PB_VARINT, "OperatorSetIdProto.version")) {
            version = (int64_t)f.value;
        }
    }
    reader_error(sc, &r);
    if (json_array_size(sc->opsets) >= 256)
        return;
    char *d = dom ? shown(dom, dn) : strdup("");
    json_t *o = json_pack("{s:s, s:I}", "domain", d ? d : "?", "version", (json_int_t)version);
    if (o)
        json_array_append_new(sc->opsets, o);
    free(d);
}

/* Pre-pass: the identity of every model-local function, so that nodes
 * calling them are not taken for custom operators. */
static void collect_functions(onnx_walk *sc, const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number != 25 || f.wire != PB_LEN)
            continue;
        const uint8_t *name, *dom, *ovl;
        size_t nn, dn, ovn;
        function_id(&f, &name, &nn, &dom, &dn, &ovl, &ovn);
        ms_strbuf key;
        ms_strbuf_init(&key, 3 * ONNX_NAMES_BYTES);
        join_key(&key, dom, dn, name, nn, ovl, ovn);
        if (!key.nomem && !pb_nameset_add(&sc->functions, (const uint8_t *)key.data, key.len, NULL))
            sc->nomem |= sc->functions.nomem;
        ms_strbuf_free(&key);
    }
}

/* ---- reporting ------------------------------------------------------------ */

static void report_custom(onnx_walk *sc)
{
    for (size_t d = 0; d < sc->custom_domains.count; d++) {
        const pb_name *dom = &sc->custom_domains.names[d];
        char *dshow = shown((const uint8_t *)dom->p, dom->n);
        ms_strbuf text;
        ms_strbuf_init(&text, 16384);
        json_t *ops = json_array();
        uint64_t nodes = 0;
        size_t kinds = 0;
        for (size_t k = 0; k < sc->custom_keys.count && k < sc->pairs_cap; k++) {
            custom_pair *cp = &sc->pairs[k];
            if (!cp->op || cp->domain != d)
                continue;
            kinds++;
            nodes += cp->count;
            if (text.len)
                ms_strbuf_puts(&text, "; ");
            ms_strbuf_printf(&text, "%s x%llu (%s%s)", cp->op, (unsigned long long)cp->count,
                             cp->where.data ? cp->where.data : "",
                             cp->count > ONNX_EXAMPLES ? ", ..." : "");
            json_t *o =
                json_pack("{s:s, s:I, s:s}", "op_type", cp->op, "nodes", (json_int_t)cp->count,
                          "where", cp->where.data ? cp->where.data : "");
            if (o)
                json_array_append_new(ops, o);
        }
        json_t *det = json_pack("{s:s, s:o, s:I}", "domain", dshow ? dshow : "?", "operators",
                                ops ? ops : json_array(), "nodes", (json_int_t)nodes);
        if (det && sc->opsets)
            json_object_set(det, "opset_import", sc->opsets);
        ms_report_add(sc->ctx->report, "ONNX-CUSTOM-OPERATOR", sc->ctx->location, det,
                      "The model uses %zu operator type(s) from the custom domain '%s' in %llu "
                      "node(s): %s. No ONNX runtime ships these: running the model needs a "
                      "native custom-operator library for this domain, registered by whoever "
                      "loads it.",
                      kinds, dshow ? dshow : "?", (unsigned long long)nodes,
                      text.data ? text.data : "");
        free(dshow);
        ms_strbuf_free(&text);
    }
    if (sc->custom_keys.full)
        ms_report_add(sc->ctx->report, "SCAN-LIMIT", sc->ctx->location,
                      json_pack("{s:s, s:I}", "limit", "custom operator types listed", "max",
                                (json_int_t)ONNX_MAX_CUSTOM_PAIRS),
                      "More than %d distinct custom operator types; the others were not listed.",
                      ONNX_MAX_CUSTOM_PAIRS);
}

static void onnx_walk_free(onnx_walk *sc)
{
    for (size_t k = 0; k < sc->custom_keys.count && k < sc->pairs_cap; k++) {
        free(sc->pairs[k].op);
        ms_strbuf_free(&sc->pairs[k].where);
    }
    free(sc->pairs);
    pb_nameset_free(&sc->functions);
    pb_nameset_free(&sc->custom_keys);
    pb_nameset_free(&sc->custom_domains);
    pb_nameset_free(&sc->companions);
    json_decref(sc->opsets);
    free(sc->error);
    free(sc->error_where);
}

ms_status onnx_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    onnx_walk sc;
    memset(&sc, 0, sizeof(sc));
    sc.ctx = ctx;
    pb_nameset_init(&sc.functions, ONNX_MAX_FUNCTIONS, ONNX_NAMES_BYTES);
    pb_nameset_init(&sc.custom_keys, ONNX_MAX_CUSTOM_PAIRS, ONNX_NAMES_BYTES);
    pb_nameset_init(&sc.custom_domains, ONNX_MAX_CUSTOM_PAIRS, ONNX_NAMES_BYTES);
    pb_nameset_init(&sc.companions, ONNX_MAX_COMPANIONS, 1u << 20);
    sc.opsets = json_array();
    if (!sc.opsets) {
        onnx_walk_free(&sc);
        return MS_NOMEM;
    }
    collect_functions(&sc, data, len);

    pb_reader r;
    pb_field f;
    bool ir_version = false, graph = false;
    uint64_t ir = 0, functions = 0;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f) && !sc.stopped) {
        switch (f.number) {
        case 1:
            if (expect(&sc, &f, PB_VARINT, "ModelProto.ir_version")) {
                ir_version = true;
                ir = f.value;
            }
            break;
        case 7:
            if (expect(&sc, &f, PB_LEN, "ModelProto.graph")) {
                graph = true;
                walk_graph(&sc, &f, 1, "graph");
            }
            break;
        case 8:
            if (expect(&sc, &f, PB_LEN, "ModelProto.opset_import"))
                note_opset(&sc, &f);
            break;
        case 20:
            if (expect(&sc, &f, PB_LEN, "ModelProto.training_info"))
                walk_training_info(&sc, &f, 1);
            break;
        case 25:
            if (expect(&sc, &f, PB_LEN, "ModelProto.functions")) {
                functions++;
                walk_function(&sc, &f, 1);
            }
            break;
        case 14:
            expect(&sc, &f, PB_LEN, "ModelProto.metadata_props");
            break;
        case 2:
            expect(&sc, &f, PB_LEN, "ModelProto.producer_name");
            break;
        default:
            break;
        }
    }
    reader_error(&sc, &r);
    if (!sc.stopped && !r.error && !ir_version)
        malformed(&sc, 0, "the model has no ir_version");
    if (!sc.stopped && !r.error && !graph && functions == 0)
        malformed(&sc, 0, "the model has neither a graph nor functions");

    report_custom(&sc);
    if (sc.traversals_dropped)
        ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                      json_pack("{s:s, s:I, s:I}", "limit", "external-data findings", "max",
                                (json_int_t)ONNX_MAX_TRAVERSALS, "not_reported",
                                (json_int_t)sc.traversals_dropped),
                      "%u further tensors with external data leaving the model folder were "
                      "not reported individually (limit %d).",
                      sc.traversals_dropped, ONNX_MAX_TRAVERSALS);
    if (sc.error)
        ms_report_add(ctx->report, "ONNX-MALFORMED", ctx->location,
                      json_pack("{s:s, s:I, s:s, s:I, s:I}", "error", sc.error, "offset",
                                (json_int_t)sc.error_offset, "where", sc.error_where, "problems",
                                (json_int_t)sc.errors, "ir_version", (json_int_t)ir),
                      "The ONNX model cannot be fully parsed: %s at offset %zu (%s)%s. A "
                      "loader may reject the file or read it differently from this scanner; "
                      "what follows the break inside that message was not analysed.",
                      sc.error, sc.error_offset, sc.error_where,
                      sc.errors > 1 ? ", among other problems" : "");
    ms_status st = sc.nomem ? MS_NOMEM : MS_OK;
    onnx_walk_free(&sc);
    return st;
}

/* ---- external data locations ---------------------------------------------- */

const char *onnx_location_escapes(const uint8_t *loc, size_t len)
{
    /* the operating system sees the path up to its first NUL */
    const uint8_t *nul = memchr(loc, 0, len);
    if (nul)
        len = (size_t)(nul - loc);
    if (len == 0)
        return NULL;
    if (loc[0] == '/' || loc[0] == '\\')
        return "is an absolute path";
    if (len >= 2 && loc[1] == ':' &&
        ((loc[0] >= 'A' && loc[0] <= 'Z') || (loc[0] >= 'a' && loc[0] <= 'z')))
        return "is an absolute Windows path (drive letter)";
    /* normalise: '/' and '\\' separate (Windows runtimes honour both) */
    size_t depth = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && loc[j] != '/' && loc[j] != '\\')
            j++;
        size_t k = j - i;
        if (k == 2 && loc[i] == '.' && loc[i + 1] == '.') {
            if (depth == 0)
                return "climbs out of the model folder ('..' above its top)";
            depth--;
        } else if (k > 0 && !(k == 1 && loc[i] == '.')) {
            depth++;
        }
        i = j + 1;
    }
    return NULL;
}

/* ---- metadata --------------------------------------------------------------- */

ms_status onnx_metadata_foreach(const uint8_t *data, size_t len, onnx_metadata_fn fn, void *ud)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number != 14 || f.wire != PB_LEN)
            continue;
        pb_reader e;
        pb_field ef;
        const uint8_t *key = (const uint8_t *)"", *value = (const uint8_t *)"";
        size_t kn = 0, vn = 0;
        pb_reader_sub(&e, &f);
        while (pb_next(&e, &ef)) {
            if (ef.number == 1 && ef.wire == PB_LEN) {
                key = ef.data;
                kn = ef.len;
            } else if (ef.number == 2 && ef.wire == PB_LEN) {
                value = ef.data;
                vn = ef.len;
            }
        }
        if (e.error)
            return MS_MALFORMED;
        if (!fn(ud, key, kn, value, vn))
            return MS_OK;
    }
    return r.error ? MS_MALFORMED : MS_OK;
}
