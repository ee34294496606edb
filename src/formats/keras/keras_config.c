/*
 * keras_config.c - the Keras model configuration analyser.
 *
 * A Keras model is rebuilt from a JSON configuration: the `model_config`
 * attribute of a Keras 2 HDF5 file, or `config.json` inside a Keras v3
 * `.keras` zip. Every serialized object has the same shape, nested without
 * limit (layers of models inside layers, `build_config`, `compile_config`,
 * initializers, losses, activations, dtype policies ...):
 *
 *   { "module": "keras.layers",            (Keras >= 2.13 / 3; absent in 2.x)
 *     "class_name": "Dense",               ("function" for a plain function:
 *     "config": { ... },                     then "config" is its name)
 *     "registered_name": "pkg>Name" | null,
 *     "build_config": {...}, "compile_config": {...},
 *     "shared_object_id": 3 }
 *
 * Where code hides:
 *   Lambda layer, Keras 2:   "config": {"function": [b64(marshal(code)),
 *                              defaults, closure], "function_type": "lambda",
 *                              "module": "__main__", "output_shape": ...}
 *   Lambda layer, Keras 3:   "config": {"function": {"class_name":
 *                              "__lambda__", "config": {"code": b64, ...}}}
 *   any other lambda, K3:    {"class_name": "__lambda__", "config":
 *                              {"value": [b64, defaults, closure]}}
 *   "module" outside Keras:  imported by Keras < 3.9 (CVE-2025-1550)
 *   enable_unsafe_deserialization, keras.utils.get_file called as objects
 *                            (CVE-2025-9906, CVE-2025-8747)
 *   TorchModuleWrapper:      "config": {"module": b64(torch.save(module))}
 *                            loaded with torch.load (CVE-2025-49655)
 *   TFSMLayer:               "config": {"filepath": a SavedModel to load}
 *
 * References: keras/src/saving/serialization_lib.py,
 * keras/src/layers/core/lambda_layer.py, keras/src/utils/python_utils.py
 * (func_dump / func_load), keras/src/utils/torch_utils.py in
 * https://github.com/keras-team/keras; the JSON grammar is RFC 8259.
 *
 * The JSON is parsed by jansson (size-capped before parsing, depth-capped by
 * jansson and again by this walk); the marshalled bytecode is read by the
 * bounded reader in pymarshal.c, never by Python.
 */
#include "keras_config.h"

#include <stdlib.h>
#include <string.h>

#include "../../core/limits.h"
#include "../../policy/pickle_policy.h"
#include "../../policy/policy_file.h"
#include "../../util/strbuf.h"
#include "pymarshal.h"

enum {
    PATH_CAP = 400,    /* bytes of JSON path kept for a finding */
    MAX_PER_RULE = 32, /* findings of one rule listed per configuration */
    MAX_SHOWN_NAMES = 24,
};

typedef enum krule {
    R_LAMBDA,
    R_DANGEROUS,
    R_CUSTOM,
    R_UNSAFE,
    R_GET_FILE,
    R_TORCH,
    R_TFSM,
    R_COUNT,
} krule;

static const char *const rule_ids[R_COUNT] = {
    "KERAS-LAMBDA",        "KERAS-DANGEROUS-OBJECT",
    "KERAS-CUSTOM-OBJECT", "KERAS-UNSAFE-DESERIALIZATION",
    "KERAS-GET-FILE",      "KERAS-TORCH-MODULE-WRAPPER",
    "KERAS-TFSM-LAYER",
};

typedef struct kwalk {
    ms_scan_ctx *ctx;
    const char *location;
    const json_t *extra;
    char path[PATH_CAP + 8];
    size_t pathlen;
    const json_t **handled;       /* __lambda__ objects reported with their Lambda layer: */
    size_t nhandled, handled_cap; /* an open-addressing set of pointers */
    unsigned listed[R_COUNT];
    unsigned omitted[R_COUNT];
    unsigned torch_wrappers;
    size_t nodes;
    bool stopped;
    bool nomem;
} kwalk;

/* ---- small helpers ---------------------------------------------------- */

static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static bool module_in(const char *m, const char *pkg)
{
    size_t n = strlen(pkg);
    return strncmp(m, pkg, n) == 0 && (m[n] == '\0' || m[n] == '.');
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && memcmp(s + n - m, tail, m) == 0;
}

/* Keras itself and the official Keras libraries that Keras's own safe mode
 * imports by name. */
static bool keras_module(const char *m)
{
    static const char *const pkgs[] = {
        "keras",     "tf_keras",  "tensorflow.keras", "tensorflow.python.keras",
        "keras_hub", "keras_nlp", "keras_cv"};
    for (size_t i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++)
        if (module_in(m, pkgs[i]))
            return true;
    return false;
}

static bool keras_package(const char *registered)
{
    const char *gt = strchr(registered, '>');
    size_t n = gt ? (size_t)(gt - registered) : strlen(registered);
    static const char *const pkgs[] = {"keras", "keras_hub", "keras_nlp", "keras_cv", "tf_keras"};
    for (size_t i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++)
        if (strlen(pkgs[i]) == n && strncmp(registered, pkgs[i], n) == 0)
            return true;
    /* TensorFlow 2.11-2.15 register Keras's own new optimizers under the
     * default package: real training_configs say "Custom>Adam" */
    static const char *const optimizers[] = {"Custom>Adam",
                                             "Custom>AdamW",
                                             "Custom>SGD",
                                             "Custom>RMSprop",
                                             "Custom>Adagrad",
                                             "Custom>Adadelta",
                                             "Custom>Adamax",
                                             "Custom>Nadam",
                                             "Custom>Ftrl",
                                             "Custom>Lion",
                                             "Custom>Adafactor",
                                             "Custom>LossScaleOptimizer",
                                             "Custom>LossScaleOptimizerV3"};
    for (size_t i = 0; i < sizeof(optimizers) / sizeof(optimizers[0]); i++)
        if (strcmp(registered, optimizers[i]) == 0)
            return true;
    return false;
}

/* Modules whose every member is a way to run code, touch files or the
 * network (a submodule is covered by its parent). */
static const char *dangerous_module_reason(const char *m)
{
    static const struct {
        const char *module;
        const char *reason;
    } deny[] = {
        {"os", "runs operating-system commands"},
        {"posix", "runs operating-system commands"},
        {"nt", "runs operating-system commands"},
        {"subprocess", "runs operating-system commands"},
        {"pty", "runs operating-system commands"},
        {"commands", "runs operating-system commands"},
        {"popen2", "runs operating-system commands"},
        {"multiprocessing", "starts processes"},
        {"asyncio", "runs operating-system commands"},
        {"builtins", "evaluates code, imports modules and opens files"},
        {"__builtin__", "evaluates code, imports modules and opens files"},
        {"sys", "reaches the interpreter's modules"},
        {"importlib", "imports arbitrary modules"},
        {"runpy", "runs Python modules"},
        {"code", "evaluates Python code"},
        {"codeop", "compiles Python code"},
        {"pdb", "starts a debugger that runs code"},
        {"bdb", "starts a debugger that runs code"},
        {"shutil", "copies and deletes files"},
        {"tempfile", "creates files"},
        {"socket", "opens network connections"},
        {"urllib", "downloads from the network"},
        {"http", "opens network connections"},
        {"requests", "downloads from the network"},
        {"webbrowser", "opens URLs"},
        {"ctypes", "loads native code"},
        {"pickle", "deserializes pickles, which run code"},
        {"_pickle", "deserializes pickles, which run code"},
        {"cPickle", "deserializes pickles, which run code"},
        {"dill", "deserializes pickles, which run code"},
        {"marshal", "loads Python bytecode"},
        {"types", "builds functions from bytecode"},
    };
    for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
        if (module_in(m, deny[i].module))
            return deny[i].reason;
    return NULL;
}

/* Names in Python's builtins module: a function config naming one of them
 * with module "builtins" resolves to the Python builtin itself, not to a
 * Keras function (Keras <= 3.6 wrote "builtins" for Keras's own functions,
 * whose names are never Python builtins). */
static bool python_builtin(const char *name)
{
    static const char *const names[] = {"__build_class__",
                                        "__import__",
                                        "abs",
                                        "aiter",
                                        "all",
                                        "anext",
                                        "any",
                                        "ascii",
                                        "bin",
                                        "bool",
                                        "breakpoint",
                                        "bytearray",
                                        "bytes",
                                        "callable",
                                        "chr",
                                        "classmethod",
                                        "compile",
                                        "complex",
                                        "copyright",
                                        "credits",
                                        "delattr",
                                        "dict",
                                        "dir",
                                        "divmod",
                                        "enumerate",
                                        "eval",
                                        "exec",
                                        "execfile",
                                        "exit",
                                        "file",
                                        "filter",
                                        "float",
                                        "format",
                                        "frozenset",
                                        "getattr",
                                        "globals",
                                        "hasattr",
                                        "hash",
                                        "help",
                                        "hex",
                                        "id",
                                        "input",
                                        "int",
                                        "isinstance",
                                        "issubclass",
                                        "iter",
                                        "len",
                                        "license",
                                        "list",
                                        "locals",
                                        "map",
                                        "max",
                                        "memoryview",
                                        "min",
                                        "next",
                                        "object",
                                        "oct",
                                        "open",
                                        "ord",
                                        "pow",
                                        "print",
                                        "property",
                                        "quit",
                                        "range",
                                        "raw_input",
                                        "reload",
                                        "repr",
                                        "reversed",
                                        "round",
                                        "set",
                                        "setattr",
                                        "slice",
                                        "sorted",
                                        "staticmethod",
                                        "str",
                                        "sum",
                                        "super",
                                        "tuple",
                                        "type",
                                        "vars",
                                        "zip"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* co_names worth pointing out in a description */
static bool notable_name(const char *n)
{
    static const char *const names[] = {
        "os",          "posix",          "nt",          "subprocess",    "sys",
        "builtins",    "__builtins__",   "__import__",  "import_module", "system",
        "popen",       "Popen",          "spawn",       "spawnl",        "spawnv",
        "execv",       "execve",         "execl",       "execlp",        "execvp",
        "fork",        "call",           "check_call",  "check_output",  "run",
        "getoutput",   "exec",           "eval",        "compile",       "open",
        "getattr",     "setattr",        "globals",     "locals",        "socket",
        "connect",     "urlopen",        "urlretrieve", "requests",      "remove",
        "unlink",      "rmtree",         "rmdir",       "chmod",         "loads",
        "load",        "marshal",        "pickle",      "ctypes",        "CDLL",
        "__globals__", "__subclasses__", "__class__",   "__code__",      "breakpoint",
        "get_file"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(n, names[i]) == 0)
            return true;
    return false;
}

/* ---- path and reporting ---------------------------------------------- */

static size_t path_push_key(kwalk *w, const char *key)
{
    size_t old = w->pathlen;
    size_t n = strlen(key);
    if (w->pathlen + n + 1 > PATH_CAP) {
        if (w->pathlen + 3 <= PATH_CAP + 7 && !ends_with(w->path, "...")) {
            memcpy(w->path + w->pathlen, "...", 4);
            w->pathlen += 3;
        }
        return old;
    }
    if (w->pathlen)
        w->path[w->pathlen++] = '.';
    memcpy(w->path + w->pathlen, key, n + 1);
    w->pathlen += n;
    return old;
}

static size_t path_push_index(kwalk *w, size_t i)
{
    size_t old = w->pathlen;
    char seg[32];
    int n = snprintf(seg, sizeof(seg), "[%zu]", i);
    if (n <= 0 || w->pathlen + (size_t)n > PATH_CAP) {
        if (!ends_with(w->path, "...")) {
            memcpy(w->path + w->pathlen, "...", 4);
            w->pathlen += 3;
        }
        return old;
    }
    memcpy(w->path + w->pathlen, seg, (size_t)n + 1);
    w->pathlen += (size_t)n;
    return old;
}

static void path_pop(kwalk *w, size_t old)
{
    w->pathlen = old;
    w->path[old] = '\0';
}

static const char *path_text(const kwalk *w)
{
    return w->pathlen ? w->path : "(top level)";
}

static void report(kwalk *w, krule rule, json_t *details, const char *fmt, ...) MS_PRINTF(4, 5);
static void report(kwalk *w, krule rule, json_t *details, const char *fmt, ...)
{
    if (w->listed[rule] >= MAX_PER_RULE) {
        w->omitted[rule]++;
        json_decref(details);
        return;
    }
    w->listed[rule]++;
    if (!details)
        details = json_object();
    if (details) {
        json_object_set_new(details, "path", json_string(path_text(w)));
        if (w->extra)
            json_object_update_missing(details, (json_t *)w->extra);
    }
    va_list ap;
    va_start(ap, fmt);
    if (!ms_report_addv(w->ctx->report, rule_ids[rule], w->location, details, fmt, ap))
        w->nomem = true;
    va_end(ap);
}

static size_t ptr_hash(const json_t *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 17) & (cap - 1);
}

static bool handled(const kwalk *w, const json_t *obj)
{
    if (!w->handled_cap)
        return false;
    for (size_t i = ptr_hash(obj, w->handled_cap);; i = (i + 1) & (w->handled_cap - 1)) {
        if (w->handled[i] == obj)
            return true;
        if (!w->handled[i])
            return false;
    }
}

static void mark_handled(kwalk *w, const json_t *obj)
{
    if (handled(w, obj))
        return;
    if ((w->nhandled + 1) * 2 > w->handled_cap) { /* keep the set at most half full */
        size_t cap = w->handled_cap ? w->handled_cap * 2 : 64;
        const json_t **set = calloc(cap, sizeof(*set));
        if (!set) {
            w->nomem = true;
            return;
        }
        for (size_t k = 0; k < w->handled_cap; k++) {
            if (!w->handled[k])
                continue;
            size_t i = ptr_hash(w->handled[k], cap);
            while (set[i])
                i = (i + 1) & (cap - 1);
            set[i] = w->handled[k];
        }
        free(w->handled);
        w->handled = set;
        w->handled_cap = cap;
    }
    size_t i = ptr_hash(obj, w->handled_cap);
    while (w->handled[i])
        i = (i + 1) & (w->handled_cap - 1);
    w->handled[i] = obj;
    w->nhandled++;
}

/* Past the listing cap a finding is only counted: skip the decoding work. */
static bool over_cap(kwalk *w, krule rule)
{
    if (w->listed[rule] < MAX_PER_RULE)
        return false;
    w->omitted[rule]++;
    return true;
}

/* ---- decoding marshalled functions ------------------------------------ */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* base64 as Python's binascii.a2b_base64 decodes it by default: characters
 * outside the alphabet are skipped, padding ends the data, and a final group
 * of 1 or an unpadded 2-3 characters is an error. Caller frees. */
static uint8_t *b64_decode(const char *s, size_t n, size_t *outlen)
{
    uint8_t *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    uint32_t acc = 0;
    unsigned quad = 0, pads = 0;
    size_t o = 0;
    bool done = false;
    for (size_t i = 0; i < n && !done; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            if (quad >= 2 && quad + ++pads >= 4)
                done = true;
            continue;
        }
        int v = b64_value(c);
        if (v < 0)
            continue;
        pads = 0;
        acc = (acc << 6) | (uint32_t)v;
        if (++quad == 4) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            quad = 0;
            acc = 0;
        }
    }
    if (done) {
        if (quad == 2) {
            out[o++] = (uint8_t)(acc >> 4);
        } else if (quad == 3) {
            out[o++] = (uint8_t)(acc >> 10);
            out[o++] = (uint8_t)(acc >> 2);
        }
        quad = 0;
    }
    if (quad != 0) {
        free(out);
        return NULL;
    }
    *outlen = o;
    return out;
}

/* str.encode("raw_unicode_escape") of the UTF-8 text s: what Keras's
 * func_load hands to marshal.loads when the text is not valid base64. */
static uint8_t *raw_unicode_escape(const char *s, size_t n, size_t *outlen)
{
    size_t need = 1;
    for (size_t i = 0; i < n; i++) /* a lead byte of a sequence above U+00FF */
        need += ((unsigned char)s[i] >= 0xc4) ? 10 : 1;
    uint8_t *out = malloc(need);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const uint8_t *p = (const uint8_t *)s + i;
        size_t k = p[0] < 0x80 ? 1 : ms_utf8_seq_len(p, n - i);
        uint32_t cp;
        if (k == 0) { /* not UTF-8: jansson never hands us this */
            free(out);
            return NULL;
        }
        if (k == 1)
            cp = p[0];
        else if (k == 2)
            cp = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
        else if (k == 3)
            cp = ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
        else
            cp = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
                 ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
        if (cp < 0x100)
            out[o++] = (uint8_t)cp;
        else
            o += (size_t)snprintf((char *)out + o, 11, cp < 0x10000 ? "\\u%04x" : "\\U%08x",
                                  (unsigned)cp);
        i += k;
    }
    *outlen = o;
    return out;
}

typedef struct code_info {
    pymarshal_names names;
    bool read;         /* the bytecode was decoded and read */
    const char *error; /* why not, static text */
    unsigned pieces;   /* code strings seen */
} code_info;

/* Decodes one code string the way func_load does and reads its names. */
static void read_code_string(const json_t *code, code_info *ci)
{
    const char *s = json_string_value(code);
    if (!s) {
        ci->error = "the code is not a string";
        return;
    }
    ci->pieces++;
    size_t n = json_string_length(code), blen = 0;
    uint8_t *bytes = b64_decode(s, n, &blen);
    if (!bytes)
        bytes = raw_unicode_escape(s, n, &blen);
    if (!bytes) {
        ci->error = "the code string could not be decoded";
        return;
    }
    if (ci->read) { /* a second function in the same layer: merge its names */
        pymarshal_names more;
        const char *err;
        if (pymarshal_read_names(bytes, blen, &more, &err) == MS_OK) {
            for (size_t i = 0; i < more.nnames && ci->names.nnames < PYMARSHAL_MAX_LISTED; i++) {
                ci->names.names[ci->names.nnames++] = more.names[i];
                more.names[i] = NULL;
            }
            for (size_t i = 0; i < more.nstrings && ci->names.nstrings < PYMARSHAL_MAX_LISTED;
                 i++) {
                ci->names.strings[ci->names.nstrings++] = more.strings[i];
                more.strings[i] = NULL;
            }
            ci->names.code_objects += more.code_objects;
        }
        for (size_t i = 0; i < more.nnames; i++)
            free(more.names[i]);
        for (size_t i = 0; i < more.nstrings; i++)
            free(more.strings[i]);
        more.nnames = more.nstrings = 0;
        pymarshal_names_free(&more);
        free(bytes);
        return;
    }
    const char *err = NULL;
    ms_status st = pymarshal_read_names(bytes, blen, &ci->names, &err);
    free(bytes);
    if (st == MS_OK)
        ci->read = true;
    else
        ci->error = err;
}

/* A function as Keras serializes it: [code, defaults, closure], a code
 * string, or {"class_name": "__lambda__", "config": {"code" | "value"}}. */
static void read_function(kwalk *w, const json_t *fn, code_info *ci)
{
    if (json_is_array(fn)) {
        read_code_string(json_array_get(fn, 0), ci);
    } else if (json_is_string(fn)) {
        read_code_string(fn, ci);
    } else if (json_is_object(fn)) {
        const char *cn = str_of(fn, "class_name");
        if (!cn || strcmp(cn, "__lambda__") != 0)
            return;
        mark_handled(w, fn);
        const json_t *cfg = json_object_get(fn, "config");
        const json_t *code = json_object_get(cfg, "code");
        if (!code)
            code = json_object_get(cfg, "value");
        if (json_is_array(code))
            code = json_array_get(code, 0);
        read_code_string(code, ci);
    }
}

static bool is_lambda_object(const json_t *v)
{
    const char *cn = json_is_object(v) ? str_of(v, "class_name") : NULL;
    return cn && strcmp(cn, "__lambda__") == 0;
}

/* "references os, system; string constants 'id'" into sb, details into d */
static void describe_code(const code_info *ci, ms_strbuf *sb, json_t *d)
{
    if (!ci->read) {
        ms_strbuf_printf(&sb[0],
                         " The bytecode could not be read as a CPython code object (%s), so "
                         "what it calls is unknown.",
                         ci->error ? ci->error : "no code string");
        json_object_set_new(d, "bytecode_error",
                            json_string(ci->error ? ci->error : "no code string"));
        return;
    }
    const pymarshal_names *n = &ci->names;
    json_t *names = json_array(), *strings = json_array(), *notable = json_array();
    ms_strbuf_printf(sb, " The bytecode (%s layout, %u code object%s) references ", n->layout,
                     n->code_objects, n->code_objects == 1 ? "" : "s");
    if (n->nnames == 0)
        ms_strbuf_puts(sb, "no global or attribute names");
    else
        ms_strbuf_puts(sb, "the names ");
    for (size_t i = 0; i < n->nnames; i++) {
        json_array_append_new(names, json_string(n->names[i]));
        if (notable_name(n->names[i]))
            json_array_append_new(notable, json_string(n->names[i]));
        if (i < MAX_SHOWN_NAMES)
            ms_strbuf_printf(sb, "%s%s", i ? ", " : "", n->names[i]);
        else if (i == MAX_SHOWN_NAMES)
            ms_strbuf_puts(sb, ", ...");
    }
    if (n->nstrings) {
        ms_strbuf_puts(sb, " and the string constants ");
        for (size_t i = 0; i < n->nstrings && i <= MAX_SHOWN_NAMES; i++) {
            if (i == MAX_SHOWN_NAMES) {
                ms_strbuf_puts(sb, ", ...");
                break;
            }
            if (i)
                ms_strbuf_puts(sb, ", ");
            ms_strbuf_quote(sb, (const uint8_t *)n->strings[i], strlen(n->strings[i]), false, 80);
        }
    }
    for (size_t i = 0; i < n->nstrings; i++)
        json_array_append_new(strings, json_string(n->strings[i]));
    ms_strbuf_puts(sb, ".");
    if (json_array_size(notable)) {
        ms_strbuf_puts(sb, " Among them:");
        size_t i;
        json_t *v;
        json_array_foreach(notable, i, v)
        {
            ms_strbuf_printf(sb, "%s %s", i ? "," : "", json_string_value(v));
        }
        ms_strbuf_puts(sb, ", which reach the operating system, files or code evaluation.");
    }
    json_object_set_new(d, "names", names);
    json_object_set_new(d, "strings", strings);
    json_object_set_new(d, "notable_names", notable);
    json_object_set_new(d, "bytecode_layout", json_string(n->layout));
    if (n->code_name)
        json_object_set_new(d, "code_name", json_string(n->code_name));
    if (n->filename)
        json_object_set_new(d, "code_filename", json_string(n->filename));
}

/* ---- the object checks ------------------------------------------------- */

static void check_lambda_layer(kwalk *w, const json_t *obj)
{
    const json_t *cfg = json_object_get(obj, "config");
    const char *name = str_of(cfg, "name");
    const char *ftype = str_of(cfg, "function_type");
    const char *gmodule = str_of(cfg, "module");
    const json_t *fn = json_object_get(cfg, "function");
    const json_t *oshape = json_object_get(cfg, "output_shape");
    const json_t *mask = json_object_get(cfg, "mask");
    if (over_cap(w, R_LAMBDA)) {
        const json_t *parts[3] = {fn, oshape, mask};
        for (int i = 0; i < 3; i++)
            if (is_lambda_object(parts[i]))
                mark_handled(w, parts[i]);
        return;
    }
    code_info ci;
    memset(&ci, 0, sizeof(ci));
    json_t *d = json_object();
    ms_strbuf sb;
    ms_strbuf_init(&sb, 6000);
    ms_strbuf_printf(&sb, "Keras Lambda layer '%s' at %s ", name ? name : "?", path_text(w));
    bool named = json_is_string(fn) && ftype && strcmp(ftype, "lambda") != 0;
    if (named) {
        /* function_type "function": a function looked up by name in the
         * globals of `module` (Keras 2 adds that module's namespace) */
        ms_strbuf_printf(&sb,
                         "calls the Python function '%s' looked up by name (function_type "
                         "'%s'%s%s%s) every time the layer runs.",
                         json_string_value(fn), ftype,
                         gmodule ? ", in the globals of module '" : "", gmodule ? gmodule : "",
                         gmodule ? "'" : "");
        json_object_set_new(d, "function", json_string(json_string_value(fn)));
    } else if (fn) {
        read_function(w, fn, &ci);
        ms_strbuf_printf(&sb,
                         "holds a Python function as marshalled bytecode (%s), which Keras "
                         "rebuilds with marshal.loads and runs when the model is loaded and "
                         "called.",
                         ftype                  ? ftype
                         : is_lambda_object(fn) ? "__lambda__"
                                                : "lambda");
    } else {
        ms_strbuf_puts(&sb, "has no function in its config; Keras runs whatever it rebuilds "
                            "there.");
    }
    /* output_shape and mask may be functions too */
    const char *otype = str_of(cfg, "output_shape_type");
    if ((otype && strcmp(otype, "lambda") == 0) || is_lambda_object(oshape))
        read_function(w, oshape, &ci);
    if (is_lambda_object(mask))
        read_function(w, mask, &ci);
    if (!named)
        describe_code(&ci, &sb, d);
    if (gmodule) {
        const char *why = dangerous_module_reason(gmodule);
        ms_strbuf_printf(&sb, " Its globals come from module '%s'%s%s.", gmodule,
                         why ? ", which " : "", why ? why : "");
        json_object_set_new(d, "globals_module", json_string(gmodule));
    }
    if (name)
        json_object_set_new(d, "layer", json_string(name));
    json_object_set_new(d, "function_type",
                        json_string(ftype                  ? ftype
                                    : is_lambda_object(fn) ? "__lambda__"
                                                           : "lambda"));
    report(w, R_LAMBDA, d, "%s", sb.data ? sb.data : "");
    ms_strbuf_free(&sb);
    pymarshal_names_free(&ci.names);
}

static void check_bare_lambda(kwalk *w, const json_t *obj)
{
    if (over_cap(w, R_LAMBDA))
        return;
    code_info ci;
    memset(&ci, 0, sizeof(ci));
    read_function(w, obj, &ci);
    json_t *d = json_object();
    json_object_set_new(d, "function_type", json_string("__lambda__"));
    ms_strbuf sb;
    ms_strbuf_init(&sb, 6000);
    ms_strbuf_printf(&sb,
                     "A Python lambda serialized by Keras ('__lambda__') at %s: Keras rebuilds "
                     "it from marshalled bytecode with marshal.loads when the model is loaded "
                     "and runs it wherever the config uses it.",
                     path_text(w));
    describe_code(&ci, &sb, d);
    report(w, R_LAMBDA, d, "%s", sb.data ? sb.data : "");
    ms_strbuf_free(&sb);
    pymarshal_names_free(&ci.names);
}

static void check_torch_wrapper(kwalk *w, const json_t *obj)
{
    const json_t *cfg = json_object_get(obj, "config");
    const char *name = str_of(cfg, "name");
    const json_t *mod = json_object_get(cfg, "module");
    json_t *d = json_object();
    json_object_set_new(d, "cve", json_string("CVE-2025-49655"));
    if (name)
        json_object_set_new(d, "layer", json_string(name));
    uint8_t *bytes = NULL;
    size_t blen = 0;
    const char *how = NULL;
    if (json_is_string(mod)) {
        bytes = b64_decode(json_string_value(mod), json_string_length(mod), &blen);
        how = bytes ? "base64-encoded" : NULL;
    } else if (json_is_object(mod) && str_of(mod, "class_name") &&
               strcmp(str_of(mod, "class_name"), "__bytes__") == 0) {
        /* older Keras 3: {"class_name": "__bytes__", "config": {"value": str}} */
        const json_t *v = json_object_get(json_object_get(mod, "config"), "value");
        if (json_is_string(v) && (bytes = malloc(json_string_length(v) + 1)) != NULL) {
            blen = json_string_length(v);
            memcpy(bytes, json_string_value(v), blen);
            how = "stored as a __bytes__ string";
        }
    }
    /* the member the pickle is scanned as: "<config member>!TorchModuleWrapper" */
    const char *rel = NULL;
    size_t cl = strlen(w->ctx->location);
    if (strncmp(w->location, w->ctx->location, cl) == 0 && w->location[cl] == '!')
        rel = w->location + cl + 1;
    else if (w->extra && str_of(w->extra, "attribute"))
        rel = str_of(w->extra, "attribute");
    unsigned nth = ++w->torch_wrappers;
    char *member =
        nth > 1 ? ms_strdup_printf("%s%sTorchModuleWrapper#%u", rel ? rel : "", rel ? "!" : "", nth)
                : ms_strdup_printf("%s%sTorchModuleWrapper", rel ? rel : "", rel ? "!" : "");
    char size_text[96];
    if (bytes)
        snprintf(size_text, sizeof(size_text), "%zu bytes, %s", blen, how);
    else
        snprintf(size_text, sizeof(size_text), "its module field could not be decoded");
    if (bytes && member) {
        json_object_set_new(d, "module_bytes", json_integer((json_int_t)blen));
        json_object_set_new(d, "member", json_string(member));
    }
    report(w, R_TORCH, d,
           "Keras TorchModuleWrapper layer '%s' at %s carries a pickled torch.nn.Module "
           "(%s) that Keras loads with torch.load(weights_only=False) when the model is "
           "deserialized: a pickle runs arbitrary code on load.%s",
           name ? name : "?", path_text(w), size_text,
           bytes ? " The pickle is analysed as a member of its own." : "");
    if (bytes && member && ms_budget_expand(w->ctx, blen, "the TorchModuleWrapper module")) {
        if (ms_scan_member(w->ctx, member, bytes, blen) == MS_NOMEM)
            w->nomem = true;
    }
    free(member);
    free(bytes);
}

static void check_tfsm_layer(kwalk *w, const json_t *obj)
{
    const json_t *cfg = json_object_get(obj, "config");
    const char *name = str_of(cfg, "name");
    const char *fp = str_of(cfg, "filepath");
    const char *ep = str_of(cfg, "call_endpoint");
    json_t *d = json_object();
    json_object_set_new(d, "cve", json_string("CVE-2026-1462"));
    if (name)
        json_object_set_new(d, "layer", json_string(name));
    if (fp)
        json_object_set_new(d, "filepath", json_string(fp));
    if (ep)
        json_object_set_new(d, "call_endpoint", json_string(ep));
    report(w, R_TFSM, d,
           "Keras TFSMLayer '%s' at %s loads the TensorFlow SavedModel at '%s' (endpoint '%s') "
           "when the model is deserialized, even in safe mode; that SavedModel's graph and "
           "functions are not part of this file and run when the layer is called.",
           name ? name : "?", path_text(w), fp ? fp : "?", ep ? ep : "serve");
}

/* TFOpLambda calls a TensorFlow API function by its dotted name */
static void check_tf_op_lambda(kwalk *w, const json_t *obj, const char *class_name)
{
    const char *fn = str_of(json_object_get(obj, "config"), "function");
    if (!fn)
        return;
    static const char *const risky[] = {"py_function",   "numpy_function",   "py_func",
                                        "io.write_file", "io.read_file",     "io.matching_files",
                                        "io.gfile",      "saved_model.load", "raw_ops"};
    for (size_t i = 0; i < sizeof(risky) / sizeof(risky[0]); i++) {
        if (strstr(fn, risky[i])) {
            report(w, R_DANGEROUS,
                   json_pack("{s:s, s:s}", "class_name", class_name, "function", fn),
                   "Keras %s layer at %s calls the TensorFlow function tf.%s, which runs "
                   "Python code or reads and writes files when the model runs.",
                   class_name, path_text(w), fn);
            return;
        }
    }
}

/* module / class_name / registered_name of one serialized object */
static void check_origin(kwalk *w, const json_t *obj, const char *class_name)
{
    const char *module = str_of(obj, "module");
    const char *registered = str_of(obj, "registered_name");
    const json_t *cfg = json_object_get(obj, "config");
    bool is_fn = strcmp(class_name, "function") == 0 && json_is_string(cfg);
    const char *name = is_fn ? json_string_value(cfg) : class_name;
    if (strcmp(class_name, "__typespec__") == 0 && str_of(obj, "spec_name"))
        name = str_of(obj, "spec_name");
    const char *kind = is_fn ? "function" : "class";
    if (module && !keras_module(module)) {
        const char *why = NULL;
        bool builtin_mod = module_in(module, "builtins") || module_in(module, "__builtin__");
        if (builtin_mod && is_fn && !python_builtin(name))
            return; /* Keras <= 3.6 names its own functions this way ("relu") */
        if (strcmp(class_name, "__typespec__") == 0 && module_in(module, "tensorflow") &&
            ends_with(name, "Spec"))
            return; /* tf.TensorSpec and friends, as Keras 3 writes input specs */
        why = dangerous_module_reason(module);
        if (!why) {
            pickle_class pc = pickle_policy_classify(module, name);
            if (policy_adjust_global(w->ctx->policy, module, name, &pc))
                return; /* the user's own, trusted module */
            if (pc.verdict == PICKLE_DANGEROUS)
                why = pc.reason ? pc.reason : "is on the deny list";
        }
        json_t *d =
            json_pack("{s:s, s:s, s:s}", "module", module, "class_name", class_name, "name", name);
        if (d && registered)
            json_object_set_new(d, "registered_name", json_string(registered));
        if (d)
            json_object_set_new(d, "cve", json_string("CVE-2025-1550"));
        if (why)
            report(w, R_DANGEROUS, d,
                   "The Keras config at %s names the %s '%s' from module '%s', which %s. "
                   "Keras before 3.9 imports the module a config names and resolves the object "
                   "from it (CVE-2025-1550); loading this model calls it.",
                   path_text(w), kind, name, module, why);
        else
            report(w, R_CUSTOM, d,
                   "The Keras config at %s names the %s '%s' from module '%s', outside Keras%s%s"
                   "%s. Loading it imports that module (Keras before 3.9 imports any module a "
                   "config names, CVE-2025-1550) or needs its code installed and trusted.",
                   path_text(w), kind, name, module, registered ? " (registered name '" : "",
                   registered ? registered : "", registered ? "')" : "");
        return;
    }
    const char *custom = NULL;
    if (registered && strchr(registered, '>') && !keras_package(registered))
        custom = registered;
    else if (strchr(class_name, '>') && !keras_package(class_name))
        custom = class_name;
    if (custom)
        report(w, R_CUSTOM,
               json_pack("{s:s, s:s?, s:s}", "class_name", class_name, "module", module,
                         "registered_name", custom),
               "The Keras config at %s uses the custom object '%s' (class '%s'), registered by "
               "a package outside Keras: loading the model runs that package's code, which "
               "this file does not contain and the scanner cannot vouch for.",
               path_text(w), custom, class_name);
}

static void check_object(kwalk *w, const json_t *obj)
{
    const char *class_name = str_of(obj, "class_name");
    if (!class_name)
        return;
    if (strcmp(class_name, "__lambda__") == 0) {
        if (!handled(w, obj))
            check_bare_lambda(w, obj);
        return;
    }
    if (strcmp(class_name, "Lambda") == 0)
        check_lambda_layer(w, obj);
    else if (strcmp(class_name, "TorchModuleWrapper") == 0)
        check_torch_wrapper(w, obj);
    else if (strcmp(class_name, "TFSMLayer") == 0)
        check_tfsm_layer(w, obj);
    else if (strcmp(class_name, "TFOpLambda") == 0 || strcmp(class_name, "SlicingOpLambda") == 0)
        check_tf_op_lambda(w, obj, class_name);
    check_origin(w, obj, class_name);
}

static void check_text(kwalk *w, const char *s, bool is_key)
{
    if (strstr(s, "enable_unsafe_deserialization"))
        report(w, R_UNSAFE,
               json_pack("{s:s, s:s}", is_key ? "key" : "value", s, "cve", "CVE-2025-9906"),
               "The Keras config at %s names enable_unsafe_deserialization (%s '%.120s'): a "
               "config that calls keras.config.enable_unsafe_deserialization switches off "
               "Keras's safe mode while the model loads, so the lambdas and other unsafe "
               "objects after it are deserialized and run (CVE-2025-9906).",
               path_text(w), is_key ? "key" : "value", s);
    if (!is_key &&
        (strcmp(s, "get_file") == 0 || ends_with(s, ".get_file") || ends_with(s, ">get_file")))
        report(w, R_GET_FILE, json_pack("{s:s, s:s}", "value", s, "cve", "CVE-2025-8747"),
               "The Keras config at %s references keras.utils.get_file ('%s'): called while the "
               "model loads, it downloads a file from a URL the config chooses and writes it "
               "where the config says, even in safe mode (CVE-2025-8747).",
               path_text(w), s);
}

static void walk(kwalk *w, const json_t *v, unsigned depth)
{
    if (w->stopped || w->nomem)
        return;
    if (depth > MS_DEFAULT_KERAS_CONFIG_MAX_DEPTH) {
        ms_report_add(w->ctx->report, "SCAN-LIMIT", w->location,
                      json_pack("{s:s, s:I, s:s}", "limit", "Keras config nesting", "max",
                                (json_int_t)MS_DEFAULT_KERAS_CONFIG_MAX_DEPTH, "path",
                                path_text(w)),
                      "The Keras configuration nests deeper than %u levels at %s; what lies "
                      "below was not analysed.",
                      (unsigned)MS_DEFAULT_KERAS_CONFIG_MAX_DEPTH, path_text(w));
        w->stopped = true;
        return;
    }
    if ((++w->nodes & 4095) == 0 && !ms_budget_time_left(w->ctx)) {
        w->stopped = true;
        return;
    }
    if (json_is_object(v)) {
        check_object(w, v);
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            size_t old = path_push_key(w, key);
            check_text(w, key, true);
            walk(w, val, depth + 1);
            path_pop(w, old);
            if (w->stopped || w->nomem)
                break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        json_array_foreach(v, i, val)
        {
            size_t old = path_push_index(w, i);
            walk(w, val, depth + 1);
            path_pop(w, old);
            if (w->stopped || w->nomem)
                break;
        }
    } else if (json_is_string(v)) {
        check_text(w, json_string_value(v), false);
    }
}

/* Python's json accepts NaN, Infinity and -Infinity (json.dumps writes them
 * for non-finite floats); jansson does not. Returns a copy with each replaced
 * by a number of the same length, or NULL (with *changed false) when the text
 * has none outside strings. */
static char *replace_non_finite(const char *s, size_t n, bool *changed, bool *nomem)
{
    char *copy = NULL;
    bool in_str = false;
    *changed = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
            continue;
        }
        size_t m = 0;
        if (c == 'N' && n - i >= 3 && memcmp(s + i, "NaN", 3) == 0)
            m = 3;
        else if (c == 'I' && n - i >= 8 && memcmp(s + i, "Infinity", 8) == 0)
            m = 8;
        if (!m)
            continue;
        if (!copy) {
            copy = malloc(n);
            if (!copy) {
                *nomem = true;
                return NULL;
            }
            memcpy(copy, s, n);
        }
        memcpy(copy + i, "0.0     ", m);
        *changed = true;
        i += m - 1;
    }
    return copy;
}

ms_status keras_config_scan_ex(ms_scan_ctx *ctx, const char *location, const json_t *extra,
                               const char *json, size_t len)
{
    if (len > MS_DEFAULT_KERAS_CONFIG_MAX_BYTES) {
        json_t *d =
            json_pack("{s:s, s:I, s:I}", "limit", "Keras config bytes", "size", (json_int_t)len,
                      "max", (json_int_t)MS_DEFAULT_KERAS_CONFIG_MAX_BYTES);
        if (d && extra)
            json_object_update_missing(d, (json_t *)extra);
        ms_report_add(ctx->report, "SCAN-LIMIT", location, d,
                      "The Keras configuration is %zu bytes, above the %llu-byte limit; it was "
                      "not analysed.",
                      len, (unsigned long long)MS_DEFAULT_KERAS_CONFIG_MAX_BYTES);
        return MS_OK;
    }
    bool changed = false, nomem = false;
    char *fixed = replace_non_finite(json, len, &changed, &nomem);
    if (nomem)
        return MS_NOMEM;
    json_error_t err;
    json_t *root = json_loadb(changed ? fixed : json, len,
                              JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);
    free(fixed);
    if (!root) {
        json_t *d =
            json_pack("{s:s, s:I, s:I, s:I}", "error", err.text, "line", (json_int_t)err.line,
                      "column", (json_int_t)err.column, "position", (json_int_t)err.position);
        if (d && extra)
            json_object_update_missing(d, (json_t *)extra);
        ms_report_add(ctx->report, "KERAS-CONFIG-MALFORMED", location, d,
                      "The Keras configuration is not valid JSON (%s at line %d, column %d), so "
                      "it could not be analysed; what Keras would rebuild from it is unknown.",
                      err.text, err.line, err.column);
        return MS_OK;
    }
    kwalk *w = calloc(1, sizeof(*w));
    if (!w) {
        json_decref(root);
        return MS_NOMEM;
    }
    w->ctx = ctx;
    w->location = location;
    w->extra = extra;
    walk(w, root, 0);
    w->pathlen = 0;
    w->path[0] = '\0';
    for (int r = 0; r < R_COUNT; r++) {
        if (!w->omitted[r])
            continue;
        json_t *d = json_pack("{s:I}", "further_occurrences", (json_int_t)w->omitted[r]);
        if (d && extra)
            json_object_update_missing(d, (json_t *)extra);
        ms_report_add(ctx->report, rule_ids[r], location, d,
                      "%u further occurrence%s of %s in this Keras configuration %s not listed "
                      "one by one (the first %d are).",
                      w->omitted[r], w->omitted[r] == 1 ? "" : "s", rule_ids[r],
                      w->omitted[r] == 1 ? "is" : "are", MAX_PER_RULE);
    }
    ms_status st = w->nomem ? MS_NOMEM : MS_OK;
    free(w->handled);
    free(w);
    json_decref(root);
    return st;
}

ms_status keras_config_scan(ms_scan_ctx *ctx, const char *location, const char *json, size_t len)
{
    return keras_config_scan_ex(ctx, location, NULL, json, len);
}

ms_status keras_v3_scan_archive_config(ms_scan_ctx *ctx, const char *member, const uint8_t *data,
                                       size_t len)
{
    char *loc = ms_strdup_printf("%s!%s", ctx->location, member);
    json_t *extra = json_pack("{s:s}", "attribute", member);
    if (!loc || !extra) {
        free(loc);
        json_decref(extra);
        return MS_NOMEM;
    }
    ms_status st = keras_config_scan_ex(ctx, loc, extra, (const char *)data, len);
    json_decref(extra);
    free(loc);
    return st;
}
