/*
 * remote_code.c - configuration that makes a loader import Python code.
 *
 *   config.json, tokenizer_config.json, preprocessor_config.json,
 *   processor_config.json, feature_extractor_config.json,
 *   image_processor_config.json, video_preprocessor_config.json, ...
 *   {
 *     "auto_map": {                              (also inside text_config ...)
 *       "AutoConfig": "configuration_x.XConfig",          -> configuration_x.py here
 *       "AutoTokenizer": ["tokenization_x.XTok", null],   [slow, fast]
 *       "AutoModel": "org/other--modeling_x.XModel"       -> another repository
 *     },
 *     "custom_pipelines": {"<task>": {"impl": "pipe_x.XPipeline", "pt": [...]}},
 *     "_attn_implementation_internal": "org/kernels",     Hub kernels (CVE-2026-4372)
 *     "trust_remote_code": true                           anywhere (model_kwargs ...)
 *   }
 *   model_index.json (diffusers):
 *     {"_class_name": ["pipeline_x", "XPipeline"],       -> pipeline_x.py
 *      "unet": ["my_unet", "MyUNet"]}                     -> unet/my_unet.py
 *   modules.json (sentence-transformers):
 *     [{"idx": 0, "path": "", "type": "custom_st.Module"}] -> custom_st.py
 *
 * References follow transformers' dynamic_module_utils
 * (https://github.com/huggingface/transformers/blob/main/src/transformers/
 * dynamic_module_utils.py, get_class_from_dynamic_module): a class reference
 * is "[repo_id--]module.path.ClassName"; the module file is module/path.py
 * relative to the folder the configuration was loaded from, or in repo_id
 * when one is given. Diffusers custom components and sentence-transformers
 * custom modules use the same loader. CVE-2026-4372 (PYSEC-2026-2289):
 * transformers before 5.3.0 downloads and runs kernel code from a Hub
 * repository named by `_attn_implementation_internal`, bypassing
 * trust_remote_code.
 *
 * The JSON is parsed by the caller (jansson); this module only walks the
 * document, bounded in depth, and looks module files up with lstat (never
 * opened, never followed).
 */
#include "remote_code.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/limits.h"
#include "../util/strbuf.h"

enum { MAX_REFS = 256, MAX_LISTED = 32, MAX_PATH_TEXT = 512 };

typedef struct ref {
    char *where;     /* "auto_map.AutoModel" */
    char *reference; /* as written */
    char *repo;      /* another repository, or NULL */
    char *file;      /* the module file relative to the model folder, or NULL */
    int present;     /* 1 present, 0 missing, -1 unknown */
    bool link;       /* present as a symbolic link */
    bool bad;        /* not a "module.Class" reference */
} ref;

typedef struct rc_state {
    ms_scan_ctx *ctx;
    const char *root;
    char *dir; /* folder of the document relative to root ("" or "sub/"), NULL: unknown */
    ref refs[MAX_REFS];
    size_t nrefs;
    size_t dropped;
    json_t *trust;    /* key paths with trust_remote_code: true */
    json_t *kernels;  /* {key, value} naming Hub repositories */
    bool limit, nomem;
    ms_strbuf path;   /* key path being walked */
} rc_state;

static bool module_chars_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok)
            return false;
        if (c == '.' && (i == 0 || i + 1 == n || s[i + 1] == '.'))
            return false;
    }
    return true;
}

/* 1 present, 0 missing, -1 unknown; `link` when a symbolic link. */
static int file_present(rc_state *st, const char *file, bool *link)
{
    *link = false;
    if (!st->root || !st->dir || !file)
        return -1;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", st->root, file);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -1;
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return 0;
    if (S_ISLNK(sb.st_mode)) {
        *link = true;
        return 1;
    }
    return S_ISREG(sb.st_mode) ? 1 : 0;
}

/* Records a class reference "[repo--]module.Class" found at the current
 * key path (+ `suffix`). `subdir` ("unet/") is where a diffusers component
 * keeps its module. `module_only` when `text` is a module name, not
 * module.Class. */
static void add_ref(rc_state *st, const char *suffix, const char *text, const char *subdir,
                    bool module_only)
{
    if (st->nrefs >= MAX_REFS) {
        st->dropped++;
        return;
    }
    ref *r = &st->refs[st->nrefs];
    memset(r, 0, sizeof(*r));
    r->present = -1;
    r->where = ms_strdup_printf("%s%s", st->path.data ? st->path.data : "", suffix ? suffix : "");
    r->reference = strdup(text ? text : "");
    if (!r->where || !r->reference) {
        free(r->where);
        free(r->reference);
        st->nomem = true;
        return;
    }
    st->nrefs++;
    if (!text) {
        r->bad = true;
        return;
    }
    const char *body = text;
    const char *dash = strstr(text, "--");
    if (dash) {
        r->repo = strndup(text, (size_t)(dash - text));
        body = dash + 2;
    }
    size_t blen = strlen(body);
    size_t modlen = blen;
    if (!module_only) {
        const char *dot = strrchr(body, '.');
        if (!dot) {
            r->bad = true;
            return;
        }
        modlen = (size_t)(dot - body);
    }
    if (!module_chars_ok(body, modlen) || modlen > 200) {
        r->bad = true;
        return;
    }
    ms_strbuf f;
    ms_strbuf_init(&f, 1024);
    if (!r->repo && st->dir)
        ms_strbuf_puts(&f, st->dir);
    if (subdir)
        ms_strbuf_puts(&f, subdir);
    for (size_t i = 0; i < modlen; i++)
        ms_strbuf_append(&f, body[i] == '.' ? "/" : body + i, 1);
    ms_strbuf_puts(&f, ".py");
    r->file = ms_strbuf_take(&f);
    if (!r->repo)
        r->present = file_present(st, r->file, &r->link);
}

static void path_push(rc_state *st, const char *key, size_t *saved)
{
    *saved = st->path.len;
    if (st->path.len)
        ms_strbuf_append(&st->path, ".", 1);
    ms_strbuf_puts(&st->path, key);
}

static void path_pop(rc_state *st, size_t saved)
{
    st->path.len = saved;
    if (st->path.data)
        st->path.data[saved] = '\0';
}

static void auto_map(rc_state *st, const json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            char *suffix = ms_strdup_printf(".%s", k);
            if (json_is_string(x)) {
                add_ref(st, suffix, json_string_value(x), NULL, false);
            } else if (json_is_array(x)) {
                size_t i;
                const json_t *e;
                json_array_foreach(x, i, e) {
                    char *s2 = ms_strdup_printf("%s[%zu]", suffix ? suffix : "", i);
                    if (json_is_string(e))
                        add_ref(st, s2, json_string_value(e), NULL, false);
                    else if (!json_is_null(e))
                        add_ref(st, s2, NULL, NULL, false);
                    free(s2);
                }
            } else {
                add_ref(st, suffix, NULL, NULL, false);
            }
            free(suffix);
        }
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            char s2[32];
            snprintf(s2, sizeof(s2), "[%zu]", i);
            if (json_is_string(e))
                add_ref(st, s2, json_string_value(e), NULL, false);
            else if (!json_is_null(e))
                add_ref(st, s2, NULL, NULL, false);
        }
    } else if (!json_is_null(v)) {
        add_ref(st, NULL, NULL, NULL, false);
    }
}

static void custom_pipelines(rc_state *st, const json_t *v)
{
    if (!json_is_object(v))
        return;
    const char *task;
    const json_t *spec;
    json_object_foreach((json_t *)v, task, spec) {
        const json_t *impl = json_object_get(spec, "impl");
        char *suffix = ms_strdup_printf(".%s.impl", task);
        if (json_is_string(impl))
            add_ref(st, suffix, json_string_value(impl), NULL, false);
        else if (impl)
            add_ref(st, suffix, NULL, NULL, false);
        free(suffix);
    }
}

/* An attention implementation is a name ("eager", "sdpa",
 * "flash_attention_2" ...) or, with a '/', a Hub repository of kernels. */
static void attn_implementation(rc_state *st, const char *key, const json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            size_t saved;
            path_push(st, k, &saved);
            attn_implementation(st, key, x);
            path_pop(st, saved);
        }
        return;
    }
    const char *s = json_string_value(v);
    if (!s || !strchr(s, '/'))
        return;
    json_t *e = json_pack("{s:s, s:s}", "key", st->path.data ? st->path.data : key, "value", s);
    if (!e || json_array_append_new(st->kernels, e) != 0)
        st->nomem = true;
}

static bool is_true_value(const json_t *v)
{
    if (json_is_true(v))
        return true;
    const char *s = json_string_value(v);
    return s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "1") == 0);
}

static void walk(rc_state *st, const json_t *v, unsigned depth)
{
    if (depth > MS_DEFAULT_REMOTE_CODE_MAX_DEPTH) {
        st->limit = true;
        return;
    }
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            size_t saved;
            path_push(st, k, &saved);
            if (strcmp(k, "auto_map") == 0)
                auto_map(st, x);
            else if (strcmp(k, "custom_pipelines") == 0)
                custom_pipelines(st, x);
            else if (strcmp(k, "_attn_implementation_internal") == 0 ||
                     strcmp(k, "_attn_implementation") == 0 ||
                     strcmp(k, "attn_implementation") == 0)
                attn_implementation(st, k, x);
            else if (strcmp(k, "trust_remote_code") == 0 && is_true_value(x)) {
                if (json_array_append_new(st->trust, json_string(st->path.data)) != 0)
                    st->nomem = true;
            }
            if (json_is_object(x) || json_is_array(x))
                walk(st, x, depth + 1);
            path_pop(st, saved);
        }
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) {
            if (!json_is_object(x) && !json_is_array(x))
                continue;
            size_t saved = st->path.len;
            ms_strbuf_printf(&st->path, "[%zu]", i);
            walk(st, x, depth + 1);
            path_pop(st, saved);
        }
    }
}

/* diffusers' model_index.json: components whose library is not a library
 * diffusers knows are modules of the repository. */
static void diffusers_index(rc_state *st, const json_t *doc)
{
    if (!json_object_get(doc, "_diffusers_version") && !json_object_get(doc, "_class_name"))
        return;
    static const char *const known[] = {"diffusers", "transformers", "onnxruntime",
                                        "onnxruntime.training", "flax", NULL};
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)doc, k, v) {
        if (!json_is_array(v) || json_array_size(v) != 2)
            continue;
        const char *lib = json_string_value(json_array_get(v, 0));
        const char *cls = json_string_value(json_array_get(v, 1));
        if (!lib || !cls)
            continue;
        size_t saved;
        path_push(st, k, &saved);
        if (strcmp(k, "_class_name") == 0) {
            char *text = ms_strdup_printf("%s.%s", lib, cls);
            add_ref(st, NULL, text, NULL, false);
            free(text);
        } else if (k[0] != '_') {
            bool std = false;
            for (int i = 0; known[i]; i++)
                std |= strcmp(lib, known[i]) == 0;
            if (!std) {
                char *text = ms_strdup_printf("%s.%s", lib, cls);
                char *sub = ms_strdup_printf("%s/", k);
                if (text && sub && module_chars_ok(k, strlen(k)) && !strchr(k, '.'))
                    add_ref(st, NULL, text, sub, false);
                else
                    add_ref(st, NULL, NULL, NULL, false);
                free(text);
                free(sub);
            }
        }
        path_pop(st, saved);
    }
}

/* sentence-transformers' modules.json: a module type outside the library
 * is loaded from the repository. */
static void st_modules(rc_state *st, const json_t *doc)
{
    size_t i;
    const json_t *m;
    json_array_foreach(doc, i, m) {
        const char *type = json_string_value(json_object_get(m, "type"));
        if (!type || !json_object_get(m, "path") || strncmp(type, "sentence_transformers.", 22) == 0)
            continue;
        char suffix[48];
        snprintf(suffix, sizeof(suffix), "[%zu].type", i);
        add_ref(st, suffix, type, NULL, false);
    }
}

static const char *present_words(const ref *r)
{
    if (r->present == 1)
        return r->link ? "present as a symbolic link" : "present";
    if (r->present == 0)
        return "missing from this folder: it would be downloaded from the Hub at load time and "
               "was not scanned";
    return "presence not checked";
}

static void report_refs(rc_state *st)
{
    const char *loc = st->ctx->location;
    size_t nlocal = 0, nremote = 0;
    for (size_t i = 0; i < st->nrefs; i++) {
        if (st->refs[i].repo)
            nremote++;
        else
            nlocal++;
    }
    for (int remote = 0; remote <= 1; remote++) {
        if ((remote ? nremote : nlocal) == 0)
            continue;
        ms_strbuf sb;
        ms_strbuf_init(&sb, 8192);
        json_t *list = json_array();
        size_t listed = 0, missing = 0;
        for (size_t i = 0; i < st->nrefs; i++) {
            const ref *r = &st->refs[i];
            if (!!r->repo != remote)
                continue;
            json_t *e = json_pack("{s:s, s:s}", "key", r->where, "reference", r->reference);
            if (e && r->repo)
                json_object_set_new(e, "repository", json_string(r->repo));
            if (e && r->file)
                json_object_set_new(e, "file", json_string(r->file));
            if (e && !r->repo)
                json_object_set_new(e, "present",
                                    r->present < 0 ? json_null() : json_boolean(r->present == 1));
            if (e && r->bad)
                json_object_set_new(e, "unrecognised", json_true());
            if (!e || json_array_append_new(list, e) != 0)
                st->nomem = true;
            if (r->present == 0)
                missing++;
            if (listed++ >= MAX_LISTED)
                continue;
            ms_strbuf_printf(&sb, "%s%s -> %s", listed > 1 ? "; " : "", r->where,
                             r->reference[0] ? r->reference : "(not text)");
            if (r->bad)
                ms_strbuf_puts(&sb, " (not a module.Class reference)");
            else if (remote)
                ms_strbuf_printf(&sb, " (%s from %s)", r->file ? r->file : "a module", r->repo);
            else
                ms_strbuf_printf(&sb, " (%s, %s)", r->file ? r->file : "?", present_words(r));
        }
        if (listed > MAX_LISTED)
            ms_strbuf_printf(&sb, "; and %zu more", listed - MAX_LISTED);
        json_t *d = json_pack("{s:s, s:o, s:b}", "config", loc, "references", list, "other_repository",
                              remote);
        bool ok;
        if (remote)
            ok = ms_report_add(
                st->ctx->report, "REMOTE-CODE-REQUIRED", loc, d,
                "This configuration points to Python code in ANOTHER repository: %s. Loading the "
                "model with trust_remote_code=True downloads that code and runs it; it is not "
                "part of this repository, was not scanned, and its owner can change it at any "
                "time (unless a revision is pinned).",
                sb.data ? sb.data : "");
        else
            ok = ms_report_add(
                st->ctx->report, "REMOTE-CODE-REQUIRED", loc, d,
                "Loading this model needs trust_remote_code=True, which imports and runs the "
                "repository's own Python code: %s.%s The module files present are analysed "
                "separately (CUSTOM-CODE-* findings).",
                sb.data ? sb.data : "",
                missing ? " A missing module would be fetched when the model is loaded; its "
                          "content is unknown."
                        : "");
        if (!ok)
            st->nomem = true;
        ms_strbuf_free(&sb);
    }
}

static void report_kernels(rc_state *st)
{
    if (json_array_size(st->kernels) == 0)
        return;
    ms_strbuf sb;
    ms_strbuf_init(&sb, 2048);
    size_t i;
    const json_t *e;
    json_array_foreach(st->kernels, i, e) {
        if (i >= MAX_LISTED)
            break;
        ms_strbuf_printf(&sb, "%s%s = \"%s\"", i ? "; " : "",
                         json_string_value(json_object_get(e, "key")),
                         json_string_value(json_object_get(e, "value")));
    }
    json_t *d = json_pack("{s:s, s:O, s:s, s:s}", "config", st->ctx->location, "kernels",
                          st->kernels, "cve", "CVE-2026-4372", "advisory", "GHSA-29pf-2h5f-8g72");
    if (!ms_report_add(st->ctx->report, "REMOTE-CODE-REQUIRED", st->ctx->location, d,
                       "The attention implementation names a Hugging Face Hub repository (%s): "
                       "transformers before 5.3.0 downloads kernel code from that repository and "
                       "runs it when the model is loaded, without asking for trust_remote_code "
                       "(CVE-2026-4372, GHSA-29pf-2h5f-8g72). That code is in ANOTHER repository "
                       "and was not scanned.",
                       sb.data ? sb.data : ""))
        st->nomem = true;
    ms_strbuf_free(&sb);
}

static void report_trust(rc_state *st)
{
    if (json_array_size(st->trust) == 0)
        return;
    ms_strbuf sb;
    ms_strbuf_init(&sb, 2048);
    size_t i;
    const json_t *e;
    json_array_foreach(st->trust, i, e) {
        if (i >= MAX_LISTED)
            break;
        ms_strbuf_printf(&sb, "%s%s", i ? ", " : "", json_string_value(e));
    }
    json_t *d = json_pack("{s:s, s:O}", "config", st->ctx->location, "keys", st->trust);
    if (!ms_report_add(st->ctx->report, "REMOTE-CODE-REQUIRED", st->ctx->location, d,
                       "The configuration sets trust_remote_code to true (%s): the library that "
                       "reads it passes the flag on and runs the Python code of the repository it "
                       "loads from, without asking the user.",
                       sb.data ? sb.data : ""))
        st->nomem = true;
    ms_strbuf_free(&sb);
}

ms_status remote_code_scan_json(ms_scan_ctx *ctx, const json_t *doc, const char *root)
{
    if (!doc)
        return MS_OK;
    rc_state *st = calloc(1, sizeof(*st));
    if (!st)
        return MS_NOMEM;
    st->ctx = ctx;
    st->root = root;
    const char *loc = ctx->location ? ctx->location : "";
    if (root && !strchr(loc, '!')) {
        const char *slash = strrchr(loc, '/');
        st->dir = slash ? strndup(loc, (size_t)(slash - loc) + 1) : strdup("");
        if (!st->dir)
            st->nomem = true;
    }
    st->trust = json_array();
    st->kernels = json_array();
    ms_strbuf_init(&st->path, MAX_PATH_TEXT);
    ms_strbuf_puts(&st->path, "");
    if (!st->trust || !st->kernels)
        st->nomem = true;
    if (!st->nomem) {
        walk(st, doc, 0);
        if (json_is_object(doc))
            diffusers_index(st, doc);
        else if (json_is_array(doc))
            st_modules(st, doc);
        report_refs(st);
        report_kernels(st);
        report_trust(st);
        if (st->dropped &&
            !ms_report_add(ctx->report, "SCAN-LIMIT", loc,
                           json_pack("{s:s, s:I, s:I}", "limit", "code references per file", "max",
                                     (json_int_t)MAX_REFS, "omitted", (json_int_t)st->dropped),
                           "More than %d code references in one configuration; %zu more were not "
                           "examined.",
                           MAX_REFS, st->dropped))
            st->nomem = true;
        if (st->limit &&
            !ms_report_add(ctx->report, "SCAN-LIMIT", loc,
                           json_pack("{s:s, s:I}", "limit", "JSON depth", "max",
                                     (json_int_t)MS_DEFAULT_REMOTE_CODE_MAX_DEPTH),
                           "The document nests deeper than %u levels; what lies deeper was not "
                           "searched for code references.",
                           MS_DEFAULT_REMOTE_CODE_MAX_DEPTH))
            st->nomem = true;
    }
    for (size_t i = 0; i < st->nrefs; i++) {
        free(st->refs[i].where);
        free(st->refs[i].reference);
        free(st->refs[i].repo);
        free(st->refs[i].file);
    }
    json_decref(st->trust);
    json_decref(st->kernels);
    ms_strbuf_free(&st->path);
    free(st->dir);
    bool nomem = st->nomem;
    free(st);
    return nomem ? MS_NOMEM : MS_OK;
}
