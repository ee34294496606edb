/*
 * integrity.c - see integrity.h.
 *
 * A Git LFS pointer (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md):
 *
 *   version https://git-lfs.github.com/spec/v1
 *   oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393
 *   size 12345
 *
 * at most 1024 bytes, keys sorted, "version" first. A clone made without
 * git-lfs leaves these where the weights should be: the model will not load,
 * or a loader falls back to another source.
 */
#include "integrity.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "../util/strbuf.h"

static const char lfs_version[] = "version https://git-lfs.github.com/spec/v1";

bool lfs_pointer_probe(const uint8_t *data, size_t len)
{
    size_t n = sizeof(lfs_version) - 1;
    return len <= 1024 && len > n && memcmp(data, lfs_version, n) == 0 &&
           (data[n] == '\n' || data[n] == '\r');
}

ms_status lfs_pointer_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    char oid[65] = "";
    unsigned long long size = 0;
    bool have_size = false;
    /* the pointer is tiny: copy it to parse lines as text */
    char text[1025];
    memcpy(text, data, len);
    text[len] = '\0';
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "oid sha256:", 11) == 0 && strlen(line) >= 11 + 64) {
            memcpy(oid, line + 11, 64);
            oid[64] = '\0';
        } else if (strncmp(line, "size ", 5) == 0) {
            char *end;
            size = strtoull(line + 5, &end, 10);
            have_size = end != line + 5;
        }
    }
    ctx->format_detail = "git-lfs-pointer";
    json_t *d = json_pack("{s:s}", "oid_sha256", oid);
    if (have_size)
        json_object_set_new(d, "size", json_integer((json_int_t)size));
    ms_report_add(ctx->report, "INTEGRITY-LFS-POINTER", ctx->location, d,
                  "The file is a Git LFS pointer (oid sha256:%.12s..., %llu bytes), not the "
                  "content it stands for: the repository was cloned without git-lfs, or the "
                  "object is missing. The real file was not scanned.",
                  oid[0] ? oid : "?", size);
    return MS_OK;
}

/* formats whose files are data, never programs */
static bool is_data_format(const char *format)
{
    static const char *const not_data[] = {"text", "json", "empty", "python", "notebook",
                                           "unreadable", "unscanned"};
    for (size_t i = 0; i < sizeof(not_data) / sizeof(not_data[0]); i++)
        if (strcmp(format, not_data[i]) == 0)
            return false;
    return true;
}

void integrity_check_mode(ms_report *report, const char *rel, mode_t mode, const char *format)
{
    bool setid = (mode & (S_ISUID | S_ISGID)) != 0;
    bool exec = (mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0 && is_data_format(format);
    if (!setid && !exec)
        return;
    char octal[8];
    snprintf(octal, sizeof(octal), "%04o", (unsigned)(mode & 07777));
    ms_report_add(report, "INTEGRITY-FILE-MODE", rel,
                  json_pack("{s:s, s:s, s:b, s:b}", "mode", octal, "format", format, "setid",
                            setid, "executable", exec),
                  "The %s file has mode %s: %s. Model data has no reason to be executable; "
                  "the bits suggest the file is meant to be run, or was planted.",
                  format, octal,
                  setid ? "set-user-id or set-group-id is set" : "it is marked executable");
}

static void hex(const unsigned char *md, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

void integrity_git_blob_sha1(const uint8_t *data, size_t len, char out[41])
{
    unsigned char md[20];
    unsigned int mdlen = 0;
    char head[40];
    int hn = snprintf(head, sizeof(head), "blob %zu", len);
    out[0] = '\0';
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return;
    bool ok = EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 &&
              EVP_DigestUpdate(c, head, (size_t)hn + 1) == 1; /* with the NUL */
    for (size_t off = 0; ok && off < len; off += (size_t)1 << 24) {
        size_t n = len - off < ((size_t)1 << 24) ? len - off : ((size_t)1 << 24);
        ok = EVP_DigestUpdate(c, data + off, n) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 20;
    EVP_MD_CTX_free(c);
    if (ok)
        hex(md, 20, out);
}

static bool all_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

void integrity_check_blob(ms_report *report, const char *rel, const char *blob_name,
                          const uint8_t *data, size_t len, const char *sha256)
{
    char actual[65];
    const char *kind;
    if (all_hex(blob_name, 64)) {
        kind = "sha256 (a Git LFS object)";
        if (sha256 && sha256[0])
            snprintf(actual, sizeof(actual), "%s", sha256);
        else
            ms_sha256_hex(data, len, false, actual);
    } else if (all_hex(blob_name, 40)) {
        kind = "git blob sha1";
        integrity_git_blob_sha1(data, len, actual);
    } else {
        ms_report_add(report, "INTEGRITY-MISMATCH", rel,
                      json_pack("{s:s}", "blob", blob_name),
                      "The Hugging Face cache blob '%s' behind this file is not named after a "
                      "hash, so its content cannot be checked.",
                      blob_name);
        return;
    }
    if (strcmp(actual, blob_name) == 0)
        return;
    ms_report_add(report, "INTEGRITY-MISMATCH", rel,
                  json_pack("{s:s, s:s, s:s}", "blob", blob_name, "actual", actual, "hash", kind),
                  "The Hugging Face cache blob behind this file is named %s (%s) but its "
                  "content hashes to %s: the cached file was changed after download.",
                  blob_name, kind, actual);
}

/* ------------------------------------------------------------------ */

typedef struct manifest_entry {
    char hash[65];
    char *path;
    bool seen;
} manifest_entry;

struct ms_manifest {
    manifest_entry *items;
    size_t n, cap;
};

enum { MANIFEST_MAX_BYTES = 64 << 20, MANIFEST_MAX_ENTRIES = 1000000 };

void manifest_free(ms_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->items[i].path);
    free(m->items);
    free(m);
}

size_t manifest_count(const ms_manifest *m)
{
    return m ? m->n : 0;
}

ms_manifest *manifest_load(const char *path, const char **error, size_t *lineno)
{
    *lineno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *error = "cannot be opened";
        return NULL;
    }
    ms_manifest *m = calloc(1, sizeof(*m));
    char *line = NULL;
    size_t cap = 0, total = 0;
    ssize_t n;
    *error = NULL;
    while (m && (n = getline(&line, &cap, f)) >= 0) {
        (*lineno)++;
        total += (size_t)n;
        if (total > MANIFEST_MAX_BYTES || m->n >= MANIFEST_MAX_ENTRIES) {
            *error = "is too large";
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        /* "<hash>  <path>" (text) or "<hash> *<path>" (binary mode) */
        if (n < 67 || (line[64] != ' ') || (line[65] != ' ' && line[65] != '*')) {
            *error = "has a line that is not '<sha256>  <path>'";
            break;
        }
        line[64] = '\0';
        for (int i = 0; i < 64; i++)
            line[i] = (char)tolower((unsigned char)line[i]);
        if (!all_hex(line, 64)) {
            *error = "has a hash that is not 64 hexadecimal digits";
            break;
        }
        const char *p = line + 66;
        if (p[0] == '.' && p[1] == '/')
            p += 2;
        if (m->n == m->cap) {
            size_t c2 = m->cap ? m->cap * 2 : 64;
            manifest_entry *items = realloc(m->items, c2 * sizeof(*items));
            if (!items) {
                *error = "could not be loaded (out of memory)";
                break;
            }
            m->items = items;
            m->cap = c2;
        }
        manifest_entry *e = &m->items[m->n];
        memcpy(e->hash, line, 65);
        e->path = strdup(p);
        e->seen = false;
        if (!e->path) {
            *error = "could not be loaded (out of memory)";
            break;
        }
        m->n++;
    }
    if (!m)
        *error = "could not be loaded (out of memory)";
    else if (!*error && ferror(f))
        *error = "could not be read";
    free(line);
    fclose(f);
    if (*error) {
        manifest_free(m);
        return NULL;
    }
    return m;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const manifest_entry *)a)->path, ((const manifest_entry *)b)->path);
}

void manifest_check(ms_report *report, const ms_manifest *mc)
{
    ms_manifest *m = (ms_manifest *)mc;
    if (m->n > 1)
        qsort(m->items, m->n, sizeof(*m->items), entry_cmp);
    for (size_t i = 0; i < report->nfiles; i++) {
        const ms_file_entry *f = &report->files[i];
        manifest_entry key = {"", (char *)f->path, false};
        manifest_entry *e = m->n ? bsearch(&key, m->items, m->n, sizeof(*m->items), entry_cmp)
                                 : NULL;
        if (!e) {
            ms_report_add(report, "INTEGRITY-MANIFEST-UNLISTED", f->path, NULL,
                          "The file is not listed in the hash manifest: nothing vouches for it.");
            continue;
        }
        e->seen = true;
        if (!f->sha256[0])
            continue; /* the caller hashes every file when a manifest is given */
        if (strcmp(e->hash, f->sha256) != 0)
            ms_report_add(report, "INTEGRITY-MISMATCH", f->path,
                          json_pack("{s:s, s:s}", "expected", e->hash, "actual", f->sha256),
                          "The file's sha256 is %s but the hash manifest expects %s: it is not "
                          "the file that was published.",
                          f->sha256, e->hash);
    }
    for (size_t k = 0; k < m->n; k++)
        if (!m->items[k].seen)
            ms_report_add(report, "INTEGRITY-MANIFEST-MISSING", m->items[k].path,
                          json_pack("{s:s}", "expected", m->items[k].hash),
                          "The hash manifest lists this file but the model folder does not "
                          "have it.");
}
