/* export.c - see export.h. */
#include "export.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static int order_cmp(const void *a, const void *b)
{
    return strcmp((*(const ms_file_entry *const *)a)->path,
                  (*(const ms_file_entry *const *)b)->path);
}

bool export_index_init(export_index *ix, const ms_report *r)
{
    memset(ix, 0, sizeof(*ix));
    ix->report = r;
    if (r->nfiles == 0)
        return true;
    ix->order = malloc(r->nfiles * sizeof(*ix->order));
    if (!ix->order)
        return false;
    for (size_t i = 0; i < r->nfiles; i++)
        ix->order[i] = &r->files[i];
    ix->n = r->nfiles;
    /* ms_report_finish sorts the files already; a report built otherwise may not be */
    qsort(ix->order, ix->n, sizeof(*ix->order), order_cmp);
    return true;
}

void export_index_free(export_index *ix)
{
    free(ix->order);
    memset(ix, 0, sizeof(*ix));
}

/* strcmp of the n bytes at s (as a string of length n) with t */
static int span_cmp(const char *s, size_t n, const char *t)
{
    int c = strncmp(s, t, n);
    if (c)
        return c;
    return t[n] ? -1 : 0;
}

size_t export_index_find(const export_index *ix, const char *path, size_t n)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = span_cmp(path, n, ix->order[mid]->path);
        if (c == 0)
            return (size_t)(ix->order[mid] - ix->report->files);
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (size_t)-1;
}

/* ":123" exactly: a line number (1..) */
static unsigned long line_suffix(const char *s)
{
    if (s[0] != ':' || s[1] < '0' || s[1] > '9' || s[1] == '0')
        return 0;
    unsigned long v = 0;
    for (const char *p = s + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000UL)
            return 0;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    return v;
}

void export_locate(const export_index *ix, const char *loc, export_where *out)
{
    memset(out, 0, sizeof(*out));
    out->file = (size_t)-1;
    if (strcmp(loc, EXPORT_REPO_LOCATION) == 0) {
        out->repo_wide = true;
        return;
    }
    size_t len = strlen(loc);
    for (size_t i = len; i > 0; i--) {
        if (i < len && !strchr("!:@", loc[i]))
            continue;
        size_t k = export_index_find(ix, loc, i);
        if (k != (size_t)-1) {
            out->file = k;
            out->outer_len = i;
            break;
        }
    }
    if (out->file == (size_t)-1) {
        const char *bang = strchr(loc, '!');
        out->outer_len = bang ? (size_t)(bang - loc) : len;
        if (!bang) {
            const char *colon = strrchr(loc, ':');
            if (colon && line_suffix(colon))
                out->outer_len = (size_t)(colon - loc);
        }
    }
    const char *rest = loc + out->outer_len;
    out->line = line_suffix(rest);
    out->inside = rest[0] && !out->line;
}

bool export_fingerprint(const ms_finding *f, char hex[65])
{
    const char *package = json_string_value(json_object_get(f->details, "package"));
    const char *version = json_string_value(json_object_get(f->details, "version"));
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(c, f->rule_id, strlen(f->rule_id) + 1) == 1 &&
              EVP_DigestUpdate(c, f->location, strlen(f->location) + 1) == 1;
    if (ok && package && version)
        ok = EVP_DigestUpdate(c, package, strlen(package) + 1) == 1 &&
             EVP_DigestUpdate(c, version, strlen(version) + 1) == 1;
    else if (ok)
        ok = EVP_DigestUpdate(c, f->description, strlen(f->description) + 1) == 1;
    ok = ok && EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(c);
    if (!ok)
        return false;
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return true;
}

size_t export_count(json_t *seen, const char *key)
{
    json_int_t n = json_integer_value(json_object_get(seen, key)) + 1;
    json_object_set_new(seen, key, json_integer(n));
    return (size_t)n;
}

char *export_uri_path(const char *path, size_t n)
{
    static const char hexdig[] = "0123456789ABCDEF";
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            (c && strchr("-._~/", c))) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hexdig[c >> 4];
            *o++ = hexdig[c & 15];
        }
    }
    *o = '\0';
    return out;
}

void export_timestamp(time_t t, char buf[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *export_severity_word(ms_severity sev)
{
    switch (sev) {
    case MS_SEV_CRITICAL:
        return "critical";
    case MS_SEV_HIGH:
        return "high";
    case MS_SEV_MEDIUM:
        return "medium";
    case MS_SEV_LOW:
        return "low";
    case MS_SEV_INFORMATIONAL:
        return "info";
    }
    return "unknown";
}

bool export_single_file(const ms_report *r)
{
    if (r->nfiles != 1)
        return false;
    size_t n = strlen(r->model_path), k = strlen(r->files[0].path);
    return n >= k && strcmp(r->model_path + n - k, r->files[0].path) == 0 &&
           (n == k || r->model_path[n - k - 1] == '/');
}
