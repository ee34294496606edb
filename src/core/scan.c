/*
 * scan.c - walk the model folder, read each file, detect its format from its
 * content and dispatch to the format's analyser.
 *
 * The walk visits every regular file (no extension filter) in byte order of
 * names, never follows a symbolic link that leaves the model folder (it is
 * reported instead), skips the `.git` directory (its objects are not model
 * files) and maps each file read-only. Nothing is executed.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "limits.h"
#include "scan_ctx.h"
#include "../formats/format.h"
#include "../repo/integrity.h"
#include "../repo/provenance.h"
#include "../repo/secrets.h"
#include "../repo/deps.h"
#include "../formats/onnx/onnx_scan.h"
#include "../formats/safetensors/safetensors_scan.h"
#include "../util/strbuf.h"

void ms_limits_default(ms_limits *l)
{
    l->max_file_bytes = MS_DEFAULT_MAX_FILE_BYTES;
    l->pickle_max_opcodes = MS_DEFAULT_PICKLE_MAX_OPCODES;
    l->pickle_max_stack = MS_DEFAULT_PICKLE_MAX_STACK;
    l->pickle_max_marks = MS_DEFAULT_PICKLE_MAX_MARKS;
    l->pickle_max_memo = MS_DEFAULT_PICKLE_MAX_MEMO;
    l->pickle_max_streams = MS_DEFAULT_PICKLE_MAX_STREAMS;
    l->pickle_max_globals = MS_DEFAULT_PICKLE_MAX_GLOBALS;
    l->nested_max_depth = MS_DEFAULT_NESTED_MAX_DEPTH;
    l->nested_max_bytes = MS_DEFAULT_NESTED_MAX_BYTES;
    l->walk_max_files = MS_DEFAULT_WALK_MAX_FILES;
    l->walk_max_depth = MS_DEFAULT_WALK_MAX_DEPTH;
    l->archive_max_depth = MS_DEFAULT_ARCHIVE_MAX_DEPTH;
    l->archive_max_members = MS_DEFAULT_ARCHIVE_MAX_MEMBERS;
    l->archive_max_expanded = MS_DEFAULT_ARCHIVE_MAX_EXPANDED;
    l->archive_max_member = MS_DEFAULT_ARCHIVE_MAX_MEMBER;
    l->archive_max_ratio = MS_DEFAULT_ARCHIVE_MAX_RATIO;
    l->scan_max_seconds = MS_DEFAULT_SCAN_MAX_SECONDS;
}

void ms_options_default(ms_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    ms_limits_default(&opts->limits);
    opts->hash_files = true;
    opts->jobs = 1;
}

void ms_release_pages(const uint8_t *base, size_t len)
{
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)base, end = start + len;
    if (page <= 0)
        return;
    start = (start + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    end &= ~((uintptr_t)page - 1);
    if (end > start)
        madvise((void *)start, end - start, MADV_DONTNEED);
}

void ms_sha256_hex(const uint8_t *data, size_t len, bool mapped, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    out[0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return;
    bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    /* feed in bounded chunks so huge mappings are paged in gradually */
    for (size_t off = 0; ok && off < len; off += (size_t)1 << 24) {
        size_t n = len - off < ((size_t)1 << 24) ? len - off : ((size_t)1 << 24);
        ok = EVP_DigestUpdate(ctx, data + off, n) == 1;
        if (mapped)
            ms_release_pages(data + off, n);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return;
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static bool collect_onnx_meta(void *ud, const uint8_t *key, size_t key_len, const uint8_t *value,
                              size_t value_len)
{
    ms_strbuf *sb = ud;
    ms_strbuf_append(sb, (const char *)key, key_len);
    ms_strbuf_puts(sb, " = ");
    ms_strbuf_append(sb, (const char *)value, value_len);
    ms_strbuf_puts(sb, "\n");
    return !sb->truncated;
}

/* Text that model files carry as metadata goes through the secrets check:
 * safetensors __metadata__ and ONNX metadata_props (GGUF strings, key by key,
 * and pickle string constants are checked by their analysers). */
static void metadata_secrets(ms_scan_ctx *ctx, const ms_format *fmt, const uint8_t *data,
                             size_t len)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, 64u << 20);
    const char *origin = NULL;
    if (strcmp(fmt->name, "safetensors") == 0) {
        json_t *md = safetensors_metadata(data, len);
        const char *k;
        json_t *v;
        json_object_foreach(md, k, v)
        {
            ms_strbuf_printf(&sb, "%s = %s\n", k, json_string_value(v) ? json_string_value(v) : "");
        }
        json_decref(md);
        origin = "the safetensors __metadata__";
    } else if (strcmp(fmt->name, "onnx") == 0) {
        onnx_metadata_foreach(data, len, collect_onnx_meta, &sb);
        origin = "the ONNX metadata_props";
    }
    if (origin && sb.len)
        secrets_scan(ctx->report, ctx->location, (const uint8_t *)sb.data, sb.len, origin);
    ms_strbuf_free(&sb);
}

/* Runs the analyser of data's format (or reports an unanalysed format that
 * can carry code) at ctx->location; returns the detected format. */
static ms_status dispatch(ms_scan_ctx *ctx, const uint8_t *data, size_t len,
                          const ms_format **fmt_out)
{
    const ms_format *fmt = ms_detect_format(data, len);
    *fmt_out = fmt;
    /* every text file is searched for credentials and personal data */
    static const char *const text_formats[] = {"text", "json", "python"}; /* notebooks are json */
    for (size_t i = 0; i < sizeof(text_formats) / sizeof(text_formats[0]); i++)
        if (strcmp(fmt->name, text_formats[i]) == 0)
            (data == ctx->mapping ? secrets_scan_mapped : secrets_scan)(
                ctx->report, ctx->location, data, len, "the file's text");
    ms_status st = MS_OK;
    if (fmt->scan)
        st = fmt->scan(ctx, data, len);
    metadata_secrets(ctx, fmt, data, len);
    if (fmt->scan)
        return st;
    if (fmt->may_carry_code)
        ms_report_add(ctx->report, "FORMAT-NOT-ANALYSED", ctx->location,
                      json_pack("{s:s}", "format", fmt->name),
                      "The file is in %s format (detected from its content). This version of the "
                      "scanner recognises the format but does not analyse its contents, which "
                      "can carry code or hide pickles.",
                      fmt->name);
    return MS_OK;
}

/* mapped_fd: the descriptor `data` is a read-only mapping of (the whole
 * file), or -1 for a buffer */
static ms_status scan_buffer(ms_report *report, const ms_limits *limits, const char *name,
                             const uint8_t *data, size_t len, int mapped_fd, const char *root,
                             const ms_policy *policy)
{
    bool mapped = mapped_fd >= 0;
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_scan_ctx ctx = {.report = report,
                       .limits = limits,
                       .location = name,
                       .budget = &budget,
                       .mapping = mapped ? data : NULL,
                       .root = root,
                       .policy = policy,
                       .file_map = mapped ? data : NULL,
                       .file_len = mapped ? len : 0,
                       .file_fd = mapped_fd};
    const ms_format *fmt;
    ms_status st = dispatch(&ctx, data, len, &fmt);
    ms_file_entry *e =
        ms_report_add_file(report, name, len, ctx.format_detail ? ctx.format_detail : fmt->name);
    if (!e)
        return MS_NOMEM;
    report->files_scanned++;
    report->bytes_scanned += len;
    return st;
}

ms_status ms_scan_member(ms_scan_ctx *parent, const char *member, const uint8_t *data,
                         size_t len)
{
    return ms_scan_member_with(parent, member, data, len, NULL);
}

ms_status ms_scan_member_with(ms_scan_ctx *parent, const char *member, const uint8_t *data,
                              size_t len, ms_scan_fn scan)
{
    const ms_limits *lim = parent->limits;
    char *loc = ms_strdup_printf("%s!%s", parent->location, member);
    if (!loc)
        return MS_NOMEM;
    ms_status st = MS_OK;
    if (parent->depth + 1 > lim->archive_max_depth) {
        ms_report_add(parent->report, "SCAN-LIMIT", loc,
                      json_pack("{s:s, s:I}", "limit", "container depth", "max",
                                (json_int_t)lim->archive_max_depth),
                      "Containers are nested more than %u deep here; this member was not "
                      "analysed.",
                      lim->archive_max_depth);
        free(loc);
        return MS_LIMIT;
    }
    if (++parent->budget->members > lim->archive_max_members) {
        if (parent->budget->members == lim->archive_max_members + 1)
            ms_report_add(parent->report, "SCAN-LIMIT", loc,
                          json_pack("{s:s, s:I}", "limit", "container members", "max",
                                    (json_int_t)lim->archive_max_members),
                          "More than %llu container members in one file; this and later "
                          "members were not analysed.",
                          (unsigned long long)lim->archive_max_members);
        free(loc);
        return MS_LIMIT;
    }
    ms_scan_ctx child = *parent;
    child.location = loc;
    child.depth = parent->depth + 1;
    child.mapping = NULL;
    child.format_detail = NULL;
    const ms_format *fmt;
    st = scan ? scan(&child, data, len) : dispatch(&child, data, len, &fmt);
    free(loc);
    return st;
}

bool ms_budget_expand(ms_scan_ctx *ctx, uint64_t n, const char *what)
{
    const ms_limits *lim = ctx->limits;
    const char *which = NULL;
    uint64_t max = 0;
    if (n > lim->archive_max_member) {
        which = "bytes of one decompressed member";
        max = lim->archive_max_member;
    } else if (ctx->budget->expanded_bytes + n > lim->archive_max_expanded) {
        which = "bytes decompressed per file";
        max = lim->archive_max_expanded;
    }
    if (!which) {
        ctx->budget->expanded_bytes += n;
        return true;
    }
    ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                  json_pack("{s:s, s:I, s:I}", "limit", which, "requested", (json_int_t)n, "max",
                            (json_int_t)max),
                  "Expanding %s would need %llu bytes, beyond the limit of %llu %s; it was not "
                  "analysed.",
                  what, (unsigned long long)n, (unsigned long long)max, which);
    return false;
}

bool ms_budget_time_left(ms_scan_ctx *ctx)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - ctx->budget->start.tv_sec < (time_t)ctx->limits->scan_max_seconds)
        return true;
    if (!ctx->budget->time_exceeded)
        ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                      json_pack("{s:s, s:I}", "limit", "seconds per file", "max",
                                (json_int_t)ctx->limits->scan_max_seconds),
                      "The analysis of this file took longer than %u seconds and was stopped; "
                      "what was not reached was not analysed.",
                      ctx->limits->scan_max_seconds);
    ctx->budget->time_exceeded = true;
    return false;
}

ms_status ms_scan_buffer(ms_report *report, const ms_limits *limits, const char *name,
                         const uint8_t *data, size_t len)
{
    return scan_buffer(report, limits, name, data, len, -1, NULL, NULL);
}

/* One file found by the walk, analysed later (possibly on another thread). */
typedef struct work_item {
    char *rel;      /* path relative to the model root, as reported */
    char *path;     /* absolute path to open */
    char *real;     /* the resolved target when reached through a link, else NULL */
    struct stat st; /* what the walk saw; the file opened later must be the same */
    ms_report *out; /* the item's own findings and file entry */
} work_item;

typedef struct walker {
    const ms_options *opts;
    ms_report *report;
    char root_real[PATH_MAX];   /* what is walked */
    char contain_real[PATH_MAX]; /* where symbolic links may point: the model
                                  * folder, or the whole Hugging Face cache entry */
    char blobs_real[PATH_MAX];   /* <cache entry>/blobs, or "" */
    char walked[PATH_MAX];       /* the folder walk_root() walked: what analysers
                                  * see as the model folder on disk */
    uint32_t files_seen;
    bool limit_reported;
    bool hash_all; /* a manifest needs every file's sha256 */
    bool nomem;    /* the work list could not grow */
    work_item *items;
    size_t nitems, items_cap;
    json_t *excluded; /* paths left out by --exclude, capped */
    uint64_t nexcluded;
} walker;

/* `real` is the resolved path when the file was reached through a link. */
static void scan_fd(const walker *w, ms_report *r, int fd, const char *rel, const struct stat *st,
                    const char *real)
{
    const ms_limits *lim = &w->opts->limits;
    if ((uint64_t)st->st_size > lim->max_file_bytes) {
        ms_report_add(r, "SCAN-LIMIT", rel,
                      json_pack("{s:s, s:I, s:I}", "limit", "file size", "size",
                                (json_int_t)st->st_size, "max", (json_int_t)lim->max_file_bytes),
                      "The file is %lld bytes, above the %llu-byte limit; it was not analysed.",
                      (long long)st->st_size, (unsigned long long)lim->max_file_bytes);
        ms_report_add_file(r, rel, (uint64_t)st->st_size, "unscanned");
        return;
    }
    size_t len = (size_t)st->st_size;
    const uint8_t *data = (const uint8_t *)"";
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            ms_report_add(r, "FILE-UNREADABLE", rel, json_pack("{s:s}", "error", strerror(errno)),
                          "The file could not be mapped for reading (%s); it was not analysed.",
                          strerror(errno));
            ms_report_add_file(r, rel, len, "unreadable");
            return;
        }
        madvise(map, len, MADV_SEQUENTIAL);
        data = map;
    }
    size_t before = r->nfiles;
    ms_status s = scan_buffer(r, lim, rel, data, len, map ? fd : -1,
                              w->walked[0] ? w->walked : w->root_real, w->opts->policy);
    if (s == MS_NOMEM)
        ms_report_add(r, "SCAN-LIMIT", rel, json_pack("{s:s}", "limit", "memory"),
                      "The analysis of this file ran out of memory and is incomplete.");
    if ((w->opts->hash_files || w->hash_all) && r->nfiles > before)
        ms_sha256_hex(data, len, map != NULL, r->files[before].sha256);
    if (r->nfiles > before)
        integrity_check_mode(r, rel, st->st_mode, r->files[before].format);
    /* a Hugging Face cache blob is named after its content's hash */
    size_t bl = strlen(w->blobs_real);
    if (real && bl && strncmp(real, w->blobs_real, bl) == 0 && real[bl] == '/' &&
        !strchr(real + bl + 1, '/'))
        integrity_check_blob(r, rel, real + bl + 1, data, len,
                             r->nfiles > before ? r->files[before].sha256 : "");
    if (map)
        munmap(map, len);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool inside_root(const walker *w, const char *real)
{
    if (strcmp(w->contain_real, "/") == 0)
        return true;
    size_t n = strlen(w->contain_real);
    return strncmp(real, w->contain_real, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

static bool excluded(walker *w, const char *rel)
{
    if (!ms_path_excluded(rel, w->opts->excludes, w->opts->nexcludes))
        return false;
    if (!w->excluded)
        w->excluded = json_array();
    if (w->excluded && json_array_size(w->excluded) < 100)
        json_array_append_new(w->excluded, json_string(rel));
    w->nexcluded++;
    return true;
}

static void add_item(walker *w, const char *rel, const char *path, const char *real,
                     const struct stat *st)
{
    if (w->nitems == w->items_cap) {
        size_t cap = w->items_cap ? w->items_cap * 2 : 64;
        work_item *n = realloc(w->items, cap * sizeof(*n));
        if (!n) {
            w->nomem = true;
            return;
        }
        w->items = n;
        w->items_cap = cap;
    }
    work_item *it = &w->items[w->nitems];
    memset(it, 0, sizeof(*it));
    it->rel = strdup(rel);
    it->path = strdup(path);
    it->real = real ? strdup(real) : NULL;
    it->st = *st;
    if (!it->rel || !it->path || (real && !it->real)) {
        free(it->rel);
        free(it->path);
        free(it->real);
        w->nomem = true;
        return;
    }
    w->nitems++;
}

static void walk_dir(walker *w, int dirfd, const char *relprefix, unsigned depth);

static void visit(walker *w, int dirfd, const char *name, const char *rel, unsigned depth)
{
    ms_report *r = w->report;
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        ms_report_add(r, "FILE-UNREADABLE", rel, json_pack("{s:s}", "error", strerror(errno)),
                      "The file could not be examined (%s).", strerror(errno));
        return;
    }
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX], real[PATH_MAX];
        ssize_t tn = readlinkat(dirfd, name, target, sizeof(target) - 1);
        target[tn > 0 ? tn : 0] = '\0';
        char *full = ms_strdup_printf("%s/%s", w->root_real, rel);
        bool resolved = full && realpath(full, real) != NULL;
        free(full);
        if (!resolved || !inside_root(w, real)) {
            ms_report_add(r, "PATH-SYMLINK-ESCAPE", rel,
                          json_pack("{s:s, s:s}", "target", target, "resolved",
                                    resolved ? real : "(unresolvable)"),
                          "Symbolic link to '%s' %s; it was not followed.", target,
                          resolved ? "points outside the model folder"
                                   : "cannot be resolved (dangling or looping)");
            return;
        }
        /* a link to a file inside the folder: scan the content under the
         * link's own name; links to directories are not followed (the
         * directory is walked under its real name) */
        if (stat(real, &st) == 0 && S_ISREG(st.st_mode) && !excluded(w, rel))
            add_item(w, rel, real, real, &st);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (strcmp(name, ".git") == 0)
            return;
        if (excluded(w, rel))
            return; /* nothing below it is scanned */
        if (depth + 1 > w->opts->limits.walk_max_depth) {
            ms_report_add(r, "SCAN-LIMIT", rel, json_pack("{s:s}", "limit", "directory depth"),
                          "Directory nesting deeper than %u levels; its contents were not "
                          "scanned.",
                          w->opts->limits.walk_max_depth);
            return;
        }
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            ms_report_add(r, "FILE-UNREADABLE", rel, json_pack("{s:s}", "error", strerror(errno)),
                          "The directory could not be opened (%s); its contents were not "
                          "scanned.",
                          strerror(errno));
            return;
        }
        walk_dir(w, fd, rel, depth + 1);
        close(fd);
        return;
    }
    if (!S_ISREG(st.st_mode))
        return; /* sockets, FIFOs, devices: not files a loader reads as a model */
    if (excluded(w, rel))
        return;
    if (w->files_seen++ >= w->opts->limits.walk_max_files) {
        if (!w->limit_reported)
            ms_report_add(r, "SCAN-LIMIT", "Model Repository",
                          json_pack("{s:s}", "limit", "files per scan"),
                          "More than %u files; the remaining files were not scanned.",
                          w->opts->limits.walk_max_files);
        w->limit_reported = true;
        return;
    }
    char *path = ms_strdup_printf("%s/%s", w->root_real, rel);
    if (path)
        add_item(w, rel, path, NULL, &st);
    else
        w->nomem = true;
    free(path);
}

static void walk_dir(walker *w, int dirfd, const char *relprefix, unsigned depth)
{
    int dupfd = dup(dirfd);
    if (dupfd < 0)
        return;
    DIR *dir = fdopendir(dupfd);
    if (!dir) {
        close(dupfd);
        return;
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
            if (!nn)
                break;
            names = nn;
        }
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    closedir(dir);
    if (n > 1)
        qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n; i++) {
        char *rel = *relprefix ? ms_strdup_printf("%s/%s", relprefix, names[i]) : strdup(names[i]);
        if (rel)
            visit(w, dirfd, names[i], rel, depth);
        free(rel);
        free(names[i]);
    }
    free(names);
}

/* A Hugging Face cache entry: models--<org>--<name>/{blobs,refs,snapshots}.
 * Returns true and fills the revision to scan (refs/main, or the only
 * snapshot) when `dir` is one. */
static bool hf_cache_entry(const char *dir, char *rev, size_t revsz)
{
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    if (strncmp(base, "models--", 8) != 0)
        return false;
    char *snap = ms_strdup_printf("%s/snapshots", dir);
    struct stat st;
    bool ok = snap && stat(snap, &st) == 0 && S_ISDIR(st.st_mode);
    free(snap);
    if (!ok)
        return false;
    rev[0] = '\0';
    char *ref = ms_strdup_printf("%s/refs/main", dir);
    FILE *f = ref ? fopen(ref, "r") : NULL;
    free(ref);
    if (f) {
        if (fgets(rev, (int)revsz, f))
            rev[strcspn(rev, "\r\n")] = '\0';
        fclose(f);
    }
    /* a revision is a commit hash: nothing else may reach the path */
    for (const char *c = rev; *c; c++)
        if (!isxdigit((unsigned char)*c))
            rev[0] = '\0';
    return true;
}

/* "models--org--name" -> "org/name" */
static char *hf_repo_id(const char *dir)
{
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    char *id = strdup(base + 8);
    char *sep = id ? strstr(id, "--") : NULL;
    if (sep) {
        *sep = '/';
        memmove(sep + 1, sep + 2, strlen(sep + 2) + 1);
    }
    return id;
}

static ms_status walk_root(walker *w, const char *dir, const char *prefix)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return MS_IO;
    snprintf(w->walked, sizeof(w->walked), "%s", dir);
    walk_dir(w, fd, prefix, 0);
    close(fd);
    return MS_OK;
}

/* The analysis of the files the walk found: each item into its own report,
 * by `jobs` threads taking items in order, merged in item order afterwards,
 * so that the report does not depend on the number of threads. */
typedef struct pool {
    walker *w;
    pthread_mutex_t lock;
    size_t next;
    ms_progress progress;
} pool;

static void analyse_item(const walker *w, work_item *it)
{
    ms_report *r = it->out;
    /* open what the walk saw, never what replaced it since: no link is
     * followed here, and the inode must be the one that was checked */
    int fd = open(it->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        ms_report_add(r, "FILE-UNREADABLE", it->rel, json_pack("{s:s}", "error", strerror(e)),
                      "The file could not be opened (%s); it was not analysed.", strerror(e));
        ms_report_add_file(r, it->rel, (uint64_t)it->st.st_size, "unreadable");
        if (fd >= 0)
            close(fd);
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_dev != it->st.st_dev || st.st_ino != it->st.st_ino) {
        ms_report_add(r, "FILE-UNREADABLE", it->rel, json_pack("{s:s}", "error", "replaced"),
                      "The file was replaced while the folder was being scanned; it was not "
                      "analysed.");
        ms_report_add_file(r, it->rel, (uint64_t)it->st.st_size, "unreadable");
        close(fd);
        return;
    }
    scan_fd(w, r, fd, it->rel, &st, it->real);
    close(fd);
}

static void *pool_worker(void *arg)
{
    pool *p = arg;
    walker *w = p->w;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t i = p->next++;
        if (i < w->nitems && w->opts->progress) {
            p->progress.current = w->items[i].rel;
            w->opts->progress(w->opts->progress_user, &p->progress);
        }
        pthread_mutex_unlock(&p->lock);
        if (i >= w->nitems)
            break;
        work_item *it = &w->items[i];
        it->out = calloc(1, sizeof(*it->out));
        if (it->out)
            analyse_item(w, it);
        pthread_mutex_lock(&p->lock);
        p->progress.files_done++;
        p->progress.bytes_done += (uint64_t)it->st.st_size;
        if (w->opts->progress) {
            p->progress.current = NULL;
            w->opts->progress(w->opts->progress_user, &p->progress);
        }
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

static void analyse_items(walker *w)
{
    pool p;
    memset(&p, 0, sizeof(p));
    p.w = w;
    pthread_mutex_init(&p.lock, NULL);
    p.progress.files_total = w->nitems;
    for (size_t i = 0; i < w->nitems; i++)
        p.progress.bytes_total += (uint64_t)w->items[i].st.st_size;
    unsigned jobs = w->opts->jobs ? w->opts->jobs : 1;
    if (jobs > MS_MAX_JOBS)
        jobs = MS_MAX_JOBS;
    if (jobs > w->nitems)
        jobs = w->nitems ? (unsigned)w->nitems : 1;
    pthread_t threads[MS_MAX_JOBS];
    unsigned started = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* the analysers recurse (nested containers, protobuf, templates): give
     * every thread the stack the main thread has */
    pthread_attr_setstacksize(&attr, (size_t)8 << 20);
    for (unsigned t = 1; t < jobs; t++)
        if (pthread_create(&threads[started], &attr, pool_worker, &p) == 0)
            started++;
    pthread_attr_destroy(&attr);
    pool_worker(&p);
    for (unsigned t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    pthread_mutex_destroy(&p.lock);

    /* merge in item order */
    ms_report *r = w->report;
    for (size_t i = 0; i < w->nitems; i++) {
        work_item *it = &w->items[i];
        ms_report *o = it->out;
        if (!o) {
            ms_report_add(r, "SCAN-LIMIT", it->rel, json_pack("{s:s}", "limit", "memory"),
                          "The analysis of this file ran out of memory; it was not analysed.");
            ms_report_add_file(r, it->rel, (uint64_t)it->st.st_size, "unscanned");
            continue;
        }
        if (!ms_report_absorb(r, o)) {
            ms_report_add(r, "SCAN-LIMIT", it->rel, json_pack("{s:s}", "limit", "memory"),
                          "The findings of this file could not be kept (out of memory).");
        }
        ms_report_free(o);
        it->out = NULL;
    }
}

static void free_items(walker *w)
{
    for (size_t i = 0; i < w->nitems; i++) {
        free(w->items[i].rel);
        free(w->items[i].path);
        free(w->items[i].real);
        ms_report_free(w->items[i].out);
    }
    free(w->items);
    w->items = NULL;
    w->nitems = w->items_cap = 0;
    json_decref(w->excluded);
    w->excluded = NULL;
}

ms_status ms_scan(const ms_options *opts, ms_report **out)
{
    *out = NULL;
    struct stat st;
    if (stat(opts->model_path, &st) != 0)
        return MS_IO;
    ms_manifest *manifest = NULL;
    if (opts->manifest_path) {
        const char *err;
        size_t line;
        manifest = manifest_load(opts->manifest_path, &err, &line);
        if (!manifest) {
            errno = EINVAL;
            return MS_UNSUPPORTED;
        }
    }
    ms_report *r = ms_report_new(opts->model_path);
    if (!r) {
        manifest_free(manifest);
        return MS_NOMEM;
    }
    walker w;
    memset(&w, 0, sizeof(w));
    w.opts = opts;
    w.report = r;
    w.hash_all = manifest != NULL;
    provenance_facts facts = {0};
    char rev[128] = "";
    char *repo_id = NULL;
    ms_status status = MS_OK;
    if (!realpath(opts->model_path, w.root_real)) {
        status = MS_IO;
        goto out;
    }
    memcpy(w.contain_real, w.root_real, sizeof(w.root_real));
    if (S_ISDIR(st.st_mode) && hf_cache_entry(w.root_real, rev, sizeof(rev))) {
        /* scan the snapshot refs/main names (or every snapshot); links into
         * blobs/ stay inside the entry and each blob is checked */
        repo_id = hf_repo_id(w.root_real);
        free(r->model_name);
        r->model_name = strdup(repo_id ? repo_id : "model");
        int bn = snprintf(w.blobs_real, sizeof(w.blobs_real), "%s/blobs", w.root_real);
        if (bn < 0 || (size_t)bn >= sizeof(w.blobs_real))
            w.blobs_real[0] = '\0';
        char entry[PATH_MAX];
        memcpy(entry, w.root_real, sizeof(entry));
        facts.cache_repo = repo_id;
        if (opts->all_snapshots || !rev[0]) {
            int n = snprintf(w.root_real, sizeof(w.root_real), "%s/snapshots", entry);
            status = n > 0 && (size_t)n < sizeof(w.root_real) ? walk_root(&w, w.root_real, "")
                                                              : MS_IO;
            facts.cache_revision = "all snapshots";
            memcpy(w.root_real, entry, sizeof(entry));
        } else {
            int n = snprintf(w.root_real, sizeof(w.root_real), "%s/snapshots/%s", entry, rev);
            if (n < 0 || (size_t)n >= sizeof(w.root_real))
                status = MS_IO;
            else
                status = walk_root(&w, w.root_real, "");
            facts.cache_revision = rev;
            /* the snapshot's model card, a link into blobs/ */
            facts.card_dir = w.walked;
            facts.card_contain = w.contain_real;
            memcpy(w.root_real, entry, sizeof(entry));
        }
        facts.root = NULL; /* a snapshot has no .git; with every snapshot, no one card */
    } else if (S_ISDIR(st.st_mode)) {
        status = walk_root(&w, w.root_real, "");
        facts.root = w.root_real;
    } else if (S_ISREG(st.st_mode)) {
        /* one file: the user named it, links included */
        struct stat rst;
        const char *base = strrchr(w.root_real, '/');
        if (stat(w.root_real, &rst) != 0) {
            status = MS_IO;
            goto out;
        }
        add_item(&w, base ? base + 1 : w.root_real, w.root_real, NULL, &rst);
    } else {
        status = MS_IO;
    }
    if (status != MS_OK)
        goto out;
    if (w.nomem)
        ms_report_add(r, "SCAN-LIMIT", "Model Repository", json_pack("{s:s}", "limit", "memory"),
                      "The list of files to scan ran out of memory; some files were not "
                      "scanned.");
    analyse_items(&w);
    ms_report_resolve_companions(r);
    if (w.nexcluded)
        ms_report_add(r, "SCAN-EXCLUDED", "Model Repository",
                      json_pack("{s:I, s:O}", "count", (json_int_t)w.nexcluded, "paths",
                                w.excluded),
                      "%llu path(s) matched an exclude pattern and were not scanned%s.",
                      (unsigned long long)w.nexcluded,
                      w.nexcluded > 100 ? " (the first 100 are listed)" : "");
    if (S_ISDIR(st.st_mode)) {
        /* the folder the walk walked (a cache entry's snapshot), so that
         * locations match the files' */
        ms_status ds = repo_deps_scan(r, w.walked[0] ? w.walked : w.root_real, w.contain_real,
                                      &opts->limits, opts->advisories_path, opts->excludes,
                                      opts->nexcludes);
        if (ds == MS_NOMEM)
            ms_report_add(r, "SCAN-LIMIT", "Model Repository",
                          json_pack("{s:s}", "limit", "memory"),
                          "The dependency check ran out of memory and is incomplete.");
    }
    if (manifest) {
        manifest_check(r, manifest);
        facts.manifest_checked = true;
        facts.manifest_entries = manifest_count(manifest);
    }
    provenance_report(r, &facts);
    if (opts->policy)
        ms_policy_apply(opts->policy, r, time(NULL));
    ms_report_finish(r);
out:
    free_items(&w);
    manifest_free(manifest);
    free(repo_id);
    if (status != MS_OK) {
        ms_report_free(r);
        return status;
    }
    *out = r;
    return MS_OK;
}

bool ms_manifest_validate(const char *path, char *err, size_t errsz)
{
    const char *why;
    size_t line;
    ms_manifest *m = manifest_load(path, &why, &line);
    if (m) {
        manifest_free(m);
        return true;
    }
    if (line)
        snprintf(err, errsz, "%s (line %zu)", why, line);
    else
        snprintf(err, errsz, "%s", why);
    return false;
}
