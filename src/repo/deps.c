/*
 * deps.c - package versions named by a model repository, checked against
 * OSV advisories.
 *
 * What is read (every file as text, nothing run, nothing imported):
 *
 *   config.json / *_config.json / model_index.json / metadata.json
 *     { "transformers_version": "4.30.0",            <- saved by this version
 *       "_diffusers_version": "0.21.4",
 *       "__version__": {"sentence_transformers": "2.2.2", "pytorch": "2.0.1+cu117"},
 *       "framework": "pytorch", "framework_version": "2.1",
 *       "text_config": { "transformers_version": ... } }  <- nested: followed
 *
 *   requirements*.txt (pip's requirement-file format, pip.pypa.io
 *   "Requirements File Format", PEP 508 lines):
 *     # comment                       torch==2.0.1 --hash=sha256:...
 *     -r base.txt     (noted)         transformers[torch] >= 4.30, < 5 ; python_version >= "3.8"
 *     -e git+https://...#egg=x (URL)  pkg @ https://host/pkg.whl   (URL)
 *     a \                             (backslash joins lines)
 *       ==1.0
 *
 *   pyproject.toml  [project] dependencies = ["...", ...]
 *                   [project.optional-dependencies] x = [...]
 *                   [build-system] requires = [...]
 *                   [tool.poetry.dependencies] name = "^1.2" | {version = "..."}
 *   setup.cfg       [options] install_requires = <one per indented line>
 *   setup.py        install_requires=[...string literals...] (or a list
 *                   variable assigned once in the file); never executed
 *   README.md       ---\nlibrary_name: transformers\n---  (front matter)
 *
 * Why by hand: these are small text formats of which only a few keys
 * matter; a TOML or Python parser would add dependencies (and, for
 * setup.py, the temptation to run it) for no gain. Each reader is bounded
 * by the caps in deps.h and turns what it cannot read into a
 * DEPENDENCY-UNCHECKED finding rather than dropping it.
 */
#define _GNU_SOURCE
#include "deps.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/strbuf.h"

/* ---- the list ---- */

void dep_list_init(dep_list *l)
{
    memset(l, 0, sizeof(*l));
}

static void entry_free(dep_entry *e)
{
    free(e->name);
    free(e->spec);
    free(e->source);
    free(e->where);
    free(e->marker);
    free(e->note);
}

void dep_list_free(dep_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        entry_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static char *dup_n(const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (d)
        ms_sanitize_text(d);
    return d;
}

/* Appends a copy of `e` (its strings given as spans) and takes nothing. */
typedef struct entry_spec {
    dep_kind kind;
    const char *name;
    size_t name_len;
    const char *spec;
    size_t spec_len;
    const char *marker;
    size_t marker_len;
    const char *note;
    const pep440_version *version;
    bool exclusive;
} entry_spec;

static ms_status list_add(dep_list *l, const entry_spec *es, const char *location,
                          const char *where, unsigned line)
{
    if (l->n >= DEPS_MAX_ENTRIES) {
        l->truncated = true;
        return MS_OK;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        dep_entry *ni = realloc(l->items, cap * sizeof(*ni));
        if (!ni) {
            l->nomem = true;
            return MS_NOMEM;
        }
        l->items = ni;
        l->cap = cap;
    }
    dep_entry *e = &l->items[l->n];
    memset(e, 0, sizeof(*e));
    e->kind = es->kind;
    e->line = line;
    e->lower_exclusive = es->exclusive;
    if (es->version)
        e->version = *es->version;
    bool ok = true;
    if (es->name && es->name_len) {
        e->name = dup_n(es->name, es->name_len);
        ok = ok && e->name;
        if (!pep503_normalize(es->name, es->name_len, e->normalized, sizeof(e->normalized)))
            e->normalized[0] = '\0';
    }
    if (es->spec) {
        e->spec = dup_n(es->spec, es->spec_len);
        ok = ok && e->spec;
    }
    if (es->marker && es->marker_len) {
        e->marker = dup_n(es->marker, es->marker_len);
        ok = ok && e->marker;
    }
    if (es->note) {
        e->note = strdup(es->note);
        ok = ok && e->note;
    }
    e->source = strdup(location ? location : "");
    e->where = strdup(where ? where : "");
    ok = ok && e->source && e->where;
    if (ok) { /* file names are bytes: keep the report valid UTF-8 */
        ms_sanitize_text(e->source);
        ms_sanitize_text(e->where);
    }
    if (!ok) {
        entry_free(e);
        l->nomem = true;
        return MS_NOMEM;
    }
    l->n++;
    return MS_OK;
}

/* ---- small text helpers ---- */

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_space((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static const char *find_span(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (k == 0 || k > n)
        return NULL;
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return s + i;
    return NULL;
}

static bool span_eq(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

static bool span_starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

/* ---- PEP 508 requirements ---- */

/* "name[extras] specifiers ; marker" or "name[extras] @ url ; marker". */
ms_status deps_add_requirement(dep_list *out, const char *text, size_t len, const char *location,
                               const char *where, unsigned line)
{
    trim(&text, &len);
    if (len == 0)
        return MS_OK;
    entry_spec es;
    memset(&es, 0, sizeof(es));
    if (len > DEPS_MAX_LINE) {
        es.kind = DEP_INVALID;
        es.spec = text;
        es.spec_len = 80;
        es.note = "the declaration is too long to be a requirement";
        return list_add(out, &es, location, where, line);
    }
    size_t i = 0;
    /* name: letters and digits, with '.', '-', '_' inside */
    while (i < len && (is_alnum((unsigned char)text[i]) ||
                       (i > 0 && (text[i] == '.' || text[i] == '-' || text[i] == '_'))))
        i++;
    while (i > 0 && !is_alnum((unsigned char)text[i - 1]))
        i--;
    if (i == 0) {
        es.kind = DEP_INVALID;
        es.spec = text;
        es.spec_len = len;
        es.note = "not a requirement (no package name)";
        return list_add(out, &es, location, where, line);
    }
    es.name = text;
    es.name_len = i;
    while (i < len && is_space((unsigned char)text[i]))
        i++;
    if (i < len && text[i] == '[') {
        const char *close = memchr(text + i, ']', len - i);
        if (!close) {
            es.kind = DEP_INVALID;
            es.spec = text;
            es.spec_len = len;
            es.note = "unclosed extras bracket";
            return list_add(out, &es, location, where, line);
        }
        i = (size_t)(close - text) + 1;
        while (i < len && is_space((unsigned char)text[i]))
            i++;
    }
    const char *rest = text + i;
    size_t rest_len = len - i;
    if (rest_len && rest[0] == '@') {
        /* a URL requirement; its marker must follow whitespace and ';' */
        rest++;
        rest_len--;
        const char *semi = find_span(rest, rest_len, " ;");
        size_t url_len = semi ? (size_t)(semi - rest) : rest_len;
        const char *url = rest;
        trim(&url, &url_len);
        if (semi) {
            es.marker = semi + 2;
            es.marker_len = (size_t)(rest + rest_len - es.marker);
            trim(&es.marker, &es.marker_len);
        }
        es.kind = DEP_URL;
        es.spec = url;
        es.spec_len = url_len;
        es.note = "installed from a URL: no version to check against advisories, and the "
                  "content at the URL can change";
        return list_add(out, &es, location, where, line);
    }
    const char *semi = memchr(rest, ';', rest_len);
    size_t spec_len = semi ? (size_t)(semi - rest) : rest_len;
    if (semi) {
        es.marker = semi + 1;
        es.marker_len = (size_t)(rest + rest_len - es.marker);
        trim(&es.marker, &es.marker_len);
    }
    const char *spec = rest;
    trim(&spec, &spec_len);
    if (spec_len >= 2 && spec[0] == '(' && spec[spec_len - 1] == ')') {
        spec++;
        spec_len -= 2;
        trim(&spec, &spec_len);
    }
    es.spec = spec;
    es.spec_len = spec_len;
    pep440_specifier_set set;
    if (!pep440_specifier_set_parse(spec, spec_len, &set)) {
        es.kind = DEP_INVALID;
        es.note = "the version specifier is not valid PEP 440, so it cannot be compared with "
                  "advisories (pip rejects it too)";
        return list_add(out, &es, location, where, line);
    }
    pep440_version v;
    bool exclusive = false;
    /* an exact pin is the version; otherwise the lowest the set allows */
    for (size_t k = 0; k < set.n; k++) {
        const pep440_specifier *s = &set.items[k];
        if ((s->op == PEP440_OP_EQ && !s->wildcard) ||
            (s->op == PEP440_OP_ARBITRARY && s->version_valid)) {
            es.kind = DEP_VERSION;
            es.version = &s->version;
            return list_add(out, &es, location, where, line);
        }
    }
    if (!pep440_specifier_set_lowest(&set, &v, &exclusive)) {
        es.kind = DEP_UNPINNED;
        return list_add(out, &es, location, where, line);
    }
    es.kind = DEP_RANGE;
    es.version = &v;
    es.exclusive = exclusive;
    return list_add(out, &es, location, where, line);
}

/* ---- requirements*.txt ---- */

/* Length of the line without a trailing comment: '#' at the start or after
 * whitespace (pip's rule; '#' inside a URL fragment is kept). */
static size_t strip_comment(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '#' && (i == 0 || is_space((unsigned char)s[i - 1])))
            return i;
    return n;
}

/* Cuts per-requirement options (" --hash=...", " --config-settings ...")
 * outside quotes. */
static size_t strip_options(const char *s, size_t n)
{
    char quote = 0;
    for (size_t i = 0; i < n; i++) {
        if (quote) {
            if (s[i] == quote)
                quote = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            quote = s[i];
        } else if (i > 0 && is_space((unsigned char)s[i - 1]) && s[i] == '-' && i + 1 < n &&
                   s[i + 1] == '-') {
            return i;
        }
    }
    return n;
}

/* The value of an option written "-r x", "-rx", "--requirement x" or
 * "--requirement=x"; NULL when `s` is not that option. */
static const char *option_value(const char *s, size_t n, const char *shortopt,
                                const char *longopt, size_t *vlen)
{
    const char *v = NULL;
    size_t ls = strlen(longopt), ss = strlen(shortopt);
    if (n >= ls && memcmp(s, longopt, ls) == 0 &&
        (n == ls || s[ls] == '=' || is_space((unsigned char)s[ls])))
        v = s + ls;
    else if (n >= ss && memcmp(s, shortopt, ss) == 0) /* "-r x" and "-rx" */
        v = s + ss;
    if (!v)
        return NULL;
    size_t k = (size_t)(s + n - v);
    if (k && *v == '=') {
        v++;
        k--;
    }
    trim(&v, &k);
    *vlen = k;
    return v;
}

/* "#egg=name" in a URL: the project name pip records for it. */
static bool egg_name(const char *url, size_t n, const char **name, size_t *nlen)
{
    const char *egg = find_span(url, n, "egg=");
    if (!egg)
        return false;
    const char *e = egg + 4;
    size_t k = 0;
    while (e + k < url + n && (is_alnum((unsigned char)e[k]) || e[k] == '-' || e[k] == '_' ||
                               e[k] == '.'))
        k++;
    *name = e;
    *nlen = k;
    return k > 0;
}

static bool looks_like_url_or_path(const char *s, size_t n)
{
    if (find_span(s, n, "://") || span_starts(s, n, "git+") || span_starts(s, n, "hg+") ||
        span_starts(s, n, "svn+") || span_starts(s, n, "bzr+") || span_starts(s, n, "file:"))
        return true;
    if (n && (s[0] == '.' || s[0] == '/' || s[0] == '~'))
        return true;
    static const char *const exts[] = {".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"};
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t k = strlen(exts[i]);
        size_t end = n;
        const char *semi = memchr(s, ';', n);
        if (semi)
            end = (size_t)(semi - s);
        while (end && is_space((unsigned char)s[end - 1]))
            end--;
        if (end >= k && strncasecmp(s + end - k, exts[i], k) == 0)
            return true;
    }
    return false;
}

static ms_status add_url_line(dep_list *out, const char *url, size_t n, const char *location,
                              const char *where, unsigned line, const char *note)
{
    entry_spec es;
    memset(&es, 0, sizeof(es));
    es.kind = DEP_URL;
    es.spec = url;
    es.spec_len = n;
    es.note = note;
    egg_name(url, n, &es.name, &es.name_len);
    return list_add(out, &es, location, where, line);
}

static ms_status requirement_line(dep_list *out, const char *s, size_t n, const char *location,
                                  unsigned line)
{
    char where[32];
    snprintf(where, sizeof(where), "line %u", line);
    n = strip_comment(s, n);
    trim(&s, &n);
    if (n == 0)
        return MS_OK;
    size_t vlen = 0;
    const char *v;
    if (s[0] == '-') {
        entry_spec es;
        memset(&es, 0, sizeof(es));
        if ((v = option_value(s, n, "-r", "--requirement", &vlen)) != NULL ||
            (v = option_value(s, n, "-c", "--constraint", &vlen)) != NULL) {
            es.kind = DEP_INCLUDE;
            es.spec = v;
            es.spec_len = vlen;
            es.note = "a further requirements file is included; it was not followed";
            return list_add(out, &es, location, where, line);
        }
        if ((v = option_value(s, n, "-e", "--editable", &vlen)) != NULL)
            return add_url_line(out, v, vlen, location, where, line,
                                "an editable install from a path or repository: no version to "
                                "check against advisories");
        return MS_OK; /* index, find-links, binary, hash options: not a requirement */
    }
    n = strip_options(s, n);
    trim(&s, &n);
    /* "name @ url" (an '@' before any "://") is a PEP 508 requirement; a
     * bare URL or path is pip's own form */
    const char *at = memchr(s, '@', n), *scheme = find_span(s, n, "://");
    bool pep508_url = at && (!scheme || at < scheme) && at > s && !looks_like_url_or_path(s, (size_t)(at - s));
    if (!pep508_url && looks_like_url_or_path(s, n))
        return add_url_line(out, s, n, location, where, line,
                            "installed from a URL or local path: no version to check against "
                            "advisories, and the content can change");
    return deps_add_requirement(out, s, n, location, where, line);
}

ms_status deps_from_requirements(const char *text, size_t len, const char *location,
                                 dep_list *out)
{
    ms_strbuf joined;
    ms_strbuf_init(&joined, DEPS_MAX_LINE);
    unsigned lineno = 0, start_line = 0;
    size_t i = 0;
    ms_status s = MS_OK;
    while (i < len && s == MS_OK) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
        const char *l = text + i;
        i += n + (nl ? 1 : 0);
        lineno++;
        if (n && l[n - 1] == '\r')
            n--;
        if (joined.len == 0)
            start_line = lineno;
        /* a backslash at the end joins the next line (comments end it) */
        size_t content = strip_comment(l, n);
        bool cont = content == n && n > 0 && l[n - 1] == '\\';
        ms_strbuf_append(&joined, l, cont ? n - 1 : n);
        if (cont && i < len)
            continue;
        if (joined.nomem) {
            s = MS_NOMEM;
            break;
        }
        if (joined.truncated) {
            entry_spec es;
            memset(&es, 0, sizeof(es));
            es.kind = DEP_INVALID;
            es.spec = joined.data;
            es.spec_len = 80;
            es.note = "a line (with its continuations) longer than the reader's limit";
            char where[32];
            snprintf(where, sizeof(where), "line %u", start_line);
            s = list_add(out, &es, location, where, start_line);
        } else if (joined.data) {
            s = requirement_line(out, joined.data, joined.len, location, start_line);
        }
        ms_strbuf_free(&joined);
        ms_strbuf_init(&joined, DEPS_MAX_LINE);
    }
    ms_strbuf_free(&joined);
    return s;
}

/* ---- JSON configs ---- */

/* Libraries whose version a config records, by the key's stem. */
static const struct {
    const char *stem;
    const char *package;
} known_libraries[] = {
    {"transformers", "transformers"},
    {"diffusers", "diffusers"},
    {"keras", "keras"},
    {"tf_keras", "tf-keras"},
    {"tensorflow", "tensorflow"},
    {"tf", "tensorflow"},
    {"torch", "torch"},
    {"pytorch", "torch"},
    {"sentence_transformers", "sentence-transformers"},
    {"peft", "peft"},
    {"accelerate", "accelerate"},
    {"timm", "timm"},
    {"optimum", "optimum"},
    {"onnx", "onnx"},
    {"onnxruntime", "onnxruntime"},
    {"sklearn", "scikit-learn"},
    {"scikit_learn", "scikit-learn"},
    {"numpy", "numpy"},
    {"safetensors", "safetensors"},
    {"tokenizers", "tokenizers"},
    {"huggingface_hub", "huggingface-hub"},
    {"datasets", "datasets"},
    {"trl", "trl"},
    {"vllm", "vllm"},
    {"llama_cpp_python", "llama-cpp-python"},
    {"mlflow", "mlflow"},
    {"lightning", "lightning"},
    {"pytorch_lightning", "pytorch-lightning"},
    {"jax", "jax"},
    {"flax", "flax"},
    {"xgboost", "xgboost"},
    {"lightgbm", "lightgbm"},
    {"spacy", "spacy"},
    {"nltk", "nltk"},
    {"joblib", "joblib"},
    {"setfit", "setfit"},
    {"gguf", "gguf"},
    {"openvino", "openvino"},
    {"span_marker", "span-marker"},
};

/* The package a library stem names ("pytorch" -> "torch"), or NULL. The
 * stem is compared after PEP 503 normalisation, so "sentence-transformers"
 * and "Sentence_Transformers" both count. */
static const char *package_for_stem(const char *stem, size_t n)
{
    char norm[128];
    if (!pep503_normalize(stem, n, norm, sizeof(norm)))
        return NULL;
    for (size_t i = 0; i < sizeof(known_libraries) / sizeof(known_libraries[0]); i++) {
        char k[128];
        if (pep503_normalize(known_libraries[i].stem, strlen(known_libraries[i].stem), k,
                             sizeof(k)) &&
            strcmp(k, norm) == 0)
            return known_libraries[i].package;
    }
    return NULL;
}

static ms_status add_config_version(dep_list *out, const char *package, const json_t *value,
                                    const char *location, const char *where)
{
    const char *text = json_string_value(value);
    if (!text)
        return MS_OK; /* null or a number: no version recorded */
    entry_spec es;
    memset(&es, 0, sizeof(es));
    es.name = package;
    es.name_len = strlen(package);
    es.spec = text;
    es.spec_len = strlen(text);
    pep440_version v;
    if (pep440_parse(text, es.spec_len, &v)) {
        es.kind = DEP_VERSION;
        es.version = &v;
    } else {
        es.kind = DEP_INVALID;
        es.note = "the recorded version is not a PEP 440 version, so it cannot be compared with "
                  "advisories";
        if (es.spec_len > 80)
            es.spec_len = 80;
    }
    return list_add(out, &es, location, where, 0);
}

typedef struct json_walk {
    dep_list *out;
    const char *location;
    unsigned long nodes;
    char path[256]; /* dotted key path for `where` */
} json_walk;

#define DEPS_MAX_JSON_NODES 200000UL

static ms_status walk_json(json_walk *w, const json_t *node, unsigned depth)
{
    if (depth > DEPS_MAX_JSON_DEPTH || ++w->nodes > DEPS_MAX_JSON_NODES)
        return MS_OK;
    if (json_is_array(node)) {
        size_t i;
        const json_t *v;
        json_array_foreach(node, i, v)
        {
            ms_status s = walk_json(w, v, depth + 1);
            if (s != MS_OK)
                return s;
        }
        return MS_OK;
    }
    if (!json_is_object(node))
        return MS_OK;
    size_t plen = strlen(w->path);
    const char *key;
    const json_t *val;
    ms_status s = MS_OK;
    json_object_foreach((json_t *)node, key, val)
    {
        char where[320];
        snprintf(where, sizeof(where), "key %s%s%s", w->path, plen ? "." : "", key);
        size_t klen = strlen(key);
        if (strcmp(key, "__version__") == 0 && json_is_object(val)) {
            /* config_sentence_transformers.json: {"__version__": {"transformers": ...}} */
            const char *lib;
            const json_t *lv;
            json_object_foreach((json_t *)val, lib, lv)
            {
                const char *pkg = package_for_stem(lib, strlen(lib));
                if (!pkg)
                    pkg = lib; /* this map names packages by design */
                char w2[400];
                snprintf(w2, sizeof(w2), "%s.%s", where, lib);
                if ((s = add_config_version(w->out, pkg, lv, w->location, w2)) != MS_OK)
                    return s;
            }
            continue;
        }
        if ((strcmp(key, "framework_version") == 0 || strcmp(key, "library_version") == 0) &&
            json_is_string(val)) {
            /* the library is named by a sibling key */
            const char *sib = json_string_value(
                json_object_get(node, key[0] == 'f' ? "framework" : "library_name"));
            const char *pkg = sib ? package_for_stem(sib, strlen(sib)) : NULL;
            if (pkg && (s = add_config_version(w->out, pkg, val, w->location, where)) != MS_OK)
                return s;
            continue;
        }
        if (klen > 8 && strcmp(key + klen - 8, "_version") == 0 && json_is_string(val)) {
            const char *stem = key;
            size_t sn = klen - 8;
            while (sn && *stem == '_') { /* "_diffusers_version" */
                stem++;
                sn--;
            }
            const char *pkg = package_for_stem(stem, sn);
            if (pkg && (s = add_config_version(w->out, pkg, val, w->location, where)) != MS_OK)
                return s;
            continue;
        }
        if (json_is_object(val) || json_is_array(val)) {
            if (plen + klen + 2 < sizeof(w->path)) {
                if (plen)
                    w->path[plen] = '.';
                memcpy(w->path + plen + (plen ? 1 : 0), key, klen + 1);
            }
            s = walk_json(w, val, depth + 1);
            w->path[plen] = '\0';
            if (s != MS_OK)
                return s;
        }
    }
    return MS_OK;
}

ms_status deps_from_json(const json_t *doc, const char *location, dep_list *out)
{
    json_walk w;
    memset(&w, 0, sizeof(w));
    w.out = out;
    w.location = location;
    return walk_json(&w, doc, 0);
}

ms_status deps_from_json_text(const char *text, size_t len, const char *location, dep_list *out)
{
    /* "<stem>_version" : "<value>" pairs, read without a JSON parser */
    for (size_t i = 0; i + 10 < len; i++) {
        if (text[i] != '"')
            continue;
        size_t j = i + 1;
        while (j < len && j - i < 64 && text[j] != '"' && text[j] != '\\')
            j++;
        if (j >= len || text[j] != '"')
            continue;
        size_t klen = j - i - 1;
        const char *key = text + i + 1;
        size_t k = j + 1;
        while (k < len && is_space((unsigned char)text[k]))
            k++;
        if (klen <= 8 || k >= len || text[k] != ':' || memcmp(key + klen - 8, "_version", 8) != 0)
            continue;
        k++;
        while (k < len && is_space((unsigned char)text[k]))
            k++;
        if (k >= len || text[k] != '"')
            continue;
        size_t vs = k + 1, ve = vs;
        while (ve < len && ve - vs < PEP440_MAX_TEXT && text[ve] != '"' && text[ve] != '\\' &&
               text[ve] != '\n')
            ve++;
        if (ve >= len || text[ve] != '"')
            continue;
        const char *stem = key;
        size_t sn = klen - 8;
        while (sn && *stem == '_') {
            stem++;
            sn--;
        }
        const char *pkg = package_for_stem(stem, sn);
        if (!pkg)
            continue;
        char where[96];
        snprintf(where, sizeof(where), "key %.*s (found in the text)", (int)klen, key);
        json_t *val = json_stringn(text + vs, ve - vs);
        if (!val)
            return MS_NOMEM;
        ms_status s = add_config_version(out, pkg, val, location, where);
        json_decref(val);
        if (s != MS_OK)
            return s;
        i = ve;
    }
    return MS_OK;
}

/* ---- pyproject.toml ---- */

typedef struct toml_reader {
    const char *p;
    size_t n, i;
    unsigned line;
} toml_reader;

static void toml_skip_ws_comments(toml_reader *r, bool newlines)
{
    while (r->i < r->n) {
        char c = r->p[r->i];
        if (c == '#') {
            while (r->i < r->n && r->p[r->i] != '\n')
                r->i++;
        } else if (c == '\n' && newlines) {
            r->line++;
            r->i++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            r->i++;
        } else {
            break;
        }
    }
}

/* Reads a TOML string at the reader (basic, literal, or their multi-line
 * forms) into `buf`; escapes other than \" and \\ are kept as written (a
 * requirement has no use for them). False when it is not a string. */
static bool toml_string(toml_reader *r, ms_strbuf *buf)
{
    if (r->i >= r->n || (r->p[r->i] != '"' && r->p[r->i] != '\''))
        return false;
    char q = r->p[r->i];
    bool multi = r->n - r->i >= 3 && r->p[r->i + 1] == q && r->p[r->i + 2] == q;
    r->i += multi ? 3 : 1;
    while (r->i < r->n) {
        char c = r->p[r->i];
        if (c == '\n') {
            if (!multi)
                return false;
            r->line++;
        }
        if (c == q) {
            if (!multi) {
                r->i++;
                return true;
            }
            if (r->n - r->i >= 3 && r->p[r->i + 1] == q && r->p[r->i + 2] == q) {
                r->i += 3;
                return true;
            }
        }
        if (c == '\\' && q == '"' && r->i + 1 < r->n) {
            char e = r->p[r->i + 1];
            if (e == '"' || e == '\\') {
                ms_strbuf_append(buf, &e, 1);
                r->i += 2;
                continue;
            }
        }
        ms_strbuf_append(buf, &c, 1);
        r->i++;
    }
    return false;
}

/* Skips any TOML value we do not need (numbers, booleans, dates, nested
 * tables) up to the end of the line or the closing bracket of an array. */
static void toml_skip_value(toml_reader *r)
{
    int depth = 0;
    while (r->i < r->n) {
        char c = r->p[r->i];
        if (c == '"' || c == '\'') {
            ms_strbuf tmp;
            ms_strbuf_init(&tmp, 1);
            size_t at = r->i;
            if (!toml_string(r, &tmp) && r->i == at)
                r->i++; /* not a string after all: step over the quote */
            ms_strbuf_free(&tmp);
            continue;
        }
        if (c == '#') {
            while (r->i < r->n && r->p[r->i] != '\n')
                r->i++;
            continue;
        }
        if (c == '[' || c == '{')
            depth++;
        else if (c == ']' || c == '}')
            depth--;
        else if (c == '\n') {
            if (depth <= 0)
                return;
            r->line++;
        }
        r->i++;
        if (depth < 0)
            return;
    }
}

typedef ms_status (*toml_string_cb)(void *ctx, const char *s, size_t n, unsigned line);

/* An array of strings (any depth of nesting); calls `cb` for each string.
 * Stops at the matching ']'. */
static ms_status toml_array(toml_reader *r, toml_string_cb cb, void *ctx)
{
    if (r->i >= r->n || r->p[r->i] != '[')
        return MS_OK;
    r->i++;
    unsigned depth = 1;
    while (r->i < r->n && depth > 0) {
        toml_skip_ws_comments(r, true);
        if (r->i >= r->n)
            break;
        char c = r->p[r->i];
        if (c == '"' || c == '\'') {
            ms_strbuf sb;
            ms_strbuf_init(&sb, DEPS_MAX_LINE);
            unsigned line = r->line;
            bool ok = toml_string(r, &sb);
            ms_status s = MS_OK;
            if (sb.nomem)
                s = MS_NOMEM;
            else if (ok && sb.data)
                s = cb(ctx, sb.data, sb.len, line);
            ms_strbuf_free(&sb);
            if (s != MS_OK)
                return s;
            if (!ok)
                return MS_OK;
            continue;
        }
        if (c == '[') {
            if (++depth > 16)
                return MS_OK;
        } else if (c == ']') {
            depth--;
        } else if (c == '{') {
            toml_skip_value(r);
            continue;
        }
        r->i++;
    }
    return MS_OK;
}

typedef struct toml_req_ctx {
    dep_list *out;
    const char *location;
    const char *where;
} toml_req_ctx;

static ms_status toml_requirement(void *vctx, const char *s, size_t n, unsigned line)
{
    toml_req_ctx *c = vctx;
    char where[800];
    snprintf(where, sizeof(where), "%s, line %u", c->where, line);
    return deps_add_requirement(c->out, s, n, c->location, where, line);
}

/* A Poetry constraint ("^1.2", "~1.2", "1.2.3", ">=1,<2", "*") for `name`. */
static ms_status poetry_constraint(dep_list *out, const char *name, size_t nlen, const char *c,
                                   size_t clen, const char *location, const char *where,
                                   unsigned line)
{
    trim(&c, &clen);
    if (find_span(c, clen, "||")) {
        entry_spec es;
        memset(&es, 0, sizeof(es));
        es.kind = DEP_INVALID;
        es.name = name;
        es.name_len = nlen;
        es.spec = c;
        es.spec_len = clen;
        es.note = "a Poetry constraint with alternatives ('||') is not checked";
        return list_add(out, &es, location, where, line);
    }
    ms_strbuf req;
    ms_strbuf_init(&req, DEPS_MAX_LINE);
    ms_strbuf_append(&req, name, nlen);
    if (clen == 0 || (clen == 1 && c[0] == '*')) {
        /* any version: unpinned */
    } else if (c[0] == '^' || (c[0] == '~' && (clen < 2 || c[1] != '='))) {
        ms_strbuf_puts(&req, ">=");
        ms_strbuf_append(&req, c + 1, clen - 1);
    } else if ((c[0] >= '0' && c[0] <= '9') || c[0] == 'v') {
        ms_strbuf_puts(&req, "==");
        ms_strbuf_append(&req, c, clen);
    } else {
        ms_strbuf_append(&req, c, clen);
    }
    ms_status s = req.nomem ? MS_NOMEM
                            : deps_add_requirement(out, req.data ? req.data : "", req.len,
                                                   location, where, line);
    ms_strbuf_free(&req);
    return s;
}

/* Reads a bare or quoted key (dotted keys kept whole, quotes removed). */
static bool toml_key(toml_reader *r, char *key, size_t cap)
{
    size_t o = 0;
    while (r->i < r->n) {
        char c = r->p[r->i];
        if (c == '"' || c == '\'') {
            ms_strbuf sb;
            ms_strbuf_init(&sb, 256);
            bool ok = toml_string(r, &sb);
            if (ok && sb.data)
                for (size_t k = 0; k < sb.len && o + 1 < cap; k++)
                    key[o++] = sb.data[k];
            ms_strbuf_free(&sb);
            if (!ok)
                return false;
            continue;
        }
        if (is_alnum((unsigned char)c) || c == '-' || c == '_' || c == '.') {
            if (o + 1 < cap)
                key[o++] = c;
            r->i++;
            continue;
        }
        if (c == ' ' || c == '\t') {
            r->i++;
            continue;
        }
        break;
    }
    key[o] = '\0';
    return o > 0;
}

ms_status deps_from_pyproject(const char *text, size_t len, const char *location, dep_list *out)
{
    toml_reader r = {text, len, 0, 1};
    char table[256] = "";
    while (r.i < r.n) {
        toml_skip_ws_comments(&r, true);
        if (r.i >= r.n)
            break;
        char c = r.p[r.i];
        if (c == '[') {
            /* [table] or [[array.of.tables]] */
            bool arr = r.i + 1 < r.n && r.p[r.i + 1] == '[';
            r.i += arr ? 2 : 1;
            if (!toml_key(&r, table, sizeof(table)))
                table[0] = '\0';
            while (r.i < r.n && r.p[r.i] != '\n')
                r.i++;
            continue;
        }
        char key[256];
        unsigned line = r.line;
        if (!toml_key(&r, key, sizeof(key)) || r.i >= r.n || r.p[r.i] != '=') {
            while (r.i < r.n && r.p[r.i] != '\n')
                r.i++;
            continue;
        }
        r.i++;
        toml_skip_ws_comments(&r, false);
        char where[600];
        snprintf(where, sizeof(where), "[%s] %s", table, key);
        toml_req_ctx ctx = {out, location, where};
        ms_status s = MS_OK;
        bool poetry = strcmp(table, "tool.poetry.dependencies") == 0 ||
                      strcmp(table, "tool.poetry.dev-dependencies") == 0 ||
                      (strncmp(table, "tool.poetry.group.", 18) == 0 &&
                       strlen(table) > 13 &&
                       strcmp(table + strlen(table) - 13, ".dependencies") == 0);
        if ((strcmp(table, "project") == 0 && strcmp(key, "dependencies") == 0) ||
            (strcmp(table, "project") == 0 && strncmp(key, "optional-dependencies.", 22) == 0) ||
            strcmp(table, "project.optional-dependencies") == 0 ||
            (strcmp(table, "build-system") == 0 && strcmp(key, "requires") == 0)) {
            if (r.i < r.n && r.p[r.i] == '[') {
                s = toml_array(&r, toml_requirement, &ctx);
                continue;
            }
        } else if (poetry && strcmp(key, "python") != 0) {
            snprintf(where, sizeof(where), "[%s] %s, line %u", table, key, line);
            ms_strbuf val;
            ms_strbuf_init(&val, PEP440_MAX_TEXT);
            if (r.i < r.n && (r.p[r.i] == '"' || r.p[r.i] == '\'')) {
                if (toml_string(&r, &val) && val.data)
                    s = poetry_constraint(out, key, strlen(key), val.data, val.len, location,
                                          where, line);
            } else if (r.i < r.n && r.p[r.i] == '{') {
                /* inline table: { version = "^1.2", extras = [...] } or a git/path source */
                size_t start = r.i;
                toml_skip_value(&r);
                const char *body = text + start;
                size_t blen = r.i - start;
                const char *vk = find_span(body, blen, "version");
                bool url = find_span(body, blen, "git") || find_span(body, blen, "path") ||
                           find_span(body, blen, "url");
                if (vk) {
                    toml_reader vr = {body, blen, (size_t)(vk - body) + 7, line};
                    toml_skip_ws_comments(&vr, false);
                    if (vr.i < vr.n && vr.p[vr.i] == '=') {
                        vr.i++;
                        toml_skip_ws_comments(&vr, false);
                        if (toml_string(&vr, &val) && val.data)
                            s = poetry_constraint(out, key, strlen(key), val.data, val.len,
                                                  location, where, line);
                    }
                } else if (url) {
                    s = add_url_line(out, body, blen > 200 ? 200 : blen, location, where, line,
                                     "installed from a repository or path: no version to check "
                                     "against advisories");
                    if (s == MS_OK && out->n && !out->items[out->n - 1].name) {
                        dep_entry *e = &out->items[out->n - 1];
                        e->name = strdup(key);
                        pep503_normalize(key, strlen(key), e->normalized, sizeof(e->normalized));
                        if (!e->name)
                            s = MS_NOMEM;
                    }
                }
                ms_strbuf_free(&val);
                if (s != MS_OK)
                    return s;
                continue;
            }
            ms_strbuf_free(&val);
        }
        if (s != MS_OK)
            return s;
        toml_skip_value(&r);
    }
    return MS_OK;
}

/* ---- setup.cfg ---- */

static bool looks_like_marker(const char *s, size_t n)
{
    return find_span(s, n, "==") || find_span(s, n, "!=") || find_span(s, n, "<") ||
           find_span(s, n, ">") || find_span(s, n, " in ") || find_span(s, n, "~=");
}

ms_status deps_from_setup_cfg(const char *text, size_t len, const char *location, dep_list *out)
{
    char section[128] = "";
    char key[128] = "";
    bool in_list = false;
    unsigned lineno = 0;
    size_t i = 0;
    while (i < len) {
        const char *l = text + i;
        const char *nl = memchr(l, '\n', len - i);
        size_t n = nl ? (size_t)(nl - l) : len - i;
        i += n + (nl ? 1 : 0);
        lineno++;
        if (n && l[n - 1] == '\r')
            n--;
        bool indented = n && (l[0] == ' ' || l[0] == '\t');
        const char *s = l;
        size_t sn = n;
        trim(&s, &sn);
        if (sn == 0 || s[0] == '#' || s[0] == ';')
            continue;
        char where[300];
        snprintf(where, sizeof(where), "[%s] %s, line %u", section, key, lineno);
        if (indented && in_list) {
            ms_status st = deps_add_requirement(out, s, strip_comment(s, sn), location, where,
                                                lineno);
            if (st != MS_OK)
                return st;
            continue;
        }
        in_list = false;
        if (s[0] == '[') {
            const char *close = memchr(s, ']', sn);
            size_t k = close ? (size_t)(close - s - 1) : 0;
            if (k >= sizeof(section))
                k = sizeof(section) - 1;
            memcpy(section, s + 1, k);
            section[k] = '\0';
            continue;
        }
        const char *eq = memchr(s, '=', sn);
        const char *colon = memchr(s, ':', sn);
        if (colon && (!eq || colon < eq))
            eq = colon;
        if (!eq)
            continue;
        const char *k = s;
        size_t kn = (size_t)(eq - s);
        trim(&k, &kn);
        if (kn >= sizeof(key))
            kn = sizeof(key) - 1;
        memcpy(key, k, kn);
        key[kn] = '\0';
        bool wanted = (strcmp(section, "options") == 0 &&
                       (strcmp(key, "install_requires") == 0 || strcmp(key, "setup_requires") == 0 ||
                        strcmp(key, "tests_require") == 0)) ||
                      strcmp(section, "options.extras_require") == 0;
        if (!wanted)
            continue;
        in_list = true;
        const char *v = eq + 1;
        size_t vn = (size_t)(s + sn - v);
        vn = strip_comment(v, vn);
        trim(&v, &vn);
        if (vn == 0)
            continue;
        snprintf(where, sizeof(where), "[%s] %s, line %u", section, key, lineno);
        /* one line: a requirement, or requirements separated by ';' */
        const char *semi = memchr(v, ';', vn);
        if (semi && !looks_like_marker(semi + 1, (size_t)(v + vn - semi - 1))) {
            while (vn) {
                const char *sc = memchr(v, ';', vn);
                size_t part = sc ? (size_t)(sc - v) : vn;
                ms_status st = deps_add_requirement(out, v, part, location, where, lineno);
                if (st != MS_OK)
                    return st;
                v += part + (sc ? 1 : 0);
                vn -= part + (sc ? 1 : 0);
            }
        } else {
            ms_status st = deps_add_requirement(out, v, vn, location, where, lineno);
            if (st != MS_OK)
                return st;
        }
    }
    return MS_OK;
}

/* ---- setup.py (as text) ---- */

typedef struct py_token {
    enum { PY_END, PY_NAME, PY_STRING, PY_OP } kind;
    const char *start; /* NAME: the name; STRING: the body; OP: the character */
    size_t len;
    bool fstring; /* an f-string: its text is not a constant */
    unsigned line;
} py_token;

typedef struct py_lexer {
    const char *p;
    size_t n, i;
    unsigned line;
} py_lexer;

/* c is one of the characters of `set` (never true for NUL). */
static bool one_of(int c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static bool is_ident(int c)
{
    return is_alnum(c) || c == '_' || c >= 0x80;
}

static py_token py_next(py_lexer *lx)
{
    py_token t = {PY_END, NULL, 0, false, lx->line};
    while (lx->i < lx->n) {
        char c = lx->p[lx->i];
        if (c == '\n') {
            lx->line++;
            lx->i++;
        } else if (is_space((unsigned char)c) || c == '\\') {
            lx->i++;
        } else if (c == '#') {
            while (lx->i < lx->n && lx->p[lx->i] != '\n')
                lx->i++;
        } else {
            break;
        }
    }
    t.line = lx->line;
    if (lx->i >= lx->n)
        return t;
    /* string prefix: up to two of r, b, u, f (any case) */
    size_t j = lx->i;
    bool f = false;
    while (j < lx->n && j - lx->i < 2 && one_of(lx->p[j], "rRbBuUfF")) {
        if (lx->p[j] == 'f' || lx->p[j] == 'F')
            f = true;
        j++;
    }
    if (j < lx->n && (lx->p[j] == '"' || lx->p[j] == '\'')) {
        bool raw = false;
        for (size_t k = lx->i; k < j; k++)
            raw = raw || lx->p[k] == 'r' || lx->p[k] == 'R';
        char q = lx->p[j];
        bool triple = lx->n - j >= 3 && lx->p[j + 1] == q && lx->p[j + 2] == q;
        size_t body = j + (triple ? 3 : 1), k = body;
        while (k < lx->n) {
            char c = lx->p[k];
            if (c == '\\' && !raw && k + 1 < lx->n) {
                if (lx->p[k + 1] == '\n')
                    lx->line++;
                k += 2;
                continue;
            }
            if (c == '\n') {
                lx->line++;
                if (!triple)
                    break; /* unterminated: end the string at the line */
            }
            if (c == q && (!triple || (lx->n - k >= 3 && lx->p[k + 1] == q && lx->p[k + 2] == q)))
                break;
            k++;
        }
        t.kind = PY_STRING;
        t.start = lx->p + body;
        t.len = k - body;
        t.fstring = f;
        lx->i = k < lx->n ? k + (triple ? 3 : 1) : lx->n;
        if (lx->i > lx->n)
            lx->i = lx->n;
        return t;
    }
    if (is_ident((unsigned char)lx->p[lx->i]) &&
        !(lx->p[lx->i] >= '0' && lx->p[lx->i] <= '9')) {
        size_t k = lx->i;
        while (k < lx->n && is_ident((unsigned char)lx->p[k]))
            k++;
        t.kind = PY_NAME;
        t.start = lx->p + lx->i;
        t.len = k - lx->i;
        lx->i = k;
        return t;
    }
    t.kind = PY_OP;
    t.start = lx->p + lx->i;
    t.len = 1;
    /* "==" must not read as an assignment */
    if (lx->p[lx->i] == '=' && lx->i + 1 < lx->n && lx->p[lx->i + 1] == '=')
        t.len = 2;
    lx->i += t.len;
    return t;
}

static bool is_requires_keyword(const char *s, size_t n)
{
    return span_eq(s, n, "install_requires") || span_eq(s, n, "setup_requires") ||
           span_eq(s, n, "tests_require") || span_eq(s, n, "extras_require");
}

/* Collects the constant strings of the bracketed value starting at the
 * lexer (a list, tuple or dict of lists); dict keys are skipped. */
static ms_status py_collect(py_lexer *lx, dep_list *out, const char *location,
                            const char *keyword)
{
    py_token t = py_next(lx);
    if (t.kind != PY_OP || !one_of(t.start[0], "[({"))
        return MS_OK;
    unsigned depth = 1;
    py_token pending = {PY_END, NULL, 0, false, 0};
    while (depth > 0) {
        t = py_next(lx);
        if (t.kind == PY_END)
            break;
        if (t.kind == PY_OP && t.len == 1 && one_of(t.start[0], "[({")) {
            if (++depth > 32)
                break;
        } else if (t.kind == PY_OP && t.len == 1 && one_of(t.start[0], "])}")) {
            depth--;
        }
        /* a string followed by ':' is a dict key; flush the previous string
         * once we know what follows it */
        if (pending.kind == PY_STRING) {
            bool key = t.kind == PY_OP && t.len == 1 && t.start[0] == ':';
            if (!key && !pending.fstring) {
                char where[96];
                snprintf(where, sizeof(where), "%s, line %u", keyword, pending.line);
                ms_status s = deps_add_requirement(out, pending.start, pending.len, location,
                                                   where, pending.line);
                if (s != MS_OK)
                    return s;
            }
            pending.kind = PY_END;
        }
        if (t.kind == PY_STRING)
            pending = t;
    }
    return MS_OK;
}

/* Finds "NAME = [" in the text and collects that list (a requirements
 * variable passed as install_requires=NAME). */
static ms_status py_collect_variable(const char *text, size_t len, const char *name, size_t nlen,
                                     dep_list *out, const char *location, const char *keyword)
{
    py_lexer lx = {text, len, 0, 1};
    py_token prev = {PY_END, NULL, 0, false, 0};
    for (;;) {
        py_token t = py_next(&lx);
        if (t.kind == PY_END)
            return MS_OK;
        if (prev.kind == PY_NAME && prev.len == nlen && memcmp(prev.start, name, nlen) == 0 &&
            t.kind == PY_OP && t.len == 1 && t.start[0] == '=') {
            size_t save = lx.i;
            py_token v = py_next(&lx);
            if (v.kind == PY_OP && v.len == 1 && one_of(v.start[0], "[(")) {
                lx.i = save;
                return py_collect(&lx, out, location, keyword);
            }
        }
        prev = t;
    }
}

ms_status deps_from_setup_py(const char *text, size_t len, const char *location, dep_list *out)
{
    py_lexer lx = {text, len, 0, 1};
    py_token prev = {PY_END, NULL, 0, false, 0};
    for (;;) {
        py_token t = py_next(&lx);
        if (t.kind == PY_END)
            return MS_OK;
        /* install_requires=...  or  "install_requires": ... */
        bool kw = (prev.kind == PY_NAME || prev.kind == PY_STRING) &&
                  is_requires_keyword(prev.start, prev.len) && t.kind == PY_OP && t.len == 1 &&
                  (t.start[0] == '=' || (t.start[0] == ':' && prev.kind == PY_STRING));
        if (kw) {
            char keyword[32];
            snprintf(keyword, sizeof(keyword), "%.*s", (int)prev.len, prev.start);
            size_t save = lx.i;
            unsigned save_line = lx.line;
            py_token v = py_next(&lx);
            ms_status s = MS_OK;
            if (v.kind == PY_OP && v.len == 1 && one_of(v.start[0], "[({")) {
                lx.i = save;
                lx.line = save_line;
                s = py_collect(&lx, out, location, keyword);
            } else if (v.kind == PY_NAME) {
                s = py_collect_variable(text, len, v.start, v.len, out, location, keyword);
            }
            if (s != MS_OK)
                return s;
            prev.kind = PY_END;
            continue;
        }
        prev = t;
    }
}

/* ---- README front matter ---- */

ms_status deps_from_readme(const char *text, size_t len, const char *location, dep_list *out)
{
    if (len > DEPS_MAX_README_BYTES)
        len = DEPS_MAX_README_BYTES;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF) {
        text += 3;
        len -= 3;
    }
    if (len < 4 || memcmp(text, "---", 3) != 0 || (text[3] != '\n' && text[3] != '\r'))
        return MS_OK;
    size_t i = 0;
    unsigned lineno = 0;
    while (i < len) {
        const char *l = text + i;
        const char *nl = memchr(l, '\n', len - i);
        size_t n = nl ? (size_t)(nl - l) : len - i;
        i += n + (nl ? 1 : 0);
        lineno++;
        if (n && l[n - 1] == '\r')
            n--;
        if (lineno > 1 && (span_eq(l, n, "---") || span_eq(l, n, "...")))
            break;
        if (!span_starts(l, n, "library_name:"))
            continue;
        const char *v = l + 13;
        size_t vn = n - 13;
        vn = strip_comment(v, vn);
        trim(&v, &vn);
        if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
            v++;
            vn -= 2;
        }
        if (vn == 0)
            continue;
        entry_spec es;
        memset(&es, 0, sizeof(es));
        es.kind = DEP_UNPINNED;
        es.name = v;
        es.name_len = vn > 100 ? 100 : vn;
        es.note = "the model card names the library that loads the model, without a version";
        char where[48];
        snprintf(where, sizeof(where), "front matter library_name, line %u", lineno);
        return list_add(out, &es, location, where, lineno);
    }
    return MS_OK;
}

/* ---- the check ---- */

static int entry_order(const dep_entry *a, const dep_entry *b)
{
    int c = strcmp(a->normalized, b->normalized);
    if (c)
        return c;
    c = pep440_compare(&a->version, &b->version);
    if (c)
        return c;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return (int)a->lower_exclusive - (int)b->lower_exclusive;
}

typedef struct sort_item {
    const dep_entry *e;
    size_t index; /* order in the list: the walk order, kept for ties */
} sort_item;

static int sort_item_cmp(const void *x, const void *y)
{
    const sort_item *a = x, *b = y;
    int c = entry_order(a->e, b->e);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

static bool checkable(const dep_entry *e)
{
    return (e->kind == DEP_VERSION || e->kind == DEP_RANGE) && e->normalized[0];
}

static bool from_config(const dep_entry *e)
{
    return strncmp(e->where, "key ", 4) == 0;
}

static char *entry_location(const dep_entry *e)
{
    if (e->line)
        return ms_strdup_printf("%s:%u", e->source, e->line);
    return strdup(e->source);
}

static void put_source_phrase(ms_strbuf *sb, const dep_entry *e)
{
    ms_strbuf_printf(sb, "%s (%s", e->source, e->where);
    if (!from_config(e) && e->spec && e->name)
        ms_strbuf_printf(sb, ": %s%s%s", e->name, e->spec[0] && strchr("<>=!~", e->spec[0]) ? "" : " ",
                         e->spec);
    if (e->marker)
        ms_strbuf_printf(sb, "; only where %s", e->marker);
    ms_strbuf_puts(sb, ")");
}

typedef struct match {
    const osv_record *rec;
    osv_hit hit;
    size_t cluster;
} match;

static size_t find_root(size_t *parent, size_t i)
{
    while (parent[i] != i)
        i = parent[i] = parent[parent[i]];
    return i;
}

static bool json_array_has_string(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcasecmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

static int json_string_cmp(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sorts an array of strings in place (deterministic output). */
static json_t *sorted_strings(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return arr;
    json_t **items = malloc(n * sizeof(*items));
    if (!items)
        return arr;
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    qsort(items, n, sizeof(*items), json_string_cmp);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
    return arr;
}

/* One advisory (a cluster of records naming the same flaw) as JSON. */
static json_t *cluster_json(const match *m, size_t nm, size_t cluster, ms_severity *sev,
                            bool *has_sev)
{
    json_t *ids = json_array(), *aliases = json_array(), *cves = json_array();
    const match *primary = NULL;
    const match *best = NULL;
    const char *fixed = NULL;
    pep440_version fixed_v;
    bool any_builtin = false, any_loaded = false;
    for (size_t i = 0; i < nm; i++) {
        if (m[i].cluster != cluster)
            continue;
        const osv_record *r = m[i].rec;
        if (!primary)
            primary = &m[i];
        if (r->builtin)
            any_builtin = true;
        else
            any_loaded = true;
        if (!json_array_has_string(ids, r->id))
            json_array_append_new(ids, json_string(r->id));
        if (r->has_severity && (!best || !best->rec->has_severity || r->severity > best->rec->severity))
            best = &m[i];
        if (m[i].hit.fixed[0]) {
            pep440_version fv;
            if (pep440_parse_str(m[i].hit.fixed, &fv) &&
                (!fixed || pep440_compare(&fv, &fixed_v) < 0)) {
                fixed = m[i].hit.fixed;
                fixed_v = fv;
            } else if (!fixed) {
                fixed = m[i].hit.fixed;
            }
        }
    }
    for (size_t i = 0; i < nm; i++) {
        if (m[i].cluster != cluster)
            continue;
        const osv_record *r = m[i].rec;
        for (size_t k = 0; k < r->naliases; k++) {
            const char *al = r->aliases[k];
            if (json_array_has_string(ids, al) || json_array_has_string(aliases, al))
                continue;
            json_array_append_new(aliases, json_string(al));
        }
        if (strncasecmp(r->id, "CVE-", 4) == 0 && !json_array_has_string(cves, r->id))
            json_array_append_new(cves, json_string(r->id));
        for (size_t k = 0; k < r->naliases; k++)
            if (strncasecmp(r->aliases[k], "CVE-", 4) == 0 &&
                !json_array_has_string(cves, r->aliases[k]))
                json_array_append_new(cves, json_string(r->aliases[k]));
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(primary->rec->id));
    json_object_set_new(o, "ids", sorted_strings(ids));
    json_object_set_new(o, "aliases", sorted_strings(aliases));
    json_object_set_new(o, "cves", sorted_strings(cves));
    json_object_set_new(o, "affected", json_string(primary->hit.affected));
    json_object_set_new(o, "fixed", fixed ? json_string(fixed) : json_null());
    json_object_set_new(o, "summary", json_string(primary->rec->summary));
    if (primary->hit.approximate)
        json_object_set_new(o, "range_approximate", json_true());
    json_object_set_new(o, "source",
                        json_string(any_loaded && any_builtin ? "advisories and built-in"
                                    : any_loaded              ? "advisories"
                                                              : "built-in"));
    *has_sev = best != NULL;
    if (best) {
        *sev = best->rec->severity;
        json_object_set_new(o, "severity", json_string(ms_severity_name(best->rec->severity)));
        if (best->rec->score >= 0) {
            json_object_set_new(o, "cvss_score", json_real(best->rec->score));
            json_object_set_new(o, "cvss_vector", json_string(best->rec->vector));
            json_object_set_new(o, "severity_from", json_string(best->rec->score_kind));
        }
    } else {
        json_object_set_new(o, "severity", json_null());
    }
    return o;
}

static int advisory_json_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    return strcmp(json_string_value(json_object_get(x, "id")),
                  json_string_value(json_object_get(y, "id")));
}

/* Reports one package version (the entries g[0..ng) share it). */
static ms_status report_group(ms_scan_ctx *ctx, const sort_item *g, size_t ng, const osv_db *db)
{
    const dep_entry *e0 = g[0].e;
    match *m = NULL;
    size_t nm = 0;
    ms_status st = MS_OK;
    for (size_t i = 0; i < db->n; i++) {
        osv_hit hit;
        if (!osv_record_affects(&db->records[i], e0->normalized, &e0->version,
                                e0->kind == DEP_RANGE && e0->lower_exclusive, &hit))
            continue;
        match *nmv = realloc(m, (nm + 1) * sizeof(*m));
        if (!nmv) {
            free(m);
            return MS_NOMEM;
        }
        m = nmv;
        m[nm].rec = &db->records[i];
        m[nm].hit = hit;
        m[nm].cluster = nm;
        nm++;
    }
    if (nm == 0)
        return MS_OK;
    /* records naming the same flaw (shared id or alias) are one advisory */
    size_t *parent = malloc(nm * sizeof(*parent));
    if (!parent) {
        free(m);
        return MS_NOMEM;
    }
    for (size_t i = 0; i < nm; i++)
        parent[i] = i;
    for (size_t i = 0; i < nm; i++)
        for (size_t j = i + 1; j < nm; j++)
            if (osv_same_advisory(m[i].rec, m[j].rec))
                parent[find_root(parent, j)] = find_root(parent, i);
    for (size_t i = 0; i < nm; i++)
        m[i].cluster = find_root(parent, i);
    free(parent);

    json_t *advisories = json_array();
    ms_severity top = MS_SEV_MEDIUM;
    for (size_t i = 0; i < nm; i++) {
        if (m[i].cluster != i)
            continue;
        ms_severity sev = MS_SEV_INFORMATIONAL;
        bool has = false;
        json_t *a = cluster_json(m, nm, i, &sev, &has);
        if (has && sev > top)
            top = sev;
        json_array_append_new(advisories, a);
    }
    free(m);
    size_t na = json_array_size(advisories);
    /* by id, for a stable report */
    json_t **items = malloc(na * sizeof(*items));
    if (items) {
        for (size_t i = 0; i < na; i++)
            items[i] = json_incref(json_array_get(advisories, i));
        qsort(items, na, sizeof(*items), advisory_json_cmp);
        json_array_clear(advisories);
        for (size_t i = 0; i < na; i++)
            json_array_append_new(advisories, items[i]);
        free(items);
    }

    char version[PEP440_MAX_TEXT * 2];
    pep440_format(&e0->version, version, sizeof(version));
    char safe[PEP440_MAX_TEXT + 1];
    bool has_safe = osv_db_first_safe_version(db, e0->normalized, &e0->version, safe, sizeof(safe));

    ms_strbuf sb;
    ms_strbuf_init(&sb, 8000);
    bool config = false;
    for (size_t i = 0; i < ng; i++)
        config = config || from_config(g[i].e);
    if (e0->kind == DEP_RANGE)
        ms_strbuf_printf(&sb, "%s %s %s (the lowest version the pin allows) is affected by %zu "
                              "known advisor%s",
                         e0->normalized, e0->lower_exclusive ? "just above" : "at", version, na,
                         na == 1 ? "y" : "ies");
    else
        ms_strbuf_printf(&sb, "%s %s is affected by %zu known advisor%s", e0->normalized, version,
                         na, na == 1 ? "y" : "ies");
    ms_strbuf_puts(&sb, ". Named in ");
    for (size_t i = 0; i < ng && i < 5; i++) {
        if (i)
            ms_strbuf_puts(&sb, "; ");
        put_source_phrase(&sb, g[i].e);
    }
    if (ng > 5)
        ms_strbuf_printf(&sb, "; and %zu more places", ng - 5);
    ms_strbuf_puts(&sb, ". Advisories: ");
    for (size_t i = 0; i < na && i < DEPS_MAX_LISTED; i++) {
        const json_t *a = json_array_get(advisories, i);
        const json_t *cves = json_object_get(a, "cves");
        if (i)
            ms_strbuf_puts(&sb, "; ");
        ms_strbuf_puts(&sb, json_string_value(json_object_get(a, "id")));
        size_t k;
        const json_t *cv;
        json_array_foreach(cves, k, cv)
        {
            if (strcasecmp(json_string_value(cv), json_string_value(json_object_get(a, "id"))))
                ms_strbuf_printf(&sb, " %s", json_string_value(cv));
        }
        const char *sev = json_string_value(json_object_get(a, "severity"));
        const char *fixed = json_string_value(json_object_get(a, "fixed"));
        ms_strbuf_printf(&sb, " (%s; affected %s; %s%s): %s", sev ? sev : "severity not rated",
                         json_string_value(json_object_get(a, "affected")),
                         fixed ? "fixed in " : "no fixed version named", fixed ? fixed : "",
                         json_string_value(json_object_get(a, "summary")));
    }
    if (na > DEPS_MAX_LISTED)
        ms_strbuf_printf(&sb, "; and %zu more (all listed in details)", na - DEPS_MAX_LISTED);
    ms_strbuf_puts(&sb, ".");
    if (has_safe)
        ms_strbuf_printf(&sb, " The first release that none of the known advisories affects is "
                              "%s.",
                         safe);
    else
        ms_strbuf_puts(&sb, " No release named by the advisories is free of all of them.");
    if (config)
        ms_strbuf_puts(&sb, " Note: a version in a model's config file is the one that SAVED the "
                            "model, not the one that will load it; what matters is the version "
                            "installed where the model is loaded, and a config naming an "
                            "affected version suggests the model is meant for (and was tested "
                            "with) an affected release.");
    if (e0->kind == DEP_RANGE)
        ms_strbuf_printf(&sb, " The range pin was checked at %s the lowest version it allows; "
                              "pip installs the newest allowed release, but the pin does not "
                              "exclude the affected ones.",
                         e0->lower_exclusive ? "the versions just above" : "");

    json_t *sources = json_array();
    for (size_t i = 0; i < ng; i++) {
        const dep_entry *e = g[i].e;
        json_t *s = json_pack("{s:s, s:s}", "file", e->source, "where", e->where);
        if (e->line)
            json_object_set_new(s, "line", json_integer(e->line));
        if (e->spec)
            json_object_set_new(s, "declared", json_string(e->spec));
        if (e->marker)
            json_object_set_new(s, "marker", json_string(e->marker));
        json_array_append_new(sources, s);
    }
    ms_strbuf src;
    ms_strbuf_init(&src, 1024);
    put_source_phrase(&src, e0);
    json_t *details = json_object();
    json_object_set_new(details, "package", json_string(e0->normalized));
    json_object_set_new(details, "version", json_string(version));
    json_object_set_new(details, "version_kind",
                        json_string(e0->kind == DEP_VERSION ? "exact"
                                    : e0->lower_exclusive   ? "just above the lower bound of a range pin"
                                                            : "lowest version a range pin allows"));
    json_object_set_new(details, "source", json_string(src.data ? src.data : e0->source));
    json_object_set_new(details, "sources", sources);
    json_object_set_new(details, "saved_by_version", json_boolean(config));
    json_object_set_new(details, "advisories", advisories);
    json_object_set_new(details, "first_safe_version", has_safe ? json_string(safe) : json_null());
    ms_strbuf_free(&src);

    char *loc = entry_location(e0);
    if (!loc || sb.nomem) {
        free(loc);
        ms_strbuf_free(&sb);
        json_decref(details);
        return MS_NOMEM;
    }
    if (ms_report_add(ctx->report, "DEPENDENCY-VULNERABLE", loc, details, "%s",
                      sb.data ? sb.data : "")) {
        ms_finding *f = &ctx->report->findings[ctx->report->nfindings - 1];
        if (top > f->severity)
            f->severity = top;
    } else {
        st = MS_NOMEM;
    }
    free(loc);
    ms_strbuf_free(&sb);
    return st;
}

static ms_status report_unchecked(ms_scan_ctx *ctx, const dep_entry *e)
{
    char *loc = entry_location(e);
    if (!loc)
        return MS_NOMEM;
    const char *kind = e->kind == DEP_URL       ? "url"
                       : e->kind == DEP_INCLUDE ? "include"
                                                : "unparsed";
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "file", e->source, "where",
                          e->where, "reason", e->note ? e->note : "");
    if (e->name)
        json_object_set_new(d, "package", json_string(e->normalized[0] ? e->normalized : e->name));
    if (e->spec)
        json_object_set_new(d, "declared", json_string(e->spec));
    bool ok = ms_report_add(ctx->report, "DEPENDENCY-UNCHECKED", loc, d,
                            "%s (%s): %s%s%s%s: %s.", e->source, e->where,
                            e->name ? e->name : "", e->name && e->spec ? " " : "",
                            e->kind == DEP_INCLUDE ? "-r " : "", e->spec ? e->spec : "",
                            e->note ? e->note : "it cannot be checked against advisories");
    free(loc);
    return ok ? MS_OK : MS_NOMEM;
}

ms_status deps_check(ms_scan_ctx *ctx, const dep_list *deps, const osv_db *db)
{
    ms_status st = MS_OK;
    for (size_t i = 0; i < deps->n && st == MS_OK; i++) {
        const dep_entry *e = &deps->items[i];
        if (e->kind == DEP_INVALID || e->kind == DEP_URL ||
            (e->kind == DEP_INCLUDE && !e->covered))
            st = report_unchecked(ctx, e);
    }
    if (st != MS_OK || deps->n == 0)
        return st;
    sort_item *items = malloc(deps->n * sizeof(*items));
    if (!items)
        return MS_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < deps->n; i++)
        if (checkable(&deps->items[i])) {
            items[n].e = &deps->items[i];
            items[n].index = i;
            n++;
        }
    if (n > 1)
        qsort(items, n, sizeof(*items), sort_item_cmp);
    for (size_t i = 0; i < n && st == MS_OK;) {
        size_t j = i + 1;
        while (j < n && entry_order(items[i].e, items[j].e) == 0)
            j++;
        /* the group keeps walk order for its sources */
        st = report_group(ctx, items + i, j - i, db);
        i = j;
    }
    free(items);
    return st;
}

/* ---- the repository walk ---- */

typedef enum file_kind {
    FILE_NONE,
    FILE_CONFIG_JSON,
    FILE_REQUIREMENTS,
    FILE_PYPROJECT,
    FILE_SETUP_CFG,
    FILE_SETUP_PY,
    FILE_README,
} file_kind;

static bool ends_with_nocase(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Which reader a file name calls for (the base name; `parent` is the
 * name of the folder holding it, "" at the top). */
static file_kind classify(const char *name, const char *parent)
{
    if (ends_with_nocase(name, ".json")) {
        if (strcmp(name, "config.json") == 0 || ends_with_nocase(name, "_config.json") ||
            strcmp(name, "model_index.json") == 0 ||
            strcmp(name, "config_sentence_transformers.json") == 0 ||
            strcmp(name, "metadata.json") == 0)
            return FILE_CONFIG_JSON;
        return FILE_NONE;
    }
    if (ends_with_nocase(name, ".txt") &&
        (strcasestr(name, "requirements") || strncasecmp(name, "constraints", 11) == 0 ||
         strcasecmp(parent, "requirements") == 0))
        return FILE_REQUIREMENTS;
    if (strcmp(name, "pyproject.toml") == 0)
        return FILE_PYPROJECT;
    if (strcmp(name, "setup.cfg") == 0)
        return FILE_SETUP_CFG;
    if (strcmp(name, "setup.py") == 0)
        return FILE_SETUP_PY;
    if (strcasecmp(name, "readme.md") == 0)
        return FILE_README;
    return FILE_NONE;
}

typedef struct deps_walker {
    ms_report *report;
    const ms_limits *limits;
    const char *const *excludes; /* --exclude globs, matched on the paths walked */
    size_t nexcludes;
    char root[PATH_MAX];
    char contain[PATH_MAX]; /* where links may point: root, or a cache entry */
    dep_list deps;
    char **read_paths; /* files read, for -r coverage */
    size_t nread, read_cap;
    unsigned long entries;
    unsigned files_read;
    bool limit_reported;
    bool nomem;
} deps_walker;

static void note_read(deps_walker *w, const char *rel)
{
    if (w->nread == w->read_cap) {
        size_t cap = w->read_cap ? w->read_cap * 2 : 32;
        char **n = realloc(w->read_paths, cap * sizeof(*n));
        if (!n) {
            w->nomem = true;
            return;
        }
        w->read_paths = n;
        w->read_cap = cap;
    }
    if ((w->read_paths[w->nread] = strdup(rel)) != NULL)
        w->nread++;
    else
        w->nomem = true;
}

static void limit_once(deps_walker *w, const char *what)
{
    if (w->limit_reported)
        return;
    w->limit_reported = true;
    ms_report_add(w->report, "SCAN-LIMIT", "Model Repository",
                  json_pack("{s:s}", "limit", what),
                  "The search for dependency declarations stopped at the %s limit; files beyond "
                  "it were not checked for vulnerable package versions.",
                  what);
}

/* Reads a dependency file (at most the reader's cap) and extracts from it. */
static void read_dep_file(deps_walker *w, int fd, const char *rel, file_kind kind)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    if (w->files_read >= DEPS_MAX_FILES) {
        limit_once(w, "dependency files per scan");
        return;
    }
    uint64_t cap = kind == FILE_README ? DEPS_MAX_README_BYTES : DEPS_MAX_FILE_BYTES;
    if ((uint64_t)st.st_size > cap && kind != FILE_README) {
        ms_report_add(w->report, "SCAN-LIMIT", rel,
                      json_pack("{s:s, s:I, s:I}", "limit", "dependency file size", "size",
                                (json_int_t)st.st_size, "max", (json_int_t)cap),
                      "The file is %lld bytes, above the %llu-byte limit for dependency "
                      "declarations; the package versions it names were not checked against "
                      "advisories.",
                      (long long)st.st_size, (unsigned long long)cap);
        return;
    }
    size_t want = (uint64_t)st.st_size < cap ? (size_t)st.st_size : (size_t)cap;
    char *buf = malloc(want + 1);
    if (!buf) {
        w->nomem = true;
        return;
    }
    size_t len = 0;
    while (len < want) {
        ssize_t k = read(fd, buf + len, want - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    buf[len] = '\0';
    w->files_read++;
    note_read(w, rel);
    ms_status s = MS_OK;
    switch (kind) {
    case FILE_CONFIG_JSON: {
        json_error_t err;
        json_t *doc = json_loadb(buf, len, 0, &err);
        if (doc) {
            s = deps_from_json(doc, rel, &w->deps);
            json_decref(doc);
        } else {
            size_t before = w->deps.n;
            s = deps_from_json_text(buf, len, rel, &w->deps);
            if (s == MS_OK && w->deps.n > before) {
                /* the versions were found in the text; say the file is broken */
                ms_report_add(w->report, "DEPENDENCY-UNCHECKED", rel,
                              json_pack("{s:s, s:s, s:i}", "kind", "unparsed", "reason",
                                        err.text, "line", err.line),
                              "%s is not valid JSON (line %d: %s); the library versions in it "
                              "were read from its text and may be incomplete.",
                              rel, err.line, err.text);
            }
        }
        break;
    }
    case FILE_REQUIREMENTS:
        s = deps_from_requirements(buf, len, rel, &w->deps);
        break;
    case FILE_PYPROJECT:
        s = deps_from_pyproject(buf, len, rel, &w->deps);
        break;
    case FILE_SETUP_CFG:
        s = deps_from_setup_cfg(buf, len, rel, &w->deps);
        break;
    case FILE_SETUP_PY:
        s = deps_from_setup_py(buf, len, rel, &w->deps);
        break;
    case FILE_README:
        s = deps_from_readme(buf, len, rel, &w->deps);
        break;
    case FILE_NONE:
        break;
    }
    if (s == MS_NOMEM)
        w->nomem = true;
    free(buf);
}

static bool inside_root(const deps_walker *w, const char *real)
{
    size_t n = strlen(w->contain);
    if (strcmp(w->contain, "/") == 0)
        return true;
    return strncmp(real, w->contain, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(deps_walker *w, int dirfd, const char *relprefix, const char *parent,
                 unsigned depth)
{
    int dupfd = dup(dirfd);
    DIR *dir = dupfd >= 0 ? fdopendir(dupfd) : NULL;
    if (!dir) {
        if (dupfd >= 0)
            close(dupfd);
        return; /* the core walk reports unreadable folders */
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn) {
                w->nomem = true;
                break;
            }
            names = nn;
        }
        if ((names[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(dir);
    if (n > 1)
        qsort(names, n, sizeof(*names), str_cmp);
    for (size_t i = 0; i < n && !w->nomem; i++) {
        const char *name = names[i];
        if (++w->entries > w->limits->walk_max_files) {
            limit_once(w, "files per scan");
            break;
        }
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        char *rel = *relprefix ? ms_strdup_printf("%s/%s", relprefix, name) : strdup(name);
        if (!rel) {
            w->nomem = true;
            break;
        }
        if (ms_path_excluded(rel, w->excludes, w->nexcludes)) {
            free(rel);
            continue; /* the scan's walk reports what was excluded */
        }
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(name, ".git") != 0 && depth + 1 <= w->limits->walk_max_depth) {
                int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0) {
                    walk(w, fd, rel, name, depth + 1);
                    close(fd);
                }
            }
        } else {
            file_kind kind = classify(name, parent);
            if (kind != FILE_NONE && S_ISREG(st.st_mode)) {
                int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (fd >= 0) {
                    read_dep_file(w, fd, rel, kind);
                    close(fd);
                }
            } else if (kind != FILE_NONE && S_ISLNK(st.st_mode)) {
                /* followed only to a file inside the folder (a Hugging Face
                 * cache snapshot links to its blobs); escapes are the core
                 * walk's to report */
                char *full = ms_strdup_printf("%s/%s", w->root, rel);
                char real[PATH_MAX];
                if (full && realpath(full, real) && inside_root(w, real)) {
                    int fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                    if (fd >= 0) {
                        read_dep_file(w, fd, rel, kind);
                        close(fd);
                    }
                }
                free(full);
            }
        }
        free(rel);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* "a/b/../c.txt" -> "a/c.txt"; false when it climbs out of the folder. */
static bool normalize_rel(const char *dir, const char *target, char *out, size_t cap)
{
    char buf[PATH_MAX];
    if (target[0] == '/')
        return false;
    int k = *dir ? snprintf(buf, sizeof(buf), "%s/%s", dir, target)
                 : snprintf(buf, sizeof(buf), "%s", target);
    if (k < 0 || (size_t)k >= sizeof(buf))
        return false;
    size_t o = 0;
    out[0] = '\0';
    for (const char *seg = buf; *seg;) {
        size_t sl = strcspn(seg, "/");
        if (sl == 0 || (sl == 1 && seg[0] == '.')) {
            /* "//" or "." */
        } else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            if (o == 0)
                return false;
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            out[o] = '\0';
        } else {
            if (o + sl + 2 > cap)
                return false;
            if (o)
                out[o++] = '/';
            memcpy(out + o, seg, sl);
            o += sl;
            out[o] = '\0';
        }
        seg += sl;
        if (*seg == '/')
            seg++;
    }
    return o > 0;
}

/* An include (-r FILE) whose target was read by the walk anyway is covered. */
static void mark_covered(deps_walker *w)
{
    for (size_t i = 0; i < w->deps.n; i++) {
        dep_entry *e = &w->deps.items[i];
        if (e->kind != DEP_INCLUDE || !e->spec)
            continue;
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", e->source);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            dir[0] = '\0';
        char target[PATH_MAX];
        if (!normalize_rel(dir, e->spec, target, sizeof(target)))
            continue;
        for (size_t k = 0; k < w->nread; k++)
            if (strcmp(w->read_paths[k], target) == 0)
                e->covered = true;
    }
}

static void report_advisories_problem(ms_report *r, const char *path, ms_status load,
                                      const osv_db *db)
{
    const osv_load_stats *st = &db->stats;
    if (load == MS_IO) {
        ms_report_add(r, "ADVISORIES-UNREADABLE", "Model Repository",
                      json_pack("{s:s, s:s}", "advisories", path, "error",
                                errno ? strerror(errno) : "not a folder, .zip or .json file"),
                      "The advisory database '%s' given with --advisories could not be read as "
                      "a folder, .zip or .json of OSV records; dependencies were checked "
                      "against the small built-in advisory set only.",
                      path);
        return;
    }
    if (st->files == 0 && st->unreadable == 0) {
        ms_report_add(r, "ADVISORIES-UNREADABLE", "Model Repository",
                      json_pack("{s:s}", "advisories", path),
                      "The advisory database '%s' holds no OSV .json records; dependencies were "
                      "checked against the small built-in advisory set only.",
                      path);
        return;
    }
    if (st->unreadable == 0 && !st->limit_hit)
        return;
    json_t *names = json_array();
    ms_strbuf sb;
    ms_strbuf_init(&sb, 2048);
    for (size_t i = 0; i < OSV_MAX_ERROR_NAMES && st->error_names[i]; i++) {
        json_array_append_new(names, json_string(st->error_names[i]));
        ms_strbuf_printf(&sb, "%s%s", i ? "; " : "", st->error_names[i]);
    }
    ms_report_add(r, "ADVISORIES-UNREADABLE", "Model Repository",
                  json_pack("{s:s, s:I, s:I, s:o, s:b}", "advisories", path, "unreadable",
                            (json_int_t)st->unreadable, "read", (json_int_t)st->files, "examples",
                            names, "limit_hit", st->limit_hit),
                  "%lu of the %lu records in the advisory database '%s' could not be used%s%s%s; "
                  "advisories in them were not checked.",
                  st->unreadable, st->files + (st->files ? 0 : st->unreadable), path,
                  sb.data ? " (" : "", sb.data ? sb.data : "", sb.data ? ")" : "");
    if (st->limit_hit)
        ms_report_add(r, "ADVISORIES-UNREADABLE", "Model Repository",
                      json_pack("{s:s, s:s}", "advisories", path, "limit", "advisory database size"),
                      "Loading the advisory database '%s' stopped at a size limit (files, bytes "
                      "or folder depth); records beyond it were not checked.",
                      path);
    ms_strbuf_free(&sb);
}

/* ---- facts for bills of materials ---- */

/* A JSON string of at most `max` bytes of s, cut at a character boundary
 * (s is sanitised text: valid UTF-8). */
static json_t *capped_string(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(s, n);
}

static const char *const fact_kinds[] = {
    [DEP_VERSION] = "exact",   [DEP_RANGE] = "range", [DEP_UNPINNED] = "unpinned",
    [DEP_URL] = "url",         [DEP_INCLUDE] = NULL,  [DEP_INVALID] = "invalid",
};

ms_status deps_record_facts(ms_report *report, const dep_list *deps)
{
    json_t *arr = json_array();
    if (!arr)
        return MS_NOMEM;
    size_t named = 0;
    bool ok = true;
    for (size_t i = 0; i < deps->n && ok; i++) {
        const dep_entry *e = &deps->items[i];
        const char *kind = fact_kinds[e->kind];
        if (!kind || !e->normalized[0])
            continue; /* includes and nameless lines name no package */
        if (++named > DEPS_MAX_FACTS)
            continue;
        const char *spec = e->spec ? e->spec : "";
        char version[PEP440_MAX_TEXT * 2];
        if (e->kind == DEP_VERSION)
            pep440_format(&e->version, version, sizeof(version));
        json_t *o = json_object();
        bool built = o && json_object_set_new(o, "name", json_string(e->normalized)) == 0 &&
                     json_object_set_new(o, "version",
                                         capped_string(e->kind == DEP_VERSION ? version : spec,
                                                       DEPS_MAX_FACT_TEXT)) == 0 &&
                     (e->kind == DEP_VERSION ||
                      json_object_set_new(o, "specifier",
                                          capped_string(spec, DEPS_MAX_FACT_TEXT)) == 0) &&
                     json_object_set_new(o, "kind", json_string(kind)) == 0 &&
                     json_object_set_new(o, "source", capped_string(e->source, PATH_MAX)) == 0 &&
                     (!e->line ||
                      json_object_set_new(o, "line", json_integer((json_int_t)e->line)) == 0);
        if (!built)
            json_decref(o);
        ok = built && json_array_append_new(arr, o) == 0; /* append_new takes o either way */
    }
    if (!ok) {
        json_decref(arr);
        return MS_NOMEM;
    }
    json_decref(report->dependencies);
    report->dependencies = arr;
    if (named > DEPS_MAX_FACTS)
        ms_report_add(report, "SCAN-LIMIT", "Model Repository",
                      json_pack("{s:s, s:I, s:I}", "limit", "dependencies listed in a bill of "
                                "materials", "max", (json_int_t)DEPS_MAX_FACTS, "declarations",
                                (json_int_t)named),
                      "The repository has %zu package declarations; a bill of materials "
                      "(CycloneDX) lists the first %u. All were checked against advisories.",
                      named, DEPS_MAX_FACTS);
    return MS_OK;
}

ms_status repo_deps_scan(ms_report *report, const char *root, const char *contain,
                         const ms_limits *limits, const char *advisories_path,
                         const char *const *excludes, size_t nexcludes)
{
    if (!report || !root || !limits)
        return MS_INTERNAL;
    deps_walker *w = calloc(1, sizeof(*w));
    if (!w)
        return MS_NOMEM;
    w->report = report;
    w->limits = limits;
    w->excludes = excludes;
    w->nexcludes = nexcludes;
    dep_list_init(&w->deps);
    ms_status st = MS_OK;
    osv_db *db = NULL;
    const char **filter_names = NULL;
    struct stat sb;
    if (!realpath(root, w->root) || stat(w->root, &sb) != 0 ||
        !realpath(contain ? contain : root, w->contain)) {
        st = MS_IO;
        goto out;
    }
    if (S_ISDIR(sb.st_mode)) {
        int fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            st = MS_IO;
            goto out;
        }
        walk(w, fd, "", "", 0);
        close(fd);
    } else if (S_ISREG(sb.st_mode)) {
        /* one file scanned on its own: read it if it is a dependency file */
        const char *base = strrchr(w->root, '/');
        base = base ? base + 1 : w->root;
        file_kind kind = classify(base, "");
        if (kind != FILE_NONE) {
            int fd = open(w->root, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd >= 0) {
                read_dep_file(w, fd, base, kind);
                close(fd);
            }
        }
    } else {
        st = MS_IO;
        goto out;
    }
    if (w->nomem || w->deps.nomem) {
        st = MS_NOMEM;
        goto out;
    }
    if (w->deps.truncated)
        ms_report_add(report, "SCAN-LIMIT", "Model Repository",
                      json_pack("{s:s, s:i}", "limit", "dependency declarations",
                                "max", (int)DEPS_MAX_ENTRIES),
                      "More than %u dependency declarations; the rest were not checked against "
                      "advisories.",
                      DEPS_MAX_ENTRIES);
    mark_covered(w);
    st = deps_record_facts(report, &w->deps);
    if (st != MS_OK)
        goto out;

    /* only the advisories of packages the repository names are kept */
    filter_names = calloc(w->deps.n + 1, sizeof(*filter_names));
    db = osv_db_new();
    if (!filter_names || !db) {
        st = MS_NOMEM;
        goto out;
    }
    size_t nf = 0;
    for (size_t i = 0; i < w->deps.n; i++) {
        const dep_entry *e = &w->deps.items[i];
        if (!checkable(e))
            continue;
        bool seen = false;
        for (size_t k = 0; k < nf && !seen; k++)
            seen = strcmp(filter_names[k], e->normalized) == 0;
        if (!seen)
            filter_names[nf++] = e->normalized;
    }
    osv_filter filter = {filter_names, nf};
    if (advisories_path) {
        errno = 0;
        ms_status ls = osv_db_load_path(db, advisories_path, &filter);
        if (ls == MS_NOMEM) {
            st = MS_NOMEM;
            goto out;
        }
        report_advisories_problem(report, advisories_path, ls, db);
    }
    st = osv_db_add_builtin(db);
    if (st != MS_OK)
        goto out;
    ms_scan_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.report = report;
    ctx.limits = limits;
    ctx.location = "Model Repository";
    st = deps_check(&ctx, &w->deps, db);
out:
    free(filter_names);
    osv_db_free(db);
    dep_list_free(&w->deps);
    for (size_t i = 0; i < w->nread; i++)
        free(w->read_paths[i]);
    free(w->read_paths);
    free(w);
    return st;
}
