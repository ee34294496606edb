/*
 * torchscript.c - what the code of a TorchScript archive calls.
 *
 *   <root>/code/__torch__.py                 class M(Module): def forward(...)
 *   <root>/code/__torch__/<module path>.py   one file per compiled module/class
 *   <root>/code/...py.debug_pkl              source ranges (a pickle, scanned as one)
 *
 * torch.jit.load compiles and runs this Python-subset source. Its reach is
 * what the interpreter exposes: aten/prim operators are built in; an operator
 * from another namespace (torch.ops.<ns>.<op>) or a class under
 * __torch__.torch.classes needs native code registered by a shared library;
 * open(), os., subprocess, eval, exec and __import__ have no business in
 * compiled model code. The source is read line by line as plain text: no
 * comment or string is skipped, so nothing can be hidden behind an unbalanced
 * quote (a string that merely mentions such a name is reported too).
 */
#include "torchscript.h"

#include <stdlib.h>
#include <string.h>

#include "../../util/cursor.h"
#include "../../util/strbuf.h"

enum {
    MAX_FILES_LISTED = 64,
    MAX_CALL_NAMES = 256,
    MAX_NAME = 160,
    MAX_REPORTED_SITES = 100,
};

/* operator namespaces libtorch registers itself */
static const char *const builtin_namespaces[] = {
    "aten", "prim", "quantized", "_quantized", "profiler", "cuda", "mkldnn", "_caffe2",
};

void torchscript_code_init(torchscript_code *tc)
{
    memset(tc, 0, sizeof(*tc));
    tc->files = json_array();
    tc->calls = json_object();
}

void torchscript_code_free(torchscript_code *tc)
{
    json_decref(tc->files);
    json_decref(tc->calls);
    tc->files = tc->calls = NULL;
}

static bool ident_start(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(uint8_t c)
{
    return ident_start(c) || (c >= '0' && c <= '9');
}

static bool chain_is(const uint8_t *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

static bool chain_starts(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    return n >= m && memcmp(p, s, m) == 0;
}

static const uint8_t *chain_find(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(p + i, s, m) == 0 && (i == 0 || p[i - 1] == '.'))
            return p + i;
    return NULL;
}

/* Why the dotted name p[0, n) is dangerous, or NULL. `called`: followed by (. */
static const char *dangerous_reason(const uint8_t *p, size_t n, bool called)
{
    const uint8_t *ops = NULL;
    if (chain_starts(p, n, "torch.ops."))
        ops = p + 10;
    else if (chain_starts(p, n, "ops."))
        ops = p + 4;
    if (ops) {
        size_t rest = n - (size_t)(ops - p);
        const uint8_t *dot = memchr(ops, '.', rest);
        size_t nslen = dot ? (size_t)(dot - ops) : rest;
        for (size_t i = 0; i < sizeof(builtin_namespaces) / sizeof(builtin_namespaces[0]); i++)
            if (chain_is(ops, nslen, builtin_namespaces[i]))
                return NULL;
        return "an operator from a custom namespace: it runs native code that a shared library "
               "registered in the loading process";
    }
    if (chain_find(p, n, "torch.classes."))
        return "a custom C++ class (torch.classes): native code registered by a shared library";
    if (chain_is(p, n, "os") || chain_starts(p, n, "os."))
        return "the os module: process, file and environment access";
    if (chain_is(p, n, "subprocess") || chain_starts(p, n, "subprocess."))
        return "the subprocess module: runs programs";
    if (chain_find(p, n, "__import__"))
        return "__import__: imports arbitrary Python modules";
    if (called && (chain_is(p, n, "open") || chain_is(p, n, "builtins.open")))
        return "open(): file access";
    if (called && (chain_is(p, n, "eval") || chain_is(p, n, "builtins.eval") ||
                   chain_is(p, n, "exec") || chain_is(p, n, "builtins.exec")))
        return "eval/exec: runs code built at run time";
    return NULL;
}

static void report_site(ms_scan_ctx *ctx, torchscript_code *tc, const char *member, size_t line,
                        const uint8_t *name, size_t n, const char *reason)
{
    tc->dangerous++;
    if (tc->dangerous_reported >= MAX_REPORTED_SITES)
        return;
    tc->dangerous_reported++;
    char *loc = ms_strdup_printf("%s!%s:%zu", ctx->location, member, line);
    char *call = ms_strdup_printf("%.*s", (int)(n > MAX_NAME ? MAX_NAME : n), (const char *)name);
    if (loc && call)
        ms_report_add(ctx->report, "TORCHSCRIPT-DANGEROUS-CALL", loc,
                      json_pack("{s:s, s:I, s:s, s:s}", "file", member, "line", (json_int_t)line,
                                "call", call, "reason", reason),
                      "The TorchScript code in %s uses %s at line %zu: %s. torch.jit.load "
                      "compiles and runs this code.",
                      member, call, line, reason);
    free(loc);
    free(call);
}

static void scan_line(ms_scan_ctx *ctx, torchscript_code *tc, const char *member, size_t lineno,
                      const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!ident_start(s[i]) || (i > 0 && (ident_char(s[i - 1]) || s[i - 1] == '.'))) {
            i++;
            continue;
        }
        size_t j = i;
        for (;;) {
            while (j < n && ident_char(s[j]))
                j++;
            if (j + 1 < n && s[j] == '.' && ident_start(s[j + 1]))
                j++;
            else
                break;
        }
        size_t k = j;
        while (k < n && s[k] == ' ')
            k++;
        bool called = k < n && s[k] == '(';
        const char *reason = dangerous_reason(s + i, j - i, called);
        if (reason)
            report_site(ctx, tc, member, lineno, s + i, j - i, reason);
        bool definition = (i >= 4 && memcmp(s + i - 4, "def ", 4) == 0) ||
                          (i >= 6 && memcmp(s + i - 6, "class ", 6) == 0);
        if (called && !definition && json_object_size(tc->calls) < MAX_CALL_NAMES &&
            j - i <= MAX_NAME) {
            char *name = ms_strdup_printf("%.*s", (int)(j - i), (const char *)s + i);
            if (name) {
                ms_sanitize_text(name);
                json_object_set_new(tc->calls, name, json_true());
            }
            free(name);
        }
        i = j;
    }
}

void torchscript_scan_source(ms_scan_ctx *ctx, torchscript_code *tc, const char *member,
                             const uint8_t *src, size_t len)
{
    tc->nfiles++;
    if (json_array_size(tc->files) < MAX_FILES_LISTED)
        json_array_append_new(tc->files, json_string(member));
    ms_cursor c = ms_cursor_make(src, len);
    size_t lineno = 0;
    while (ms_cursor_left(&c) > 0) {
        size_t n = 0;
        const uint8_t *line = ms_cursor_line(&c, &n);
        if (!line) { /* the last line has no newline */
            line = src + c.off;
            n = ms_cursor_left(&c);
            c.off = c.len;
        }
        scan_line(ctx, tc, member, ++lineno, line, n);
    }
}

void torchscript_report(ms_scan_ctx *ctx, torchscript_code *tc)
{
    if (tc->nfiles == 0)
        return;
    ms_strbuf files, calls;
    ms_strbuf_init(&files, 1500);
    ms_strbuf_init(&calls, 1500);
    for (size_t i = 0; i < json_array_size(tc->files) && i < 12; i++)
        ms_strbuf_printf(&files, "%s%s", i ? ", " : "",
                         json_string_value(json_array_get(tc->files, i)));
    if (tc->nfiles > 12)
        ms_strbuf_printf(&files, " and %llu more", (unsigned long long)(tc->nfiles - 12));
    json_t *names = json_array();
    const char *key;
    json_t *value;
    size_t shown = 0;
    json_object_foreach(tc->calls, key, value)
    {
        (void)value;
        json_array_append_new(names, json_string(key));
    }
    /* json objects keep insertion order: sort for a deterministic listing */
    size_t nn = json_array_size(names);
    const char **sorted = nn ? malloc(nn * sizeof(*sorted)) : NULL;
    if (sorted) {
        for (size_t i = 0; i < nn; i++)
            sorted[i] = json_string_value(json_array_get(names, i));
        for (size_t i = 1; i < nn; i++)
            for (size_t k = i; k > 0 && strcmp(sorted[k - 1], sorted[k]) > 0; k--) {
                const char *t = sorted[k];
                sorted[k] = sorted[k - 1];
                sorted[k - 1] = t;
            }
        json_t *ordered = json_array();
        for (size_t i = 0; i < nn; i++) {
            json_array_append_new(ordered, json_string(sorted[i]));
            if (shown < 40)
                ms_strbuf_printf(&calls, "%s%s", shown++ ? ", " : "", sorted[i]);
        }
        if (nn > shown)
            ms_strbuf_printf(&calls, " and %zu more", nn - shown);
        json_decref(names);
        names = ordered;
        free(sorted);
    }
    json_t *d = json_pack("{s:O, s:I, s:o, s:I}", "code_files", tc->files, "code_file_count",
                          (json_int_t)tc->nfiles, "calls", names, "dangerous_call_sites",
                          (json_int_t)tc->dangerous);
    ms_report_add(ctx->report, "TORCHSCRIPT-CODE", ctx->location, d,
                  "The archive is a TorchScript program: torch.jit.load (and torch.load, which "
                  "hands TorchScript archives to it) compiles and runs the code it carries. "
                  "%llu code file(s): %s. Names called: %s. %llu dangerous call site(s)%s.",
                  (unsigned long long)tc->nfiles, files.data ? files.data : "",
                  calls.len ? calls.data : "none", (unsigned long long)tc->dangerous,
                  tc->dangerous > tc->dangerous_reported
                      ? " (the first ones are reported separately, the rest only counted)"
                  : tc->dangerous ? " (each reported separately)"
                                  : ": none outside the built-in operators and the language");
    ms_strbuf_free(&files);
    ms_strbuf_free(&calls);
}
