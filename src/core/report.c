/* report.c - the in-memory report: findings, files, ordering. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fnmatch.h>

#include "scan_ctx.h"
#include "../util/strbuf.h"

static const char *const severity_names[] = {"Informational", "Low", "Medium", "High",
                                             "Critical"};

const char *ms_severity_name(ms_severity sev)
{
    if ((unsigned)sev > MS_SEV_CRITICAL)
        return "Unknown";
    return severity_names[sev];
}

bool ms_severity_parse(const char *text, ms_severity *out)
{
    for (int i = 0; i <= MS_SEV_CRITICAL; i++) {
        if (strcasecmp(text, severity_names[i]) == 0) {
            *out = (ms_severity)i;
            return true;
        }
    }
    if (strcasecmp(text, "info") == 0) {
        *out = MS_SEV_INFORMATIONAL;
        return true;
    }
    return false;
}

const char *ms_status_name(ms_status status)
{
    switch (status) {
    case MS_OK: return "ok";
    case MS_TRUNCATED: return "truncated";
    case MS_MALFORMED: return "malformed";
    case MS_LIMIT: return "limit";
    case MS_NOMEM: return "out of memory";
    case MS_IO: return "i/o error";
    case MS_UNSUPPORTED: return "unsupported";
    case MS_INTERNAL: return "internal error";
    }
    return "unknown";
}

static char *basename_of(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    char *s = malloc(n - start + 1);
    if (s) {
        memcpy(s, path + start, n - start);
        s[n - start] = '\0';
    }
    return s;
}

ms_report *ms_report_new(const char *model_path)
{
    ms_report *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->model_path = strdup(model_path);
    r->model_name = basename_of(model_path);
    r->scan_time = time(NULL);
    if (!r->model_path || !r->model_name) {
        ms_report_free(r);
        return NULL;
    }
    ms_sanitize_text(r->model_path);
    ms_sanitize_text(r->model_name);
    return r;
}

static void finding_clear(ms_finding *f)
{
    free(f->location);
    free(f->description);
    json_decref(f->details);
    free(f->suppress_reason);
    free(f->suppress_expires);
}

void ms_report_free(ms_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfindings; i++)
        finding_clear(&r->findings[i]);
    json_decref(r->dependencies);
    json_decref(r->model_card);
    json_decref(r->companions);
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i].path);
    free(r->findings);
    free(r->files);
    free(r->model_name);
    free(r->model_path);
    free(r);
}

/* Room for `need` elements of `size` bytes in arr (capacity *cap, doubled
 * from 16): returns the array to use from now on, or NULL, with arr and
 * *cap untouched, when memory ran out. */
static void *reserve(void *arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return arr;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *a = realloc(arr, n * size);
    if (a)
        *cap = n;
    return a;
}

bool ms_report_addv(ms_report *r, const char *rule_id, const char *location, json_t *details,
                    const char *fmt, va_list ap)
{
    const ms_rule *rule = ms_rule_find(rule_id);
    if (!rule)
        abort(); /* a rule id missing from the table is a programming error */
    ms_finding *grown =
        reserve(r->findings, &r->findings_cap, r->nfindings + 1, sizeof(*r->findings));
    if (!grown) {
        json_decref(details);
        return false;
    }
    r->findings = grown;
    ms_finding *f = &r->findings[r->nfindings];
    f->rule_id = rule->id;
    f->type = rule->type;
    f->severity = rule->severity;
    f->recommendation = rule->recommendation;
    f->location = strdup(location);
    f->description = ms_strdup_vprintf(8192, fmt, ap);
    f->details = details ? details : json_object();
    f->suppressed = false;
    f->suppress_reason = NULL;
    f->suppress_expires = NULL;
    ms_sanitize_text(f->location);
    ms_sanitize_text(f->description);
    if (!f->location || !f->description || !f->details) {
        free(f->location);
        free(f->description);
        json_decref(f->details);
        return false;
    }
    r->nfindings++;
    return true;
}

bool ms_report_add(ms_report *r, const char *rule_id, const char *location, json_t *details,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = ms_report_addv(r, rule_id, location, details, fmt, ap);
    va_end(ap);
    return ok;
}

ms_file_entry *ms_report_add_file(ms_report *r, const char *path, uint64_t size,
                                  const char *format)
{
    ms_file_entry *grown = reserve(r->files, &r->files_cap, r->nfiles + 1, sizeof(*r->files));
    if (!grown)
        return NULL;
    r->files = grown;
    ms_file_entry *e = &r->files[r->nfiles];
    memset(e, 0, sizeof(*e));
    e->path = strdup(path);
    if (!e->path)
        return NULL;
    ms_sanitize_text(e->path);
    e->size = size;
    e->format = format;
    r->nfiles++;
    return e;
}

static int finding_cmp(const void *a, const void *b)
{
    const ms_finding *x = a, *y = b;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    int c = strcmp(x->location, y->location);
    if (c)
        return c;
    c = strcmp(x->rule_id, y->rule_id);
    if (c)
        return c;
    return strcmp(x->description, y->description);
}

static int file_cmp(const void *a, const void *b)
{
    const ms_file_entry *x = a, *y = b;
    return strcmp(x->path, y->path);
}

void ms_report_finish(ms_report *r)
{
    if (r->nfindings > 1)
        qsort(r->findings, r->nfindings, sizeof(*r->findings), finding_cmp);
    if (r->nfiles > 1)
        qsort(r->files, r->nfiles, sizeof(*r->files), file_cmp);
}

bool ms_report_absorb(ms_report *r, ms_report *from)
{
    /* (reserve() returns the array: NULL only when growing failed, as long
     * as something is asked for) */
    if (from->nfindings) {
        ms_finding *findings = reserve(r->findings, &r->findings_cap,
                                       r->nfindings + from->nfindings, sizeof(*r->findings));
        if (!findings)
            return false;
        r->findings = findings;
    }
    if (from->nfiles) {
        ms_file_entry *files =
            reserve(r->files, &r->files_cap, r->nfiles + from->nfiles, sizeof(*r->files));
        if (!files)
            return false;
        r->files = files;
    }
    if (from->nfindings)
        memcpy(r->findings + r->nfindings, from->findings,
               from->nfindings * sizeof(*from->findings));
    r->nfindings += from->nfindings;
    from->nfindings = 0;
    if (from->nfiles)
        memcpy(r->files + r->nfiles, from->files, from->nfiles * sizeof(*from->files));
    r->nfiles += from->nfiles;
    from->nfiles = 0;
    r->files_scanned += from->files_scanned;
    r->bytes_scanned += from->bytes_scanned;
    if (from->companions) {
        if (!r->companions)
            r->companions = json_array();
        if (r->companions)
            json_array_extend(r->companions, from->companions);
        json_decref(from->companions);
        from->companions = NULL;
    }
    return true;
}

bool ms_report_add_companion(ms_report *r, const char *path, const char *kind, const char *by)
{
    if (!r->companions && !(r->companions = json_array()))
        return false;
    return json_array_append_new(r->companions,
                                 json_pack("{s:s, s:s, s:s}", "path", path, "kind", kind, "by",
                                           by)) == 0;
}

static int file_path_cmp(const void *a, const void *b)
{
    return strcmp((*(ms_file_entry *const *)a)->path, (*(ms_file_entry *const *)b)->path);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void ms_report_resolve_companions(ms_report *r)
{
    static const char *const kinds[] = {"onnx-external-data"};
    size_t nc = json_array_size(r->companions);
    if (nc == 0 || r->nfiles == 0)
        return;
    ms_file_entry **byname = malloc(r->nfiles * sizeof(*byname));
    const char **resolved = malloc(nc * sizeof(*resolved));
    if (!byname || !resolved) {
        free(byname);
        free(resolved);
        return; /* the findings stay: nothing is hidden */
    }
    for (size_t i = 0; i < r->nfiles; i++)
        byname[i] = &r->files[i];
    qsort(byname, r->nfiles, sizeof(*byname), file_path_cmp);
    size_t nres = 0;
    for (size_t i = 0; i < nc; i++) {
        json_t *c = json_array_get(r->companions, i);
        const char *path = json_string_value(json_object_get(c, "path"));
        const char *kind = json_string_value(json_object_get(c, "kind"));
        const char *skind = NULL;
        for (size_t k = 0; kind && k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (strcmp(kinds[k], kind) == 0)
                skind = kinds[k];
        if (!path || !skind)
            continue;
        ms_file_entry key = {.path = (char *)(uintptr_t)path};
        ms_file_entry *kp = &key;
        ms_file_entry **hit = bsearch(&kp, byname, r->nfiles, sizeof(*byname), file_path_cmp);
        if (!hit)
            continue;
        if ((*hit)->format == skind) {
            resolved[nres++] = (*hit)->path; /* a second model naming the same file */
        } else if ((*hit)->format && strcmp((*hit)->format, "binary") == 0) {
            (*hit)->format = skind;
            resolved[nres++] = (*hit)->path;
        }
    }
    if (nres) {
        qsort(resolved, nres, sizeof(*resolved), str_cmp);
        size_t kept = 0;
        for (size_t i = 0; i < r->nfindings; i++) {
            ms_finding *f = &r->findings[i];
            if (strcmp(f->rule_id, "FORMAT-UNRECOGNISED") == 0 &&
                bsearch(&f->location, resolved, nres, sizeof(*resolved), str_cmp)) {
                finding_clear(f);
                continue;
            }
            r->findings[kept++] = *f;
        }
        r->nfindings = kept;
    }
    free(byname);
    free(resolved);
}

size_t ms_report_filter(ms_report *r, ms_severity min)
{
    size_t kept = 0, removed = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        ms_finding *f = &r->findings[i];
        if (f->severity < min) {
            finding_clear(f);
            removed++;
            continue;
        }
        r->findings[kept++] = *f;
    }
    r->nfindings = kept;
    r->hidden_below_min += removed;
    return removed;
}

/* fnmatch() with '*' stopping at '/', tried on the whole path and its leading
 * directories, and, unless the glob is anchored with a leading '/', on every
 * trailing part of the path that starts after a '/'. */
static bool glob_matches(const char *glob, const char *path)
{
    bool anchored = glob[0] == '/';
    const char *p = anchored ? glob + 1 : glob;
    /* "**" adds nothing to these rules: a leading "**" + "/" and a trailing
     * "/" + "**" are dropped, "**" alone matches everything */
    while (strncmp(p, "**/", 3) == 0) {
        p += 3;
        anchored = false;
    }
    char g[1024];
    size_t n = strlen(p);
    if (n >= sizeof(g))
        return false;
    memcpy(g, p, n + 1);
    while (n >= 3 && strcmp(g + n - 3, "/**") == 0)
        g[n -= 3] = '\0';
    while (n > 1 && g[n - 1] == '/')
        g[--n] = '\0';
    if (strcmp(g, "**") == 0 || strcmp(g, "*") == 0)
        return true;
    if (!*g)
        return false;
    char buf[4096];
    for (const char *s = path;;) {
        size_t sl = strlen(s);
        if (sl >= sizeof(buf))
            return false;
        memcpy(buf, s, sl + 1);
        for (;;) {
            if (fnmatch(g, buf, FNM_PATHNAME) == 0)
                return true;
            char *slash = strrchr(buf, '/');
            if (!slash)
                break;
            *slash = '\0';
        }
        if (anchored)
            return false;
        const char *next = strchr(s, '/');
        if (!next)
            return false;
        s = next + 1;
    }
}

bool ms_path_excluded(const char *path, const char *const *globs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (globs[i] && glob_matches(globs[i], path))
            return true;
    return false;
}
