/*
 * tfgraph_scan.c - TensorFlow graphs, walked with the bounded protobuf wire
 * reader in src/codec/protobuf.c:
 *
 *   SavedModel (saved_model.pb)
 *   |- 1 saved_model_schema_version   varint
 *   '- 2 meta_graphs*                 MetaGraphDef
 *        |- 1 meta_info_def, 3 saver_def, 4 collection_def, 5 signature_def,
 *        |  6 asset_file_def, 7 object_graph_def      (no ops: framing only)
 *        '- 2 graph_def               GraphDef   <- also a whole frozen .pb file
 *             |- 1 node*              NodeDef { 1 name, 2 op, 3 input*, 4 device,
 *             |                                 5 attr* (map entry: 1 key, 2 AttrValue) }
 *             |     AttrValue { 2 s, 8 tensor, 10 func: NameAttrList { 1 name, 2 attr* },
 *             |                 1 list: ListValue { 2 s*, 8 tensor*, 9 func* } }
 *             |- 2 library            FunctionDefLibrary
 *             |     '- 1 function*    FunctionDef { 1 signature: OpDef { 1 name },
 *             |                                     3 node_def* (NodeDef), 5 attr* }
 *             '- 3 version, 4 versions
 *
 *   keras_metadata.pb: SavedMetadata { 1 nodes*: SavedObject { 2 node_id,
 *                      3 node_path, 4 identifier, 5 metadata (JSON), 6 version } }
 *   fingerprint.pb:    FingerprintDef { 1..5 hashes (varint), 6 version, 7 uuid }
 *
 * keras_metadata.pb carries no ops: each SavedObject's metadata (the layer's
 * Keras config as JSON) goes to the Keras config analyser
 * (src/formats/keras/keras_config.c), which reports Lambda layers, modules
 * outside Keras and the other Keras deserialization hazards.
 *
 * Specification: tensorflow/core/protobuf/saved_model.proto, meta_graph.proto,
 * tensorflow/core/framework/graph.proto, node_def.proto, function.proto,
 * attr_value.proto (https://github.com/tensorflow/tensorflow); Keras:
 * keras/protobuf/saved_metadata.proto.
 *
 * Why by hand: TensorFlow is not in Debian, and its loaders import the graph
 * (registering ops, resolving kernels) while a scanner must only read it. The
 * wire format is small; only the fields above are interpreted.
 *
 * Every op is classified (src/formats/tfgraph/tf_ops.c): a node's op, and
 * every function named in an attribute (func / list.func) that is not in the
 * library - TensorFlow instantiates such a name as a primitive op, so
 * PartitionedCall(f=PyFunc) runs PyFunc. Ops naming a library function are
 * calls; the function's own nodes are walked as part of the library.
 *
 * The saver: every SavedModel carries checkpoint I/O (SaveV2, RestoreV2,
 * MergeV2Checkpoints, ShardedFilename ...). Those ops are expected - and not
 * reported - inside the functions TensorFlow generates for it
 * (__inference__traced_save_<n>, __inference__traced_restore_<n>,
 * __inference_save_fn_<n>, __inference_restore_fn_<n>) and, in TF1 graphs,
 * under the Saver's "save/" (or "save_<n>/") name scope. Anywhere else they
 * are reported as file access like ReadFile. Other file ops are never exempt.
 */
#include "tfgraph_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/protobuf.h"
#include "../../util/strbuf.h"
#include "../keras/keras_config.h"
#include "tf_ops.h"

enum {
    TF_MAX_FUNCTIONS = 1 << 20, /* library functions remembered per file */
    TF_MAX_OP_RECORDS = 65536,  /* distinct reported (class, op) pairs */
    TF_MAX_CONSTS = 1 << 16,    /* string constants remembered per graph/function */
    TF_NAMES_BYTES = 64 << 20,  /* bytes of names remembered per set */
    TF_EXAMPLES = 5,            /* node locations listed per op */
    TF_TIME_CHECK_EVERY = 4096, /* nodes between two time checks */
    TF_SHOW = 200,              /* bytes of a name shown in a report */
    TF_MAX_JSON = 64 << 20,     /* bytes of one Keras metadata JSON parsed here */
    TF_JSON_DEPTH = 2048,       /* JSON nesting walked (jansson's own parse limit) */
};

typedef struct op_record {
    tf_op_class cls;
    char *op; /* printable */
    uint64_t count;
    ms_strbuf where;  /* first TF_EXAMPLES locations */
    ms_strbuf notes;  /* tokens, file names, output streams */
    json_t *examples; /* same, machine-readable */
} op_record;

typedef struct tf_scan {
    ms_scan_ctx *ctx;
    const char *rule_malformed;
    pb_nameset functions; /* every library function name in the file */
    pb_nameset records;   /* class byte + op name -> recs[] */
    op_record *recs;
    size_t recs_cap;
    pb_nameset consts; /* node name -> const_values[] (current scope) */
    char **const_values;
    size_t const_cap;
    uint64_t nodes, functions_walked, saver_ops;
    char *error;
    size_t error_offset;
    char *error_where;
    unsigned errors;
    bool depth_reported;
    bool stopped;
    bool nomem;
} tf_scan;

/* ---- helpers ------------------------------------------------------------- */

/* Grows a zero-filled array to hold index `need`; false when out of memory. */
static bool ensure_slot(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need < *cap)
        return true;
    size_t n = *cap ? *cap : 16;
    while (n <= need)
        n *= 2;
    uint8_t *p = realloc(*arr, n * elem);
    if (!p)
        return false;
    memset(p + *cap * elem, 0, (n - *cap) * elem);
    *arr = p;
    *cap = n;
    return true;
}

static char *shown(const uint8_t *p, size_t n)
{
    char *s = pb_text(p, n, TF_SHOW);
    return s ? s : strdup("?");
}

static bool bytes_eq(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    return n == m && memcmp(p, s, n) == 0;
}

static bool bytes_prefix(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    return n >= m && memcmp(p, s, m) == 0;
}

static void malformed(tf_scan *sc, size_t offset, const char *why, const char *where)
{
    sc->errors++;
    if (sc->error)
        return;
    sc->error = strdup(why);
    sc->error_where = strdup(where ? where : "file");
    sc->error_offset = offset;
    if (!sc->error || !sc->error_where)
        sc->nomem = true;
}

static void reader_error(tf_scan *sc, const pb_reader *r, const char *where)
{
    if (r->error)
        malformed(sc, r->error_offset, r->error, where);
}

static bool expect(tf_scan *sc, const pb_field *f, pb_wire want, const char *field)
{
    if (f->wire == want)
        return true;
    char why[200];
    snprintf(why, sizeof(why), "%s (field %u) has wire type %s where %s is expected", field,
             f->number, pb_wire_name(f->wire), pb_wire_name(want));
    malformed(sc, f->offset, why, field);
    return false;
}

static bool too_deep(tf_scan *sc, unsigned depth, size_t offset)
{
    if (depth <= PB_MAX_DEPTH)
        return false;
    if (!sc->depth_reported)
        ms_report_add(sc->ctx->report, "SCAN-LIMIT", sc->ctx->location,
                      json_pack("{s:s, s:I, s:I}", "limit", "protobuf nesting depth", "max",
                                (json_int_t)PB_MAX_DEPTH, "offset", (json_int_t)offset),
                      "TensorFlow messages are nested more than %u deep at offset %zu; the "
                      "protobuf library refuses such files and what lies deeper was not "
                      "analysed.",
                      PB_MAX_DEPTH, offset);
    sc->depth_reported = true;
    return true;
}

/* A name TensorFlow would accept as an op ("[A-Za-z_][A-Za-z0-9_>.]*"). */
static bool plausible_op(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 256)
        return false;
    if (!((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z') || p[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
              (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '>' || p[i] == '.'))
            return false;
    return true;
}

/* ---- probes -------------------------------------------------------------- */

/* A NodeDef with a plausible op, and nothing but well-formed fields. */
static bool plausible_node(const uint8_t *d, size_t n)
{
    const uint8_t *op;
    size_t on;
    return pb_message_valid(d, n) && pb_find_len(d, n, 2, &op, &on) && plausible_op(op, on);
}

/* A GraphDef: every node (field 1) a message, at least one plausible node or
 * a library with a function. */
static bool plausible_graph(const uint8_t *d, size_t n)
{
    pb_reader r;
    pb_field f;
    bool some = false;
    pb_reader_init(&r, d, n, 0);
    while (pb_next(&r, &f)) {
        if (f.number == 1) {
            if (f.wire != PB_LEN || !pb_message_valid(f.data, f.len))
                return false;
            some = some || plausible_node(f.data, f.len);
        } else if (f.number == 2 && f.wire == PB_LEN && pb_message_valid(f.data, f.len)) {
            const uint8_t *fn;
            size_t fnn;
            some = some || pb_find_len(f.data, f.len, 1, &fn, &fnn);
        }
    }
    return r.error == NULL && some;
}

/* The head TensorFlow writes: saved_model_schema_version = 1, then a meta
 * graph. Enough to call a truncated or damaged file a SavedModel (reported
 * malformed). */
static bool savedmodel_head(const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    if (!pb_next(&r, &f) || f.number != 1 || f.wire != PB_VARINT || f.value != 1)
        return false;
    /* field 2 (LEN), then a length, then a MetaGraphDef field 1 or 2 (LEN) */
    uint64_t n;
    return ms_cursor_u8(&r.cur) == 0x12 && pb_read_varint(&r.cur, &n) && n > 0 &&
           ms_cursor_left(&r.cur) > 0 &&
           (r.cur.base[r.cur.off] == 0x0a || r.cur.base[r.cur.off] == 0x12);
}

bool tf_savedmodel_probe(const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    bool graph = false;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number != 2 || f.wire != PB_LEN || graph || !pb_message_valid(f.data, f.len))
            continue;
        pb_reader m;
        pb_field g;
        pb_reader_sub(&m, &f);
        while (pb_next(&m, &g))
            if (g.number == 2 && g.wire == PB_LEN && plausible_graph(g.data, g.len))
                graph = true;
    }
    return (r.error == NULL && graph) || savedmodel_head(data, len);
}

bool tf_graphdef_probe(const uint8_t *data, size_t len)
{
    if (plausible_graph(data, len))
        return true;
    /* a truncated frozen graph: a complete first node with a plausible op and
     * a name, then (somewhere) broken framing */
    pb_reader r;
    pb_field f;
    const uint8_t *name;
    size_t nn;
    pb_reader_init(&r, data, len, 0);
    if (!pb_next(&r, &f) || f.number != 1 || f.wire != PB_LEN || !plausible_node(f.data, f.len) ||
        !pb_find_len(f.data, f.len, 1, &name, &nn) || nn == 0)
        return false;
    while (pb_next(&r, &f)) {
    }
    return r.error != NULL;
}

bool tf_keras_metadata_probe(const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    bool keras = false;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number != 1 || f.wire != PB_LEN || !pb_message_valid(f.data, f.len))
            return false;
        const uint8_t *id;
        size_t idn;
        if (pb_find_len(f.data, f.len, 4, &id, &idn) && bytes_prefix(id, idn, "_tf_keras_"))
            keras = true;
    }
    return r.error == NULL && keras;
}

bool tf_fingerprint_probe(const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    bool checksum = false, version = false;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number >= 1 && f.number <= 5 && f.wire == PB_VARINT)
            checksum = checksum || f.number == 1;
        else if (f.number == 6 && f.wire == PB_LEN && pb_message_valid(f.data, f.len))
            version = true;
        else if (f.number == 7 && f.wire == PB_LEN)
            continue;
        else
            return false;
    }
    return r.error == NULL && checksum && version;
}

/* ---- op records ---------------------------------------------------------- */

static op_record *record_for(tf_scan *sc, tf_op_class cls, const uint8_t *op, size_t on)
{
    ms_strbuf key;
    ms_strbuf_init(&key, TF_NAMES_BYTES);
    char c = (char)('0' + (int)cls);
    ms_strbuf_append(&key, &c, 1);
    ms_strbuf_append(&key, (const char *)op, on);
    size_t k;
    bool ok = !key.nomem && pb_nameset_add(&sc->records, (const uint8_t *)key.data, key.len, &k);
    ms_strbuf_free(&key);
    if (!ok) {
        sc->nomem |= sc->records.nomem;
        return NULL;
    }
    if (!ensure_slot((void **)&sc->recs, &sc->recs_cap, k, sizeof(*sc->recs))) {
        sc->nomem = true;
        return NULL;
    }
    op_record *rec = &sc->recs[k];
    if (!rec->op) {
        rec->cls = cls;
        rec->op = shown(op, on);
        ms_strbuf_init(&rec->where, 4096);
        ms_strbuf_init(&rec->notes, 4096);
        rec->examples = json_array();
        if (!rec->op || !rec->examples) {
            sc->nomem = true;
            return NULL;
        }
    }
    return rec;
}

/* What a node is: collected in one pass, then classified. */
typedef struct node_info {
    const uint8_t *name, *op;
    size_t name_len, op_len;
    const uint8_t *input0; /* first input, to name a file op's target */
    size_t input0_len;
    const uint8_t *note_attr; /* token / output_stream / descriptor_source value */
    size_t note_len;
    const char *note_key;
    size_t offset;
} node_info;

static void record_op(tf_scan *sc, tf_op_class cls, const node_info *ni, const char *scope,
                      const char *via)
{
    op_record *rec = record_for(sc, cls, ni->op, ni->op_len);
    if (!rec)
        return;
    rec->count++;
    if (rec->count > TF_EXAMPLES)
        return;
    char *nm = ni->name ? shown(ni->name, ni->name_len) : strdup("(unnamed)");
    char *note = NULL;
    if (ni->note_attr)
        note = shown(ni->note_attr, ni->note_len);
    const char *target = NULL;
    size_t ci;
    if (ni->input0 && (cls == TF_OP_FILE || cls == TF_OP_SAVER)) {
        /* "node", "node:0", "node:output:0", "^node": the constant's name */
        size_t n = 0;
        const uint8_t *p = ni->input0;
        size_t len = ni->input0_len;
        if (len && p[0] == '^') {
            p++;
            len--;
        }
        while (n < len && p[n] != ':')
            n++;
        if (pb_nameset_find(&sc->consts, p, n, &ci) && ci < sc->const_cap)
            target = sc->const_values[ci];
    }
    if (rec->where.len)
        ms_strbuf_puts(&rec->where, "; ");
    ms_strbuf_printf(&rec->where, "%snode '%s' in %s", via ? via : "", nm ? nm : "?", scope);
    if (target)
        ms_strbuf_printf(&rec->where, " on '%s'", target);
    if (note && ni->note_key) {
        if (rec->notes.len)
            ms_strbuf_puts(&rec->notes, ", ");
        ms_strbuf_printf(&rec->notes, "%s='%s'", ni->note_key, note);
    }
    json_t *ex = json_pack("{s:s, s:s, s:I}", "node", nm ? nm : "?", "scope", scope, "offset",
                           (json_int_t)ni->offset);
    if (ex && target)
        json_object_set_new(ex, "constant_input", json_string(target));
    if (ex && note && ni->note_key)
        json_object_set_new(ex, ni->note_key, json_string(note));
    if (ex && via)
        json_object_set_new(ex, "via", json_string(via));
    if (ex)
        json_array_append_new(rec->examples, ex);
    free(nm);
    free(note);
}

/* Classifies one op use. `saver_context`: inside the standard saver. */
static void classify(tf_scan *sc, const node_info *ni, const char *scope, bool saver_context,
                     const char *via)
{
    if (pb_nameset_find(&sc->functions, ni->op, ni->op_len, NULL))
        return; /* a call of a library function, walked on its own */
    tf_op_class cls = tf_op_classify(ni->op, ni->op_len);
    /* ops whose attributes decide whether they touch files: PrintV2 writing
     * to "file://...", proto codecs reading a descriptor file */
    const char *key = ni->note_attr ? ni->note_key : NULL;
    if (bytes_eq(ni->op, ni->op_len, "PrintV2") && key && !strcmp(key, "output_stream") &&
        bytes_prefix(ni->note_attr, ni->note_len, "file://"))
        cls = TF_OP_FILE;
    if (bytes_eq(ni->op, ni->op_len, "DecodeProtoV2") ||
        bytes_eq(ni->op, ni->op_len, "EncodeProto"))
        cls = key && !strcmp(key, "descriptor_source") && ni->note_len > 0 &&
                      !bytes_eq(ni->note_attr, ni->note_len, "local://")
                  ? TF_OP_FILE
                  : TF_OP_SAFE;
    switch (cls) {
    case TF_OP_SAFE:
        return;
    case TF_OP_SAVER:
        if (saver_context) {
            sc->saver_ops++;
            return;
        }
        record_op(sc, TF_OP_SAVER, ni, scope, via);
        return;
    default:
        record_op(sc, cls, ni, scope, via);
        return;
    }
}

/* ---- attributes: function references and notable strings -------------------- */

static void walk_attr_value(tf_scan *sc, const pb_field *vf, unsigned depth, const char *scope,
                            const node_info *owner, const uint8_t *key, size_t key_len);

/* A NameAttrList: its name is a function or a primitive op. */
static void walk_name_attr_list(tf_scan *sc, const pb_field *lf, unsigned depth, const char *scope,
                                const node_info *owner, const uint8_t *key, size_t key_len)
{
    if (too_deep(sc, depth, lf->offset))
        return;
    pb_reader r;
    pb_field f;
    const uint8_t *name = NULL;
    size_t nn = 0;
    pb_reader_sub(&r, lf);
    while (pb_next(&r, &f)) {
        if (f.number == 1 && expect(sc, &f, PB_LEN, "NameAttrList.name")) {
            name = f.data;
            nn = f.len;
        } else if (f.number == 2 && expect(sc, &f, PB_LEN, "NameAttrList.attr")) {
            pb_reader e;
            pb_field ef;
            const uint8_t *k = NULL;
            size_t kn = 0;
            pb_find_len(f.data, f.len, 1, &k, &kn);
            pb_reader_sub(&e, &f);
            while (pb_next(&e, &ef))
                if (ef.number == 2 && expect(sc, &ef, PB_LEN, "NameAttrList.attr.value"))
                    walk_attr_value(sc, &ef, depth + 2, scope, owner, k, kn);
            reader_error(sc, &e, scope);
        }
    }
    reader_error(sc, &r, scope);
    if (!name || nn == 0)
        return;
    node_info ni;
    memset(&ni, 0, sizeof(ni));
    ni.name = owner->name;
    ni.name_len = owner->name_len;
    ni.op = name;
    ni.op_len = nn;
    ni.offset = lf->offset;
    char *k = key ? shown(key, key_len) : NULL;
    char *via = ms_strdup_printf("function attribute '%s' of ", k ? k : "?");
    free(k);
    classify(sc, &ni, scope, false, via);
    free(via);
}

static void walk_attr_value(tf_scan *sc, const pb_field *vf, unsigned depth, const char *scope,
                            const node_info *owner, const uint8_t *key, size_t key_len)
{
    if (too_deep(sc, depth, vf->offset))
        return;
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, vf);
    while (pb_next(&r, &f)) {
        if (f.number == 10 && expect(sc, &f, PB_LEN, "AttrValue.func")) {
            walk_name_attr_list(sc, &f, depth + 1, scope, owner, key, key_len);
        } else if (f.number == 1 && expect(sc, &f, PB_LEN, "AttrValue.list")) {
            pb_reader l;
            pb_field lf;
            pb_reader_sub(&l, &f);
            while (pb_next(&l, &lf))
                if (lf.number == 9 && expect(sc, &lf, PB_LEN, "AttrValue.ListValue.func"))
                    walk_name_attr_list(sc, &lf, depth + 2, scope, owner, key, key_len);
            reader_error(sc, &l, scope);
        }
    }
    reader_error(sc, &r, scope);
}

/* ---- nodes ---------------------------------------------------------------- */

static const char *const note_keys[] = {"token", "output_stream", "descriptor_source",
                                        "memory_region_name"};

static void walk_node(tf_scan *sc, const pb_field *nf, unsigned depth, const char *scope,
                      bool saver_function)
{
    if (too_deep(sc, depth, nf->offset))
        return;
    if (++sc->nodes % TF_TIME_CHECK_EVERY == 0 && !ms_budget_time_left(sc->ctx)) {
        sc->stopped = true;
        return;
    }
    node_info ni;
    memset(&ni, 0, sizeof(ni));
    ni.offset = nf->offset;
    bool attrs = false;
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, nf);
    while (pb_next(&r, &f)) {
        switch (f.number) {
        case 1:
            if (expect(sc, &f, PB_LEN, "NodeDef.name")) {
                ni.name = f.data;
                ni.name_len = f.len;
            }
            break;
        case 2:
            if (expect(sc, &f, PB_LEN, "NodeDef.op")) {
                ni.op = f.data;
                ni.op_len = f.len;
            }
            break;
        case 3:
            if (expect(sc, &f, PB_LEN, "NodeDef.input") && !ni.input0) {
                ni.input0 = f.data;
                ni.input0_len = f.len;
            }
            break;
        case 5: {
            if (!expect(sc, &f, PB_LEN, "NodeDef.attr"))
                break;
            attrs = true;
            const uint8_t *k, *v, *s;
            size_t kn, vn, sn;
            if (!pb_find_len(f.data, f.len, 1, &k, &kn))
                break;
            for (size_t i = 0; i < sizeof(note_keys) / sizeof(note_keys[0]); i++) {
                if (bytes_eq(k, kn, note_keys[i]) && pb_find_len(f.data, f.len, 2, &v, &vn) &&
                    pb_find_len(v, vn, 2, &s, &sn)) { /* AttrValue.s */
                    ni.note_attr = s;
                    ni.note_len = sn;
                    ni.note_key = note_keys[i];
                }
            }
            break;
        }
        default:
            break;
        }
    }
    reader_error(sc, &r, scope);
    if (!ni.op || ni.op_len == 0) {
        char *nm = ni.name ? shown(ni.name, ni.name_len) : NULL;
        char *why = ms_strdup_printf("node '%s' in %s has no op", nm ? nm : "(unnamed)", scope);
        malformed(sc, nf->offset, why ? why : "a node has no op", scope);
        free(why);
        free(nm);
    } else {
        bool saver = saver_function || (ni.name && !strncmp(scope, "the graph", 9) &&
                                        tf_is_saver_scope(ni.name, ni.name_len));
        classify(sc, &ni, scope, saver, NULL);
    }
    if (!attrs)
        return;
    pb_reader_sub(&r, nf);
    while (pb_next(&r, &f) && !sc->stopped) {
        if (f.number != 5 || f.wire != PB_LEN)
            continue;
        const uint8_t *k = NULL;
        size_t kn = 0;
        pb_find_len(f.data, f.len, 1, &k, &kn);
        pb_reader e;
        pb_field ef;
        pb_reader_sub(&e, &f);
        while (pb_next(&e, &ef))
            if (ef.number == 2 && expect(sc, &ef, PB_LEN, "NodeDef.attr.value"))
                walk_attr_value(sc, &ef, depth + 2, scope, &ni, k, kn);
        reader_error(sc, &e, scope);
    }
}

/* String constants of one scope (Const nodes with a string value), so that
 * a file op's first input can be shown as the path it names. */
static void collect_consts(tf_scan *sc, const uint8_t *data, size_t len, uint32_t node_field)
{
    for (size_t i = 0; i < sc->consts.count && i < sc->const_cap; i++) {
        free(sc->const_values[i]);
        sc->const_values[i] = NULL;
    }
    pb_nameset_free(&sc->consts);
    pb_nameset_init(&sc->consts, TF_MAX_CONSTS, TF_NAMES_BYTES);
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        const uint8_t *op, *name;
        size_t on, nn;
        if (f.number != node_field || f.wire != PB_LEN ||
            !pb_find_len(f.data, f.len, 2, &op, &on) || !bytes_eq(op, on, "Const") ||
            !pb_find_len(f.data, f.len, 1, &name, &nn))
            continue;
        pb_reader a;
        pb_field af;
        pb_reader_sub(&a, &f);
        while (pb_next(&a, &af)) {
            const uint8_t *k, *v, *t, *s;
            size_t kn, vn, tn, sn;
            if (af.number != 5 || af.wire != PB_LEN || !pb_find_len(af.data, af.len, 1, &k, &kn) ||
                !bytes_eq(k, kn, "value") || !pb_find_len(af.data, af.len, 2, &v, &vn) ||
                !pb_find_len(v, vn, 8, &t, &tn) || !pb_find_len(t, tn, 8, &s, &sn))
                continue;
            size_t idx;
            if (!pb_nameset_add(&sc->consts, name, nn, &idx))
                continue;
            if (!ensure_slot((void **)&sc->const_values, &sc->const_cap, idx,
                             sizeof(*sc->const_values))) {
                sc->nomem = true;
                continue;
            }
            if (!sc->const_values[idx])
                sc->const_values[idx] = shown(s, sn);
        }
    }
}

static void walk_function(tf_scan *sc, const pb_field *ff, unsigned depth)
{
    if (too_deep(sc, depth, ff->offset))
        return;
    const uint8_t *sig, *name = (const uint8_t *)"";
    size_t sn, nn = 0;
    if (pb_find_len(ff->data, ff->len, 1, &sig, &sn))
        pb_find_len(sig, sn, 1, &name, &nn);
    bool saver = tf_is_saver_function(name, nn);
    char *fname = shown(name, nn);
    char *scope = ms_strdup_printf("function '%s'", fname ? fname : "?");
    free(fname);
    if (!scope) {
        sc->nomem = true;
        return;
    }
    sc->functions_walked++;
    collect_consts(sc, ff->data, ff->len, 3);
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, ff);
    while (pb_next(&r, &f) && !sc->stopped) {
        if (f.number == 3 && expect(sc, &f, PB_LEN, "FunctionDef.node_def")) {
            walk_node(sc, &f, depth + 1, scope, saver);
        } else if (f.number == 1) {
            expect(sc, &f, PB_LEN, "FunctionDef.signature");
        } else if (f.number == 5 && expect(sc, &f, PB_LEN, "FunctionDef.attr")) {
            node_info owner;
            memset(&owner, 0, sizeof(owner));
            const uint8_t *k = NULL;
            size_t kn = 0;
            pb_find_len(f.data, f.len, 1, &k, &kn);
            pb_reader e;
            pb_field ef;
            pb_reader_sub(&e, &f);
            while (pb_next(&e, &ef))
                if (ef.number == 2 && expect(sc, &ef, PB_LEN, "FunctionDef.attr.value"))
                    walk_attr_value(sc, &ef, depth + 2, scope, &owner, k, kn);
            reader_error(sc, &e, scope);
        }
    }
    reader_error(sc, &r, scope);
    free(scope);
}

static void walk_graph(tf_scan *sc, const pb_field *gf, unsigned depth)
{
    if (too_deep(sc, depth, gf->offset))
        return;
    collect_consts(sc, gf->data, gf->len, 1);
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, gf);
    while (pb_next(&r, &f) && !sc->stopped) {
        switch (f.number) {
        case 1:
            if (expect(sc, &f, PB_LEN, "GraphDef.node"))
                walk_node(sc, &f, depth + 1, "the graph", false);
            break;
        case 2:
            if (expect(sc, &f, PB_LEN, "GraphDef.library")) {
                pb_reader l;
                pb_field lf;
                pb_reader_sub(&l, &f);
                while (pb_next(&l, &lf) && !sc->stopped)
                    if (lf.number == 1 && expect(sc, &lf, PB_LEN, "FunctionDefLibrary.function"))
                        walk_function(sc, &lf, depth + 2);
                reader_error(sc, &l, "the function library");
                /* back to the graph's own constants for later nodes */
                collect_consts(sc, gf->data, gf->len, 1);
            }
            break;
        case 4:
            expect(sc, &f, PB_LEN, "GraphDef.versions");
            break;
        default:
            break;
        }
    }
    reader_error(sc, &r, "the graph");
}

/* Pre-pass: every library function name of a GraphDef. */
static void collect_functions(tf_scan *sc, const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number != 2 || f.wire != PB_LEN)
            continue;
        pb_reader l;
        pb_field lf;
        pb_reader_sub(&l, &f);
        while (pb_next(&l, &lf)) {
            const uint8_t *sig, *name;
            size_t sn, nn;
            if (lf.number == 1 && lf.wire == PB_LEN && pb_find_len(lf.data, lf.len, 1, &sig, &sn) &&
                pb_find_len(sig, sn, 1, &name, &nn) && nn > 0 &&
                !pb_nameset_add(&sc->functions, name, nn, NULL))
                sc->nomem |= sc->functions.nomem;
        }
    }
}

/* ---- reporting ------------------------------------------------------------- */

static void report_ops(tf_scan *sc, const char *what)
{
    ms_report *rep = sc->ctx->report;
    const char *loc = sc->ctx->location;
    ms_strbuf unknown;
    ms_strbuf_init(&unknown, 16384);
    json_t *unknown_list = json_array();
    uint64_t unknown_nodes = 0;
    size_t unknown_kinds = 0;
    for (size_t k = 0; k < sc->records.count && k < sc->recs_cap; k++) {
        op_record *rec = &sc->recs[k];
        if (!rec->op)
            continue;
        json_t *d = json_pack("{s:s, s:I, s:O}", "op", rec->op, "nodes", (json_int_t)rec->count,
                              "examples", rec->examples);
        const char *more = rec->count > TF_EXAMPLES ? ", ..." : "";
        const char *notes = rec->notes.data ? rec->notes.data : "";
        switch (rec->cls) {
        case TF_OP_PYTHON:
            ms_report_add(rep, "TF-PYTHON-OP", loc, d,
                          "The %s uses the Python op %s in %llu node(s) (%s%s)%s%s%s. It calls a "
                          "Python function registered in the process that runs the graph "
                          "(tf.py_function / tf.numpy_function): whatever code that process "
                          "associates with the op runs, and the graph cannot be served "
                          "without it.",
                          what, rec->op, (unsigned long long)rec->count,
                          rec->where.data ? rec->where.data : "", more, *notes ? " [" : "", notes,
                          *notes ? "]" : "");
            break;
        case TF_OP_FILE:
        case TF_OP_SAVER:
            if (d)
                json_object_set_new(d, "checkpoint_op", json_boolean(rec->cls == TF_OP_SAVER));
            ms_report_add(rep, "TF-FILE-OP", loc, d,
                          "The %s uses the file-system op %s in %llu node(s) (%s%s)%s%s%s%s. "
                          "Running the graph reads, writes, lists or deletes files on the "
                          "machine that loads it.",
                          what, rec->op, (unsigned long long)rec->count,
                          rec->where.data ? rec->where.data : "", more, *notes ? " [" : "", notes,
                          *notes ? "]" : "",
                          rec->cls == TF_OP_SAVER
                              ? "; this checkpoint op is outside the saver functions "
                                "TensorFlow generates, where it is expected"
                              : "");
            break;
        default:
            json_decref(d);
            unknown_kinds++;
            unknown_nodes += rec->count;
            if (unknown.len)
                ms_strbuf_puts(&unknown, ", ");
            ms_strbuf_printf(&unknown, "%s x%llu", rec->op, (unsigned long long)rec->count);
            json_t *o = json_pack("{s:s, s:I, s:O}", "op", rec->op, "nodes", (json_int_t)rec->count,
                                  "examples", rec->examples);
            if (o)
                json_array_append_new(unknown_list, o);
            break;
        }
    }
    if (unknown_kinds)
        ms_report_add(rep, "TF-UNKNOWN-OP", loc,
                      json_pack("{s:o, s:I}", "ops", unknown_list ? unknown_list : json_array(),
                                "nodes", (json_int_t)unknown_nodes),
                      "The %s uses %zu op type(s) that are not on the scanner's list of "
                      "standard TensorFlow ops: %s. They may be custom ops whose kernels come "
                      "from a native library loaded with the model, or ops this version does "
                      "not know.",
                      what, unknown_kinds, unknown.data ? unknown.data : "");
    else
        json_decref(unknown_list);
    ms_strbuf_free(&unknown);
    if (sc->records.full || sc->functions.full)
        ms_report_add(rep, "SCAN-LIMIT", loc,
                      json_pack("{s:s}", "limit", "distinct ops or functions tracked"),
                      "The %s has more distinct ops or functions than the scanner tracks; "
                      "some were not classified.",
                      what);
}

static void report_malformed(tf_scan *sc, const char *what)
{
    if (!sc->error)
        return;
    ms_report_add(sc->ctx->report, "TF-MALFORMED", sc->ctx->location,
                  json_pack("{s:s, s:I, s:s, s:I}", "error", sc->error, "offset",
                            (json_int_t)sc->error_offset, "where", sc->error_where, "problems",
                            (json_int_t)sc->errors),
                  "The %s cannot be fully parsed: %s at offset %zu (in %s)%s. TensorFlow may "
                  "reject the file or read it differently from this scanner; what follows the "
                  "break inside that message was not analysed.",
                  what, sc->error, sc->error_offset, sc->error_where,
                  sc->errors > 1 ? ", among other problems" : "");
}

static bool tf_scan_init(tf_scan *sc, ms_scan_ctx *ctx)
{
    memset(sc, 0, sizeof(*sc));
    sc->ctx = ctx;
    pb_nameset_init(&sc->functions, TF_MAX_FUNCTIONS, TF_NAMES_BYTES);
    pb_nameset_init(&sc->records, TF_MAX_OP_RECORDS, TF_NAMES_BYTES);
    pb_nameset_init(&sc->consts, TF_MAX_CONSTS, TF_NAMES_BYTES);
    return true;
}

static void tf_scan_free(tf_scan *sc)
{
    if (sc->recs) {
        for (size_t k = 0; k < sc->records.count && k < sc->recs_cap; k++) {
            free(sc->recs[k].op);
            ms_strbuf_free(&sc->recs[k].where);
            ms_strbuf_free(&sc->recs[k].notes);
            json_decref(sc->recs[k].examples);
        }
    }
    if (sc->const_values)
        for (size_t i = 0; i < sc->consts.count && i < sc->const_cap; i++)
            free(sc->const_values[i]);
    free(sc->recs);
    free(sc->const_values);
    pb_nameset_free(&sc->functions);
    pb_nameset_free(&sc->records);
    pb_nameset_free(&sc->consts);
    free(sc->error);
    free(sc->error_where);
}

/* ---- SavedModel and GraphDef ---------------------------------------------------- */

static void walk_meta_graph(tf_scan *sc, const pb_field *mf, bool *graph)
{
    pb_reader r;
    pb_field f;
    pb_reader_sub(&r, mf);
    while (pb_next(&r, &f) && !sc->stopped) {
        switch (f.number) {
        case 2:
            if (expect(sc, &f, PB_LEN, "MetaGraphDef.graph_def")) {
                *graph = true;
                walk_graph(sc, &f, 2);
            }
            break;
        case 1:
            expect(sc, &f, PB_LEN, "MetaGraphDef.meta_info_def");
            break;
        case 3:
            expect(sc, &f, PB_LEN, "MetaGraphDef.saver_def");
            break;
        case 4:
            expect(sc, &f, PB_LEN, "MetaGraphDef.collection_def");
            break;
        case 5:
            expect(sc, &f, PB_LEN, "MetaGraphDef.signature_def");
            break;
        case 7:
            expect(sc, &f, PB_LEN, "MetaGraphDef.object_graph_def");
            break;
        default:
            break;
        }
    }
    reader_error(sc, &r, "a meta graph");
}

ms_status tf_savedmodel_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    tf_scan sc;
    if (!tf_scan_init(&sc, ctx)) {
        tf_scan_free(&sc);
        return MS_NOMEM;
    }
    /* pre-pass: function names of every meta graph's library */
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number != 2 || f.wire != PB_LEN)
            continue;
        pb_reader m;
        pb_field g;
        pb_reader_sub(&m, &f);
        while (pb_next(&m, &g))
            if (g.number == 2 && g.wire == PB_LEN)
                collect_functions(&sc, g.data, g.len);
    }
    bool graph = false;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f) && !sc.stopped) {
        if (f.number == 1)
            expect(&sc, &f, PB_VARINT, "SavedModel.saved_model_schema_version");
        else if (f.number == 2 && expect(&sc, &f, PB_LEN, "SavedModel.meta_graphs"))
            walk_meta_graph(&sc, &f, &graph);
    }
    reader_error(&sc, &r, "the SavedModel");
    if (!sc.stopped && !r.error && !graph)
        malformed(&sc, 0, "no meta graph has a graph_def", "the SavedModel");
    report_ops(&sc, "SavedModel");
    report_malformed(&sc, "SavedModel");
    ms_status st = sc.nomem ? MS_NOMEM : MS_OK;
    tf_scan_free(&sc);
    return st;
}

ms_status tf_graphdef_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    tf_scan sc;
    if (!tf_scan_init(&sc, ctx)) {
        tf_scan_free(&sc);
        return MS_NOMEM;
    }
    collect_functions(&sc, data, len);
    pb_field whole;
    memset(&whole, 0, sizeof(whole));
    whole.wire = PB_LEN;
    whole.data = data;
    whole.len = len;
    walk_graph(&sc, &whole, 0);
    report_ops(&sc, "TensorFlow graph");
    report_malformed(&sc, "TensorFlow graph");
    ms_status st = sc.nomem ? MS_NOMEM : MS_OK;
    tf_scan_free(&sc);
    return st;
}

/* ---- keras_metadata.pb ------------------------------------------------------------ */

ms_status tf_keras_metadata_foreach(const uint8_t *data, size_t len, tf_keras_object_fn fn,
                                    void *ud)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number != 1 || f.wire != PB_LEN)
            continue;
        const uint8_t *id = (const uint8_t *)"", *path = (const uint8_t *)"",
                      *meta = (const uint8_t *)"";
        size_t idn = 0, pn = 0, mn = 0;
        pb_reader o;
        pb_field of;
        pb_reader_sub(&o, &f);
        while (pb_next(&o, &of)) {
            if (of.wire != PB_LEN)
                continue;
            if (of.number == 4) {
                id = of.data;
                idn = of.len;
            } else if (of.number == 3) {
                path = of.data;
                pn = of.len;
            } else if (of.number == 5) {
                meta = of.data;
                mn = of.len;
            }
        }
        if (o.error)
            return MS_MALFORMED;
        if (!fn(ud, id, idn, path, pn, meta, mn))
            return MS_OK;
    }
    return r.error ? MS_MALFORMED : MS_OK;
}

/* keras_metadata.pb holds one JSON document per object. Keras revives every
 * layer from its own document, and a Functional or Sequential model's
 * document repeats each layer's config inside its own. Every document is
 * handed to the Keras config analyser (src/formats/keras/keras_config.c),
 * except a layer's document whose {class_name, config} already appears
 * nested inside another document (it would be reported twice). */
typedef struct keras_pass {
    tf_scan *sc;
    pb_nameset nested; /* canonical {class_name, config} of nested objects */
    bool second;       /* false: collecting; true: scanning */
    ms_status status;
} keras_pass;

/* '{"class_name": ..., "config": ...}' in canonical form, or NULL. */
static char *layer_key(json_t *obj)
{
    json_t *cls = json_object_get(obj, "class_name");
    if (!json_is_string(cls))
        return NULL;
    json_t *k = json_object();
    if (!k)
        return NULL;
    json_object_set(k, "class_name", cls);
    json_t *config = json_object_get(obj, "config");
    if (config)
        json_object_set(k, "config", config);
    char *text = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(k);
    return text;
}

static void collect_nested(keras_pass *kp, json_t *v, unsigned depth)
{
    if (depth > TF_JSON_DEPTH)
        return;
    if (json_is_object(v)) {
        if (depth > 0) {
            char *key = layer_key(v);
            if (key)
                (void)pb_nameset_add(&kp->nested, (const uint8_t *)key, strlen(key), NULL);
            free(key);
        }
        const char *name;
        json_t *child;
        json_object_foreach(v, name, child)
        {
            (void)name;
            collect_nested(kp, child, depth + 1);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            collect_nested(kp, child, depth + 1);
        }
    }
}

static bool keras_object(void *ud, const uint8_t *id, size_t idn, const uint8_t *path, size_t pn,
                         const uint8_t *meta, size_t mn)
{
    keras_pass *kp = ud;
    if (mn == 0)
        return true;
    json_t *doc = NULL;
    if (mn <= TF_MAX_JSON) {
        json_error_t err;
        doc = json_loadb((const char *)meta, mn, 0, &err);
    }
    if (!kp->second) {
        if (doc)
            collect_nested(kp, doc, 0);
        json_decref(doc);
        return ms_budget_time_left(kp->sc->ctx);
    }
    bool covered = false;
    char *key = doc ? layer_key(doc) : NULL;
    if (key)
        covered = pb_nameset_find(&kp->nested, (const uint8_t *)key, strlen(key), NULL);
    free(key);
    json_decref(doc);
    if (covered)
        return true;
    char *p = shown(path, pn), *ident = shown(id, idn);
    json_t *extra = json_pack("{s:s, s:s, s:s}", "attribute", "keras_metadata", "node_path",
                              p ? p : "?", "identifier", ident ? ident : "?");
    ms_status st =
        keras_config_scan_ex(kp->sc->ctx, kp->sc->ctx->location, extra, (const char *)meta, mn);
    json_decref(extra);
    free(p);
    free(ident);
    if (st == MS_NOMEM)
        kp->status = MS_NOMEM;
    return ms_budget_time_left(kp->sc->ctx);
}

ms_status tf_keras_metadata_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    tf_scan sc;
    if (!tf_scan_init(&sc, ctx)) {
        tf_scan_free(&sc);
        return MS_NOMEM;
    }
    /* framing and field types first */
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number != 1 || !expect(&sc, &f, PB_LEN, "SavedMetadata.nodes"))
            continue;
        pb_reader o;
        pb_field of;
        pb_reader_sub(&o, &f);
        while (pb_next(&o, &of)) {
            if (of.number == 2)
                expect(&sc, &of, PB_VARINT, "SavedObject.node_id");
            else if (of.number >= 3 && of.number <= 6)
                expect(&sc, &of, PB_LEN, "SavedObject");
        }
        reader_error(&sc, &o, "a SavedObject");
    }
    reader_error(&sc, &r, "the Keras metadata");
    keras_pass kp;
    memset(&kp, 0, sizeof(kp));
    kp.sc = &sc;
    kp.status = MS_OK;
    pb_nameset_init(&kp.nested, TF_MAX_FUNCTIONS, TF_NAMES_BYTES);
    (void)tf_keras_metadata_foreach(data, len, keras_object, &kp);
    kp.second = true;
    (void)tf_keras_metadata_foreach(data, len, keras_object, &kp);
    pb_nameset_free(&kp.nested);
    report_malformed(&sc, "Keras metadata");
    ms_status st = sc.nomem ? MS_NOMEM : kp.status;
    tf_scan_free(&sc);
    return st;
}
