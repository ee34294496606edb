/* test_keras_config.c - the marshal name reader, the Keras config analyser
 * (on the Keras v3 config.json fixtures and inline configs) and the HDF5
 * child process (crash, hang, garbage, the real libhdf5 reader). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../../src/formats/keras/hdf5_scan.h"
#include "../../src/formats/keras/keras_config.h"
#include "../../src/formats/keras/pymarshal.h"
#include "../../src/util/strbuf.h"
#include "unit.h"

typedef struct harness {
    ms_report *r;
    ms_limits lim;
    ms_budget budget;
    ms_scan_ctx ctx;
} harness;

static void h_init(harness *h, const char *location)
{
    memset(h, 0, sizeof(*h));
    h->r = ms_report_new("unit");
    ms_limits_default(&h->lim);
    clock_gettime(CLOCK_MONOTONIC, &h->budget.start);
    h->ctx.report = h->r;
    h->ctx.limits = &h->lim;
    h->ctx.location = location;
    h->ctx.budget = &h->budget;
}

static void h_free(harness *h)
{
    ms_report_free(h->r);
}

static size_t count(const harness *h, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < h->r->nfindings; i++)
        if (strcmp(h->r->findings[i].rule_id, rule) == 0)
            n++;
    return n;
}

/* the first finding of `rule` whose description contains `text` */
static const ms_finding *find(const harness *h, const char *rule, const char *text)
{
    for (size_t i = 0; i < h->r->nfindings; i++) {
        const ms_finding *f = &h->r->findings[i];
        if (strcmp(f->rule_id, rule) == 0 && (!text || strstr(f->description, text)))
            return f;
    }
    return NULL;
}

static size_t count_prefix(const harness *h, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < h->r->nfindings; i++)
        if (strncmp(h->r->findings[i].rule_id, prefix, strlen(prefix)) == 0)
            n++;
    return n;
}

static char *fixture_path(const char *name)
{
    const char *dir = getenv("MS_KERAS_FIXTURES");
    if (dir)
        return ms_strdup_printf("%s/%s", dir, name);
    /* run by hand from the build directory */
    return ms_strdup_printf("../tests/fixtures/keras/%s", name);
}

static uint8_t *read_fixture(const char *name, size_t *len)
{
    char *path = fixture_path(name);
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void scan_json(harness *h, const char *json)
{
    CHECK(keras_config_scan(&h->ctx, h->ctx.location, json, strlen(json)) == MS_OK);
}

/* ---- marshal ------------------------------------------------------------ */

static const uint8_t *b64(const char *s, size_t *n)
{
    static uint8_t out[4096];
    static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (; *s && o < sizeof(out); s++) {
        const char *p = strchr(abc, *s);
        if (!p || !*s)
            continue;
        acc = (acc << 6) | (uint32_t)(p - abc);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *n = o;
    return out;
}

static bool has_name(const pymarshal_names *m, const char *name)
{
    for (size_t i = 0; i < m->nnames; i++)
        if (strcmp(m->names[i], name) == 0)
            return true;
    return false;
}

/* A Lambda's bytecode from a real Keras 2 (TensorFlow 2.11) .h5 model_config
 * published in a CTF write-up: `def malicious(x): print('SFRCe...'); return x`
 * marshalled by CPython 3.8-3.10, with a FLAG_REF back-reference. */
static const char py38_code[] =
    "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMMAAAAdABkAYMBAQB8AFMAKQJO2g1TRlJDZTI0d2RG"
    "OXpiKQHaBXByaW50KQHaAXipAHIEAAAA+h88aXB5dGhvbi1pbnB1dC0xMS1kNTY5YzRhOTUyYjQ+"
    "2gltYWxpY2lvdXMCAAAAcwQAAAAAAQgB";

static void test_marshal(void)
{
    pymarshal_names m;
    const char *err = NULL;
    size_t n;
    const uint8_t *p = b64(py38_code, &n);
    CHECK(pymarshal_read_names(p, n, &m, &err) == MS_OK);
    CHECK_STR(m.layout, "CPython 3.8 to 3.10");
    CHECK(has_name(&m, "print"));
    CHECK(m.nstrings == 1 && strcmp(m.strings[0], "SFRCe24wdF9zb") == 0);
    CHECK_STR(m.code_name, "malicious");
    pymarshal_names_free(&m);

    /* Python 2 layout, hand-built: 4 ints; names via 't' and an 'R' ref */
    static const uint8_t py2[] = {'c', 1,   0,   0,   0,    1,   0,   0,   0,
                                  2,   0,   0,   0,   0x43, 0,   0,   0, /* argc nlocals stack flags
                                                                          */
                                  's', 2,   0,   0,   0,    'd', 0,      /* co_code */
                                  '(', 2,   0,   0,   0,    'N', 's', 2,   0,
                                  0,   0,   'i', 'd', /* co_consts (None, 'id') */
                                  '(', 2,   0,   0,   0,    't', 2,   0,   0,
                                  0,   'o', 's', /* co_names ('os', */
                                  't', 6,   0,   0,   0,    's', 'y', 's', 't',
                                  'e', 'm', /*   'system') */
                                  '(', 1,   0,   0,   0,    'R', 0,   0,   0,
                                  0, /* varnames (ref 'os') */
                                  '(', 0,   0,   0,   0,    '(', 0,   0,   0,
                                  0, /* freevars cellvars */
                                  's', 1,   0,   0,   0,    'f', 't', 8,   0,
                                  0,   0,   '<', 'l', 'a',  'm', 'b', 'd', 'a',
                                  '>', 1,   0,   0,   0,    's', 0,   0,   0,
                                  0}; /* firstlineno lnotab */
    CHECK(pymarshal_read_names(py2, sizeof(py2), &m, &err) == MS_OK);
    CHECK_STR(m.layout, "CPython 2");
    CHECK(has_name(&m, "os") && has_name(&m, "system") && m.nnames == 2);
    CHECK_STR(m.code_name, "<lambda>");
    pymarshal_names_free(&m);

    /* the same cut short, with a trailing byte, with a bad reference */
    CHECK(pymarshal_read_names(py2, sizeof(py2) - 3, &m, &err) != MS_OK && err);
    pymarshal_names_free(&m);
    uint8_t longer[sizeof(py2) + 1];
    memcpy(longer, py2, sizeof(py2));
    longer[sizeof(py2)] = 'N';
    CHECK(pymarshal_read_names(longer, sizeof(longer), &m, &err) == MS_MALFORMED);
    pymarshal_names_free(&m);
    uint8_t badref[sizeof(py2)];
    memcpy(badref, py2, sizeof(py2));
    uint8_t *rpos = memchr(badref + 60, 'R', sizeof(badref) - 60);
    CHECK(rpos != NULL);
    if (rpos)
        rpos[1] = 9; /* 'R' index 9: no such interned string */
    CHECK(pymarshal_read_names(badref, sizeof(badref), &m, &err) == MS_MALFORMED);
    pymarshal_names_free(&m);

    /* not a code object; nothing at all */
    CHECK(pymarshal_read_names((const uint8_t *)"N", 1, &m, &err) == MS_UNSUPPORTED);
    CHECK(pymarshal_read_names((const uint8_t *)"", 0, &m, &err) == MS_UNSUPPORTED);

    /* consts nested 100 tuples deep hits the depth cap */
    uint8_t deep[17 + 5 * 100 + 1];
    size_t k = 0;
    deep[k++] = 'c';
    for (int i = 0; i < 16; i++)
        deep[k++] = 0;
    deep[k++] = 's';
    for (int i = 0; i < 4; i++)
        deep[k++] = 0;
    for (int i = 0; i < 99 && k + 2 <= sizeof(deep); i++) {
        deep[k++] = ')';
        deep[k++] = 1;
    }
    CHECK(pymarshal_read_names(deep, k, &m, &err) == MS_LIMIT);
    pymarshal_names_free(&m);

    /* a sequence claiming more items than bytes */
    static const uint8_t huge[] = {'c', 0, 0, 0, 0, 0,   0, 0, 0, 0, 0,   0,    0,    0,    0,   0,
                                   0,   0, 0, 0, 0, 's', 0, 0, 0, 0, '(', 0xff, 0xff, 0xff, 0x7f};
    CHECK(pymarshal_read_names(huge, sizeof(huge), &m, &err) == MS_TRUNCATED);
    pymarshal_names_free(&m);
}

/* ---- the config analyser on the v3 config.json fixtures ----------------- */

typedef struct config_case {
    const char *file;
    const char *must[3];   /* rule ids that must be reported */
    size_t keras_findings; /* KERAS-* findings expected in all */
    const char *text;      /* in the first must finding's description */
} config_case;

static const config_case cases[] = {
    {"v3-benign-sequential.json", {NULL}, 0, NULL},
    {"v3-lambda.json", {"KERAS-LAMBDA"}, 1, "os, system"},
    {"v3-lambda-as-activation.json", {"KERAS-LAMBDA"}, 1, "attacker.example"},
    {"v3-custom-module.json", {"KERAS-CUSTOM-OBJECT"}, 1, "evilpkg.layers"},
    {"v3-dangerous-module.json", {"KERAS-DANGEROUS-OBJECT"}, 1, "'Popen' from module 'subprocess'"},
    {"v3-builtins-exec.json", {"KERAS-DANGEROUS-OBJECT"}, 1, "'exec' from module 'builtins'"},
    {"v3-enable-unsafe-deserialization.json",
     {"KERAS-UNSAFE-DESERIALIZATION", "KERAS-LAMBDA"},
     2,
     "CVE-2025-9906"},
    {"v3-get-file.json", {"KERAS-GET-FILE"}, 1, "get_file"},
    {"v3-torch-module-wrapper-os-system.json", {"KERAS-TORCH-MODULE-WRAPPER"}, 1, "base64"},
    {"v3-torch-module-wrapper-linear.json", {"KERAS-TORCH-MODULE-WRAPPER"}, 1, "base64"},
    {"v3-tfsm-layer.json", {"KERAS-TFSM-LAYER"}, 1, "/tmp/attacker_savedmodel"},
};

static void test_config_fixtures(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const config_case *c = &cases[i];
        size_t len = 0;
        char *rel = ms_strdup_printf("configs/%s", c->file);
        uint8_t *data = rel ? read_fixture(rel, &len) : NULL;
        free(rel);
        CHECK(data != NULL);
        if (!data) {
            fprintf(stderr, "  missing fixture %s\n", c->file);
            continue;
        }
        harness h;
        h_init(&h, "cfg.json");
        CHECK(keras_config_scan(&h.ctx, "cfg.json", (const char *)data, len) == MS_OK);
        size_t got = count_prefix(&h, "KERAS-");
        CHECK(got == c->keras_findings);
        for (int k = 0; k < 3 && c->must[k]; k++)
            CHECK(count(&h, c->must[k]) == 1);
        if (c->must[0] && c->text)
            CHECK(find(&h, c->must[0], c->text) != NULL);
        if (got != c->keras_findings || (c->must[0] && !find(&h, c->must[0], c->text))) {
            fprintf(stderr, "  %s:\n", c->file);
            for (size_t f = 0; f < h.r->nfindings; f++)
                fprintf(stderr, "    %s %s\n", h.r->findings[f].rule_id,
                        h.r->findings[f].description);
        }
        if (strstr(c->file, "os-system")) {
            /* the pickle inside is analysed as a member of its own */
            const ms_finding *f = find(&h, "PICKLE-DANGEROUS-GLOBAL", "posix.system");
            CHECK(f != NULL);
            CHECK(f && strcmp(f->location, "cfg.json!TorchModuleWrapper") == 0);
        }
        if (strstr(c->file, "v3-lambda.json")) {
            const ms_finding *f = find(&h, "KERAS-LAMBDA", NULL);
            json_t *names = f ? json_object_get(f->details, "names") : NULL;
            CHECK(json_array_size(names) == 2);
            CHECK_STR(json_string_value(json_object_get(f ? f->details : NULL, "path")),
                      "config.layers[2]");
        }
        h_free(&h);
        free(data);
    }
}

/* ---- inline configs ------------------------------------------------------ */

static void test_config_inline(void)
{
    harness h;

    /* not JSON: fails closed */
    h_init(&h, "m.h5");
    scan_json(&h, "{\"class_name\": \"Sequential\", \"config\": {");
    CHECK(count(&h, "KERAS-CONFIG-MALFORMED") == 1);
    h_free(&h);

    /* Python's json writes NaN and Infinity; they are not errors */
    h_init(&h, "m.h5");
    scan_json(&h, "{\"class_name\": \"ReLU\", \"config\": {\"max_value\": Infinity, "
                  "\"threshold\": -Infinity, \"negative_slope\": NaN, \"name\": \"NaN\"}}");
    CHECK(h.r->nfindings == 0);
    h_free(&h);

    /* a Keras 2 Lambda with function_type 'function' names a Python function */
    h_init(&h, "m.h5");
    scan_json(&h, "{\"class_name\": \"Lambda\", \"config\": {\"name\": \"l\", \"function\": "
                  "\"system\", \"function_type\": \"function\", \"module\": \"os\"}}");
    CHECK(find(&h, "KERAS-LAMBDA", "'system'") != NULL);
    CHECK(find(&h, "KERAS-LAMBDA", "module 'os'") != NULL);
    h_free(&h);

    /* a Keras 2 list-form lambda with real 3.8 bytecode */
    h_init(&h, "m.h5");
    char *cfg = ms_strdup_printf("{\"class_name\": \"Lambda\", \"config\": {\"name\": \"l\", "
                                 "\"function\": [\"%s\", null, null], \"function_type\": "
                                 "\"lambda\", \"output_shape_type\": \"raw\"}}",
                                 py38_code);
    scan_json(&h, cfg);
    free(cfg);
    CHECK(find(&h, "KERAS-LAMBDA", "print") != NULL);
    CHECK(find(&h, "KERAS-LAMBDA", "CPython 3.8 to 3.10") != NULL);
    h_free(&h);

    /* undecodable bytecode is still a Lambda, and says so */
    h_init(&h, "m.h5");
    scan_json(&h, "{\"class_name\": \"Lambda\", \"config\": {\"function\": [\"AAAA\", null, "
                  "null], \"function_type\": \"lambda\"}}");
    CHECK(find(&h, "KERAS-LAMBDA", "could not be read") != NULL);
    h_free(&h);

    /* Keras's own quirks are not findings: Custom>Adam (TF 2.11+), builtins
     * for Keras functions (Keras <= 3.6), tf.TensorSpec typespecs */
    h_init(&h, "m.h5");
    scan_json(&h, "[{\"class_name\": \"Custom>Adam\", \"config\": {}},"
                  " {\"module\": \"builtins\", \"class_name\": \"function\", \"config\": \"relu\","
                  "  \"registered_name\": \"function\"},"
                  " {\"class_name\": \"__typespec__\", \"spec_name\": \"TensorSpec\", \"module\":"
                  "  \"tensorflow.python.framework.tensor\", \"config\": [[null, 4], \"float32\"],"
                  "  \"registered_name\": null},"
                  " {\"module\": \"keras_hub.src.models.gemma.gemma_backbone\", \"class_name\":"
                  "  \"GemmaBackbone\", \"registered_name\": \"keras_hub>GemmaBackbone\"}]");
    CHECK(h.r->nfindings == 0);
    h_free(&h);

    /* ... but a user-registered custom object and __main__ are */
    h_init(&h, "m.h5");
    scan_json(&h, "[{\"class_name\": \"Custom>MyLayer\", \"config\": {}},"
                  " {\"module\": \"__main__\", \"class_name\": \"MyLoss\", \"config\": {}}]");
    CHECK(count(&h, "KERAS-CUSTOM-OBJECT") == 2);
    h_free(&h);

    /* builtins with a Python builtin's name resolves to that builtin */
    h_init(&h, "m.h5");
    scan_json(&h, "{\"module\": \"builtins\", \"class_name\": \"function\", \"config\": \"eval\"}");
    CHECK(count(&h, "KERAS-DANGEROUS-OBJECT") == 1);
    h_free(&h);

    /* a dotted module below a denied one, and a pickle deny-list name */
    h_init(&h, "m.h5");
    scan_json(&h, "[{\"module\": \"os.path\", \"class_name\": \"function\", \"config\": \"join\"},"
                  " {\"module\": \"torch\", \"class_name\": \"function\", \"config\": \"load\"}]");
    CHECK(count(&h, "KERAS-DANGEROUS-OBJECT") == 2);
    h_free(&h);

    /* TFOpLambda calling tf.py_function */
    h_init(&h, "m.h5");
    scan_json(&h, "{\"class_name\": \"TFOpLambda\", \"config\": {\"name\": \"tf.py_function\","
                  " \"function\": \"py_function\"}}");
    CHECK(count(&h, "KERAS-DANGEROUS-OBJECT") == 1);
    h_free(&h);

    /* enable_unsafe_deserialization as a key counts too; get_file suffixes */
    h_init(&h, "m.h5");
    scan_json(&h, "{\"enable_unsafe_deserialization\": true, \"x\": \"keras.utils.get_file\","
                  " \"y\": \"my_get_file_helper\"}");
    CHECK(count(&h, "KERAS-UNSAFE-DESERIALIZATION") == 1);
    CHECK(count(&h, "KERAS-GET-FILE") == 1);
    h_free(&h);

    /* 40 Lambda layers: 32 listed, then one with the count */
    h_init(&h, "m.h5");
    ms_strbuf sb;
    ms_strbuf_init(&sb, 1 << 20);
    ms_strbuf_puts(&sb, "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [");
    for (int i = 0; i < 40; i++)
        ms_strbuf_printf(&sb, "%s{\"class_name\": \"Lambda\", \"config\": {\"name\": \"l%d\"}}",
                         i ? ", " : "", i);
    ms_strbuf_puts(&sb, "]}}");
    scan_json(&h, sb.data);
    ms_strbuf_free(&sb);
    CHECK(count(&h, "KERAS-LAMBDA") == 33);
    CHECK(find(&h, "KERAS-LAMBDA", "8 further occurrences") != NULL);
    h_free(&h);

    /* nesting beyond the walk's cap (jansson itself accepts up to 2048) */
    h_init(&h, "m.h5");
    ms_strbuf_init(&sb, 1 << 20);
    for (int i = 0; i < 300; i++)
        ms_strbuf_puts(&sb, "[");
    for (int i = 0; i < 300; i++)
        ms_strbuf_puts(&sb, "]");
    scan_json(&h, sb.data);
    ms_strbuf_free(&sb);
    CHECK(find(&h, "SCAN-LIMIT", "nests deeper") != NULL);
    h_free(&h);

    /* over the size cap: reported, not parsed */
    h_init(&h, "m.h5");
    size_t big = (16u << 20) + 1;
    char *text = malloc(big);
    if (text) {
        memset(text, ' ', big);
        text[0] = '{';
        text[big - 1] = '}';
        CHECK(keras_config_scan(&h.ctx, "m.h5", text, big) == MS_OK);
        CHECK(find(&h, "SCAN-LIMIT", "Keras configuration is") != NULL);
        free(text);
    }
    h_free(&h);

    /* the archive wrapper: location and details.attribute */
    h_init(&h, "model.keras");
    static const char lam[] = "{\"class_name\": \"__lambda__\", \"config\": {\"value\": [\"\"]}}";
    CHECK(keras_v3_scan_archive_config(&h.ctx, "config.json", (const uint8_t *)lam, strlen(lam)) ==
          MS_OK);
    const ms_finding *f = find(&h, "KERAS-LAMBDA", NULL);
    CHECK(f && strcmp(f->location, "model.keras!config.json") == 0);
    CHECK_STR(json_string_value(json_object_get(f ? f->details : NULL, "attribute")),
              "config.json");
    h_free(&h);
}

/* ---- the HDF5 child ------------------------------------------------------ */

static void child_segv(int fd, const uint8_t *d, size_t n)
{
    (void)fd;
    (void)d;
    (void)n;
    kill(getpid(), SIGSEGV);
}

static void child_hang(int fd, const uint8_t *d, size_t n)
{
    (void)fd;
    (void)d;
    (void)n;
    for (;;)
        pause();
}

static void child_garbage(int fd, const uint8_t *d, size_t n)
{
    (void)d;
    (void)n;
    (void)!write(fd, "Zgarbage-that-is-no-record", 26);
}

static void child_exit3(int fd, const uint8_t *d, size_t n)
{
    (void)fd;
    (void)d;
    (void)n;
    _exit(3);
}

static void child_config_then_abort(int fd, const uint8_t *d, size_t n)
{
    (void)d;
    (void)n;
    static const char cfg[] = "{\"module\": \"os\", \"class_name\": \"function\", \"config\": "
                              "\"system\"}";
    hdf5_child_record(fd, 'A', "model_config", cfg, strlen(cfg));
    abort();
}

/* the child process runs these by name: it is this same test program,
 * started again by the scanner (see hdf5_scan.h) */
const hdf5_child_mode hdf5_test_child_modes[] = {
    {"segv", child_segv},
    {"hang", child_hang},
    {"garbage", child_garbage},
    {"exit3", child_exit3},
    {"config-then-abort", child_config_then_abort},
    {NULL, NULL},
};

static void test_hdf5_child(void)
{
    static const uint8_t sig[] = "\x89HDF\r\n\x1a\n";
    harness h;

    h_init(&h, "crash.h5");
    CHECK(hdf5_scan_with(&h.ctx, sig, 8, "segv", 5) == MS_OK);
    CHECK(find(&h, "HDF5-PARSER-FAILURE", "SIGSEGV") != NULL);
    h_free(&h);

    h_init(&h, "hang.h5");
    time_t t0 = time(NULL);
    CHECK(hdf5_scan_with(&h.ctx, sig, 8, "hang", 1) == MS_OK);
    CHECK(time(NULL) - t0 < 10);
    CHECK(find(&h, "HDF5-PARSER-FAILURE", "within 1 seconds") != NULL);
    h_free(&h);

    h_init(&h, "garbage.h5");
    CHECK(hdf5_scan_with(&h.ctx, sig, 8, "garbage", 5) == MS_OK);
    CHECK(count(&h, "HDF5-PARSER-FAILURE") == 1);
    h_free(&h);

    h_init(&h, "exit.h5");
    CHECK(hdf5_scan_with(&h.ctx, sig, 8, "exit3", 5) == MS_OK);
    CHECK(find(&h, "HDF5-PARSER-FAILURE", "status 3") != NULL);
    h_free(&h);

    /* what arrived before the crash is still analysed */
    h_init(&h, "partial.h5");
    CHECK(hdf5_scan_with(&h.ctx, sig, 8, "config-then-abort", 5) == MS_OK);
    CHECK(find(&h, "HDF5-PARSER-FAILURE", "SIGABRT") != NULL);
    CHECK(count(&h, "KERAS-DANGEROUS-OBJECT") == 1);
    h_free(&h);

    /* the real reader on real files */
    size_t len = 0;
    uint8_t *data = read_fixture("lambda-os-system.h5", &len);
    CHECK(data != NULL);
    if (data) {
        h_init(&h, "lambda-os-system.h5");
        CHECK(hdf5_scan(&h.ctx, data, len) == MS_OK);
        const ms_finding *f = find(&h, "KERAS-LAMBDA", "os, system");
        CHECK(f != NULL);
        CHECK_STR(json_string_value(json_object_get(f ? f->details : NULL, "keras_version")),
                  "2.15.0");
        CHECK(h.r->nfindings == 1);
        CHECK_STR(h.ctx.format_detail, "keras-h5");
        h_free(&h);
        free(data);
    }
    data = read_fixture("benign-weights-only.h5", &len);
    CHECK(data != NULL);
    if (data) {
        h_init(&h, "w.h5");
        CHECK(hdf5_scan(&h.ctx, data, len) == MS_OK);
        CHECK(h.r->nfindings == 0);
        h_free(&h);
        free(data);
    }
}

/* The image reaches the child as the scanned file's descriptor when the
 * data lies in the file's mapping, at any offset (a stored zip member). */
static void test_hdf5_image_descriptor(void)
{
    size_t len = 0;
    uint8_t *h5 = read_fixture("lambda-os-system.h5", &len);
    CHECK(h5 != NULL);
    if (!h5)
        return;
    static const size_t skews[] = {0, 1001, 4096, 12345};
    for (size_t k = 0; k < sizeof(skews) / sizeof(skews[0]); k++) {
        FILE *f = tmpfile();
        CHECK(f != NULL);
        if (!f)
            break;
        for (size_t i = 0; i < skews[k]; i++)
            fputc('z', f);
        fwrite(h5, 1, len, f);
        fputs("trailing bytes of an outer container", f);
        fflush(f);
        size_t total = skews[k] + len + 36;
        int fd = fileno(f);
        uint8_t *map = mmap(NULL, total, PROT_READ, MAP_PRIVATE, fd, 0);
        CHECK(map != MAP_FAILED);
        if (map != MAP_FAILED) {
            harness h;
            h_init(&h, "outer.keras!model.h5");
            h.ctx.file_map = map;
            h.ctx.file_len = total;
            h.ctx.file_fd = fd;
            CHECK(hdf5_scan(&h.ctx, map + skews[k], len) == MS_OK);
            CHECK(find(&h, "KERAS-LAMBDA", "os, system") != NULL);
            CHECK(count(&h, "HDF5-PARSER-FAILURE") == 0);
            h_free(&h);
            munmap(map, total);
        }
        fclose(f);
    }
    free(h5);

    /* a mode the child does not know ends it with status 124 */
    static const uint8_t sig[] = "\x89HDF\r\n\x1a\n";
    harness h;
    h_init(&h, "mode.h5");
    CHECK(hdf5_scan_with(&h.ctx, sig, 8, "no-such-mode", 5) == MS_OK);
    CHECK(find(&h, "HDF5-PARSER-FAILURE", "status 124") != NULL);
    h_free(&h);
}

/* The reader is started while other threads allocate and free memory
 * without pause, as the scan's workers do. A child forked from such a
 * process could inherit a lock held by another thread and hang; every run
 * here must finish with the Lambda layer found. */
static atomic_bool churn_stop;

static void *churn(void *arg)
{
    (void)arg;
    size_t i = 0;
    while (!atomic_load(&churn_stop)) {
        void *p[16];
        for (int k = 0; k < 16; k++)
            p[k] = malloc(16 + (i++ * 37) % 8192);
        for (int k = 0; k < 16; k++)
            free(p[k]);
    }
    return NULL;
}

typedef struct reader_job {
    const uint8_t *data;
    size_t len;
    int ok, runs;
} reader_job;

static void *read_many(void *arg)
{
    reader_job *j = arg;
    for (int i = 0; i < j->runs; i++) {
        harness h;
        h_init(&h, "m.h5");
        if (hdf5_scan(&h.ctx, j->data, j->len) == MS_OK &&
            find(&h, "KERAS-LAMBDA", "os, system") && count(&h, "HDF5-PARSER-FAILURE") == 0)
            j->ok++;
        h_free(&h);
    }
    return NULL;
}

static void test_hdf5_threads(void)
{
    size_t len = 0;
    uint8_t *h5 = read_fixture("lambda-os-system.h5", &len);
    CHECK(h5 != NULL);
    if (!h5)
        return;
    atomic_store(&churn_stop, false);
    pthread_t churners[3], readers[2];
    reader_job jobs[2] = {{h5, len, 0, 12}, {h5, len, 0, 12}};
    for (int i = 0; i < 3; i++)
        CHECK(pthread_create(&churners[i], NULL, churn, NULL) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&readers[i], NULL, read_many, &jobs[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);
    atomic_store(&churn_stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(churners[i], NULL);
    CHECK(jobs[0].ok == 12);
    CHECK(jobs[1].ok == 12);
    free(h5);
}

void test_keras_config(void)
{
    test_marshal();
    test_config_fixtures();
    test_config_inline();
    test_hdf5_child();
    test_hdf5_image_descriptor();
    test_hdf5_threads();
}
