/* test_protobuf.c - the protobuf wire reader, the name set, and the ONNX and
 * TensorFlow probes and helpers built on them (bytes written by hand, so
 * each case shows exactly what is on the wire). */
#include <stdlib.h>

#include "../../src/codec/protobuf.h"
#include "../../src/formats/onnx/onnx_scan.h"
#include "../../src/formats/tfgraph/tf_ops.h"
#include "../../src/formats/tfgraph/tfgraph_scan.h"
#include "unit.h"

/* ---- a tiny encoder for the tests ---------------------------------------- */

typedef struct buf {
    uint8_t d[4096];
    size_t n;
} buf;

static void put_varint(buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        b->d[b->n++] = c | (v ? 0x80 : 0);
    } while (v);
}

static void put_tag(buf *b, uint32_t number, unsigned wire)
{
    put_varint(b, ((uint64_t)number << 3) | wire);
}

static void put_uint(buf *b, uint32_t number, uint64_t v)
{
    put_tag(b, number, 0);
    put_varint(b, v);
}

static void put_bytes(buf *b, uint32_t number, const void *p, size_t n)
{
    put_tag(b, number, 2);
    put_varint(b, n);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put_str(buf *b, uint32_t number, const char *s)
{
    put_bytes(b, number, s, strlen(s));
}

static void put_msg(buf *b, uint32_t number, const buf *m)
{
    put_bytes(b, number, m->d, m->n);
}

/* ---- the reader ---------------------------------------------------------- */

static void test_varints(void)
{
    uint64_t v;
    const uint8_t one[] = {0x96, 0x01};
    ms_cursor c = ms_cursor_make(one, sizeof(one));
    CHECK(pb_read_varint(&c, &v) && v == 150 && c.off == 2);

    const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    c = ms_cursor_make(max, sizeof(max));
    CHECK(pb_read_varint(&c, &v) && v == UINT64_MAX);

    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    c = ms_cursor_make(eleven, sizeof(eleven));
    CHECK(!pb_read_varint(&c, &v) && c.error); /* 10-byte cap */

    const uint8_t cut[] = {0x80, 0x80};
    c = ms_cursor_make(cut, sizeof(cut));
    CHECK(!pb_read_varint(&c, &v) && c.error);
}

static void test_fields(void)
{
    buf b = {{0}, 0};
    put_uint(&b, 1, 7);
    put_str(&b, 2, "hello");
    put_tag(&b, 3, 5);
    memcpy(b.d + b.n, "\x01\x02\x03\x04", 4);
    b.n += 4;
    put_tag(&b, 4, 1);
    memcpy(b.d + b.n, "\x01\x00\x00\x00\x00\x00\x00\x80", 8);
    b.n += 8;

    pb_reader r;
    pb_field f;
    pb_reader_init(&r, b.d, b.n, 100);
    CHECK(pb_next(&r, &f) && f.number == 1 && f.wire == PB_VARINT && f.value == 7);
    CHECK(f.offset == 100);
    CHECK(pb_next(&r, &f) && f.number == 2 && f.wire == PB_LEN && f.len == 5 &&
          memcmp(f.data, "hello", 5) == 0 && f.data_offset == 104);
    CHECK(pb_next(&r, &f) && f.number == 3 && f.wire == PB_I32 && f.value == 0x04030201);
    CHECK(pb_next(&r, &f) && f.number == 4 && f.wire == PB_I64 && f.value == 0x8000000000000001ull);
    CHECK(!pb_next(&r, &f) && r.error == NULL); /* clean end */
    CHECK(pb_message_valid(b.d, b.n));
    const uint8_t *p;
    size_t n;
    CHECK(pb_find_len(b.d, b.n, 2, &p, &n) && n == 5);
    CHECK(!pb_find_len(b.d, b.n, 1, &p, &n)); /* field 1 is a varint */

    /* a sub-reader keeps absolute offsets */
    buf inner = {{0}, 0}, outer = {{0}, 0};
    put_uint(&inner, 9, 1);
    put_msg(&outer, 5, &inner);
    pb_reader_init(&r, outer.d, outer.n, 1000);
    CHECK(pb_next(&r, &f));
    pb_reader sub;
    pb_field sf;
    pb_reader_sub(&sub, &f);
    CHECK(pb_next(&sub, &sf) && sf.number == 9 && sf.offset == 1002);
}

static bool fails(const uint8_t *d, size_t n, const char *why_part)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, d, n, 0);
    while (pb_next(&r, &f)) {
    }
    if (!r.error)
        return false;
    return strstr(r.error, why_part) != NULL;
}

static void test_malformed(void)
{
    CHECK(fails((const uint8_t *)"\x00\x01", 2, "field number")); /* field 0 */
    CHECK(fails((const uint8_t *)"\x0e\x01", 2, "wire type"));    /* wire 6 */
    CHECK(fails((const uint8_t *)"\x0f\x01", 2, "wire type"));    /* wire 7 */
    CHECK(fails((const uint8_t *)"\x0a\x05"
                                 "abc",
                5, "beyond the end")); /* LEN past end */
    CHECK(fails((const uint8_t *)"\x0d\x01\x02", 3, "fixed32"));
    CHECK(fails((const uint8_t *)"\x09\x01\x02", 3, "fixed64"));
    CHECK(fails((const uint8_t *)"\x08", 1, "varint"));
    CHECK(fails((const uint8_t *)"\x0c", 1, "end-group")); /* end without start */
    /* a length over 2 GiB, whatever is left */
    CHECK(fails((const uint8_t *)"\x0a\x80\x80\x80\x80\x08", 6, "2 GiB"));
    /* a tag above 2^32 */
    CHECK(fails((const uint8_t *)"\x80\x80\x80\x80\x80\x01", 6, "field number"));
    /* errors are sticky and carry the offset */
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, (const uint8_t *)"\x08\x01\x00", 3, 50);
    CHECK(pb_next(&r, &f));
    CHECK(!pb_next(&r, &f) && r.error && r.error_offset == 52);
    CHECK(!pb_next(&r, &f));
    CHECK(!pb_message_valid((const uint8_t *)"\x0a\x05"
                                             "abc",
                            5));
}

static void test_groups(void)
{
    /* field 1 group { field 2 varint 5, field 3 group { } } then field 4 varint */
    const uint8_t g[] = {0x0b, 0x10, 0x05, 0x1b, 0x1c, 0x0c, 0x20, 0x01};
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, g, sizeof(g), 0);
    CHECK(pb_next(&r, &f) && f.number == 1 && f.wire == PB_SGROUP && f.len == 4);
    CHECK(pb_next(&r, &f) && f.number == 4 && f.value == 1);
    CHECK(!pb_next(&r, &f) && r.error == NULL);
    /* end tag of another field */
    CHECK(fails((const uint8_t *)"\x0b\x14", 2, "does not match"));
    /* unterminated */
    CHECK(fails((const uint8_t *)"\x0b\x10\x05", 3, "tag"));
    /* nested deeper than the cap: PB_MAX_DEPTH + 1 start tags */
    uint8_t deep[PB_MAX_DEPTH + 8];
    memset(deep, 0x0b, sizeof(deep));
    CHECK(fails(deep, PB_MAX_DEPTH + 1, "too deeply"));
    /* exactly at the cap, properly closed: fine */
    uint8_t ok[2 * PB_MAX_DEPTH];
    memset(ok, 0x0b, PB_MAX_DEPTH);
    memset(ok + PB_MAX_DEPTH, 0x0c, PB_MAX_DEPTH);
    CHECK(pb_message_valid(ok, sizeof(ok)));
}

static void test_nameset(void)
{
    pb_nameset s;
    pb_nameset_init(&s, 1000, 1 << 20);
    size_t i, j;
    CHECK(!pb_nameset_find(&s, (const uint8_t *)"a", 1, &i));
    CHECK(pb_nameset_add(&s, (const uint8_t *)"MatMul", 6, &i) && i == 0);
    CHECK(pb_nameset_add(&s, (const uint8_t *)"Relu", 4, &j) && j == 1);
    CHECK(pb_nameset_add(&s, (const uint8_t *)"MatMul", 6, &i) && i == 0 && s.count == 2);
    /* NULs are part of the name: "a\0b" and "a\0c" differ from each other and from "a" */
    CHECK(pb_nameset_add(&s, (const uint8_t *)"a\0b", 3, &i));
    CHECK(!pb_nameset_find(&s, (const uint8_t *)"a\0c", 3, NULL));
    CHECK(!pb_nameset_find(&s, (const uint8_t *)"a", 1, NULL));
    CHECK(pb_nameset_add(&s, (const uint8_t *)"", 0, &i)); /* the empty name */
    CHECK(pb_nameset_find(&s, (const uint8_t *)"", 0, &j) && i == j);
    /* growth keeps every entry */
    char name[16];
    for (int k = 0; k < 900; k++) {
        snprintf(name, sizeof(name), "op%d", k);
        CHECK(pb_nameset_add(&s, (const uint8_t *)name, strlen(name), NULL) || s.nomem);
    }
    CHECK(pb_nameset_find(&s, (const uint8_t *)"op0", 3, &i));
    CHECK(pb_nameset_find(&s, (const uint8_t *)"op899", 5, &i));
    CHECK(pb_nameset_find(&s, (const uint8_t *)"Relu", 4, &i) && i == 1);
    /* the entry cap */
    for (int k = 900; k < 2000 && !s.full; k++) {
        snprintf(name, sizeof(name), "op%d", k);
        pb_nameset_add(&s, (const uint8_t *)name, strlen(name), NULL);
    }
    CHECK(s.full && s.count == 1000);
    pb_nameset_free(&s);
    /* the byte cap */
    pb_nameset_init(&s, 1000, 10);
    CHECK(pb_nameset_add(&s, (const uint8_t *)"12345678", 8, NULL));
    CHECK(!pb_nameset_add(&s, (const uint8_t *)"abc", 3, NULL) && s.full);
    pb_nameset_free(&s);

    char *t = pb_text((const uint8_t *)"a\0b\x01"
                                       "c",
                      5, 100);
    CHECK_STR(t, "a?b?c");
    free(t);
    t = pb_text((const uint8_t *)"abcdef", 6, 3);
    CHECK_STR(t, "abc...");
    free(t);
}

/* ---- ONNX ---------------------------------------------------------------- */

/* ModelProto { ir_version 8, opset_import {"" 17}, graph { node { op_type,
 * domain }, name "g" }, metadata_props {k: v} x2 } */
static size_t onnx_model(buf *m, const char *op, const char *domain)
{
    buf node = {{0}, 0}, graph = {{0}, 0}, opset = {{0}, 0}, md1 = {{0}, 0}, md2 = {{0}, 0};
    put_str(&node, 1, "X");
    put_str(&node, 2, "Y");
    put_str(&node, 3, "n0");
    put_str(&node, 4, op);
    if (domain)
        put_str(&node, 7, domain);
    put_msg(&graph, 1, &node);
    put_str(&graph, 2, "g");
    put_str(&opset, 1, "");
    put_uint(&opset, 2, 17);
    put_str(&md1, 1, "author");
    put_str(&md1, 2, "someone");
    put_str(&md2, 1, "license");
    put_str(&md2, 2, "MIT");
    m->n = 0;
    put_uint(m, 1, 8);
    put_str(m, 2, "unit-test");
    put_msg(m, 7, &graph);
    put_msg(m, 8, &opset);
    put_msg(m, 14, &md1);
    put_msg(m, 14, &md2);
    return m->n;
}

typedef struct md_seen {
    int n;
    char keys[4][32];
} md_seen;

static bool on_md(void *ud, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
    md_seen *s = ud;
    (void)v;
    (void)vn;
    if (s->n < 4 && kn < 32) {
        memcpy(s->keys[s->n], k, kn);
        s->keys[s->n][kn] = '\0';
    }
    s->n++;
    return true;
}

static void test_onnx(void)
{
    buf m;
    onnx_model(&m, "Relu", NULL);
    CHECK(onnx_probe(m.d, m.n));
    CHECK(!tf_savedmodel_probe(m.d, m.n));
    CHECK(!tf_graphdef_probe(m.d, m.n));
    CHECK(!tf_keras_metadata_probe(m.d, m.n));

    md_seen seen;
    memset(&seen, 0, sizeof(seen));
    CHECK(onnx_metadata_foreach(m.d, m.n, on_md, &seen) == MS_OK);
    CHECK(seen.n == 2);
    CHECK_STR(seen.keys[0], "author");
    CHECK_STR(seen.keys[1], "license");

    /* truncated: still ONNX by its head (reported malformed by the scan) */
    CHECK(onnx_probe(m.d, m.n - 3));
    memset(&seen, 0, sizeof(seen));
    CHECK(onnx_metadata_foreach(m.d, m.n - 3, on_md, &seen) == MS_MALFORMED);
    /* no graph and no functions, nothing after ir_version: not ONNX */
    CHECK(!onnx_probe((const uint8_t *)"\x08\x08", 2));
    /* a producer but no graph: ONNX by its head (the scan reports it) */
    CHECK(onnx_probe((const uint8_t *)"\x08\x08\x12\x04test", 8));
    /* a graph whose own framing is broken: ONNX by its head */
    CHECK(onnx_probe((const uint8_t *)"\x08\x08\x12\x01t\x3a\x02\x0a\x05", 9));
    /* the graph cut right after its length: ONNX by its head */
    CHECK(onnx_probe((const uint8_t *)"\x08\x07\x3a\x80\x01\x0a", 6));
    CHECK(!onnx_probe((const uint8_t *)"\x08\x07\x3a", 3));
    /* a SavedModel head is not an ONNX head (field 2 is a message, not text) */
    CHECK(!onnx_probe((const uint8_t *)"\x08\x01\x12\x02\x0a\x00", 6));
    CHECK(tf_savedmodel_probe((const uint8_t *)"\x08\x01\x12\x02\x0a\x00", 6));
    /* ir_version as a length-delimited field: not ONNX */
    CHECK(!onnx_probe((const uint8_t *)"\x0a\x01\x08\x3a\x00", 5));

    const char *esc[] = {"/etc/passwd", "\\\\server\\share\\x", "C:\\Windows\\x", "c:/x",
                         "../x",        "../../etc/passwd",     "a/../../x",      "a/b/../../../x",
                         "./../x",      "a\\..\\..\\x",         "a//..//..//x"};
    for (size_t i = 0; i < sizeof(esc) / sizeof(esc[0]); i++)
        CHECK(onnx_location_escapes((const uint8_t *)esc[i], strlen(esc[i])) != NULL);
    const char *inside[] = {"weights.bin", "data/w.bin", "a/../b", "./w", "a/b/../../c",
                            "..data",      "x..",        "",       "a/.."};
    for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++)
        CHECK(onnx_location_escapes((const uint8_t *)inside[i], strlen(inside[i])) == NULL);
    /* the OS stops at a NUL: what follows cannot climb out, what precedes can */
    CHECK(onnx_location_escapes((const uint8_t *)"w.bin\0../../x", 13) == NULL);
    CHECK(onnx_location_escapes((const uint8_t *)"../x\0.bin", 9) != NULL);
}

/* ---- TensorFlow ----------------------------------------------------------- */

static void tf_node(buf *g, uint32_t field, const char *name, const char *op)
{
    buf n = {{0}, 0};
    put_str(&n, 1, name);
    put_str(&n, 2, op);
    put_msg(g, field, &n);
}

static void test_tf(void)
{
    buf graph = {{0}, 0}, meta = {{0}, 0}, sm = {{0}, 0};
    tf_node(&graph, 1, "x", "Placeholder");
    tf_node(&graph, 1, "y", "Relu");
    CHECK(tf_graphdef_probe(graph.d, graph.n));
    CHECK(!onnx_probe(graph.d, graph.n));
    CHECK(!tf_savedmodel_probe(graph.d, graph.n));
    CHECK(!tf_keras_metadata_probe(graph.d, graph.n));
    put_msg(&meta, 2, &graph);
    put_uint(&sm, 1, 1);
    put_msg(&sm, 2, &meta);
    CHECK(tf_savedmodel_probe(sm.d, sm.n));
    CHECK(!onnx_probe(sm.d, sm.n));
    CHECK(tf_savedmodel_probe(sm.d, sm.n - 4)); /* truncated: by its head */

    /* an implausible op name is not a graph */
    buf bad = {{0}, 0};
    tf_node(&bad, 1, "x", "not an op!");
    CHECK(!tf_graphdef_probe(bad.d, bad.n));

    /* keras_metadata.pb */
    buf km = {{0}, 0}, obj = {{0}, 0};
    put_uint(&obj, 2, 0);
    put_str(&obj, 3, "root");
    put_str(&obj, 4, "_tf_keras_model");
    put_str(&obj, 5, "{\"class_name\": \"Sequential\"}");
    put_msg(&km, 1, &obj);
    CHECK(tf_keras_metadata_probe(km.d, km.n));
    CHECK(!tf_graphdef_probe(km.d, km.n));
    CHECK(!tf_savedmodel_probe(km.d, km.n));

    /* fingerprint.pb */
    buf fp = {{0}, 0}, ver = {{0}, 0};
    put_uint(&fp, 1, 0x1234567890abcdefull);
    put_uint(&fp, 2, 42);
    put_uint(&ver, 1, 1);
    put_msg(&fp, 6, &ver);
    CHECK(tf_fingerprint_probe(fp.d, fp.n));
    CHECK(!onnx_probe(fp.d, fp.n));
    CHECK(!tf_graphdef_probe(fp.d, fp.n));

    CHECK(tf_ops_table_sorted());
    CHECK(tf_op_classify((const uint8_t *)"PyFunc", 6) == TF_OP_PYTHON);
    CHECK(tf_op_classify((const uint8_t *)"EagerPyFunc", 11) == TF_OP_PYTHON);
    CHECK(tf_op_classify((const uint8_t *)"PyFuncStateless", 15) == TF_OP_PYTHON);
    CHECK(tf_op_classify((const uint8_t *)"ReadFile", 8) == TF_OP_FILE);
    CHECK(tf_op_classify((const uint8_t *)"WriteFile", 9) == TF_OP_FILE);
    CHECK(tf_op_classify((const uint8_t *)"MatchingFiles", 13) == TF_OP_FILE);
    CHECK(tf_op_classify((const uint8_t *)"SaveV2", 6) == TF_OP_SAVER);
    CHECK(tf_op_classify((const uint8_t *)"MergeV2Checkpoints", 18) == TF_OP_SAVER);
    CHECK(tf_op_classify((const uint8_t *)"MatMul", 6) == TF_OP_SAFE);
    CHECK(tf_op_classify((const uint8_t *)"StringJoin", 10) == TF_OP_SAFE);
    CHECK(tf_op_classify((const uint8_t *)"MatMu", 5) == TF_OP_UNKNOWN);
    CHECK(tf_op_classify((const uint8_t *)"MatMulX", 7) == TF_OP_UNKNOWN);
    CHECK(tf_op_classify((const uint8_t *)"PyFunc\0", 7) == TF_OP_UNKNOWN);
    CHECK(tf_op_classify((const uint8_t *)"", 0) == TF_OP_UNKNOWN);

    CHECK(tf_is_saver_function((const uint8_t *)"__inference__traced_save_123", 28));
    CHECK(tf_is_saver_function((const uint8_t *)"__inference__traced_restore_9", 29));
    CHECK(!tf_is_saver_function((const uint8_t *)"__inference__traced_save_", 25));
    CHECK(!tf_is_saver_function((const uint8_t *)"__inference__traced_save_1x", 27));
    CHECK(!tf_is_saver_function((const uint8_t *)"__inference_call_12", 19));
    CHECK(tf_is_saver_scope((const uint8_t *)"save/SaveV2", 11));
    CHECK(tf_is_saver_scope((const uint8_t *)"save_1/RestoreV2", 16));
    CHECK(!tf_is_saver_scope((const uint8_t *)"save_x/RestoreV2", 16));
    CHECK(!tf_is_saver_scope((const uint8_t *)"saver/SaveV2", 12));
    CHECK(!tf_is_saver_scope((const uint8_t *)"save/", 5));
    CHECK(!tf_is_saver_scope((const uint8_t *)"model/save/SaveV2", 17));
}

/* Nothing that is not a protobuf model is claimed: deterministic noise of
 * every small size and a few larger ones, text, JSON, a pickle and a
 * safetensors header. */
static void test_no_false_claims(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t noise[8192];
    for (size_t i = 0; i < sizeof(noise); i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise[i] = (uint8_t)x;
    }
    int claimed = 0;
    for (size_t off = 0; off < 4096; off += 7) {
        for (size_t n = 16; n <= 4096; n *= 2) {
            const uint8_t *d = noise + off;
            if (onnx_probe(d, n) || tf_savedmodel_probe(d, n) || tf_graphdef_probe(d, n) ||
                tf_keras_metadata_probe(d, n) || tf_fingerprint_probe(d, n))
                claimed++;
        }
    }
    CHECK(claimed == 0);
#define LIT(s)                                                                                     \
    {                                                                                              \
        (const uint8_t *)(s), sizeof(s) - 1                                                        \
    }
    static const struct {
        const uint8_t *p;
        size_t n;
    } texts[] = {
        LIT("{\"architectures\": [\"BertModel\"], \"hidden_size\": 768}\n"),
        LIT("# Model card\n\nThis is a model.\n"),
        LIT("\n{\"a\": 1}"),
        LIT("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01"
            "a\x94K\x01u."),
        LIT("\x08\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{}}"),
    };
#undef LIT
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        const uint8_t *d = texts[i].p;
        size_t n = texts[i].n;
        CHECK(!onnx_probe(d, n) && !tf_savedmodel_probe(d, n) && !tf_graphdef_probe(d, n) &&
              !tf_keras_metadata_probe(d, n) && !tf_fingerprint_probe(d, n));
    }
}

void test_protobuf(void)
{
    test_varints();
    test_fields();
    test_malformed();
    test_groups();
    test_nameset();
    test_onnx();
    test_tf();
    test_no_false_claims();
}
