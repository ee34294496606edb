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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "limits.h"
#include "scan_ctx.h"
#include "../formats/format.h"
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

static void sha256_hex(const uint8_t *data, size_t len, bool mapped, char out[65])
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

/* Runs the analyser of data's format (or reports an unanalysed format that
 * can carry code) at ctx->location; returns the detected format. */
static ms_status dispatch(ms_scan_ctx *ctx, const uint8_t *data, size_t len,
                          const ms_format **fmt_out)
{
    const ms_format *fmt = ms_detect_format(data, len);
    *fmt_out = fmt;
    if (fmt->scan)
        return fmt->scan(ctx, data, len);
    if (fmt->may_carry_code)
        ms_report_add(ctx->report, "FORMAT-NOT-ANALYSED", ctx->location,
                      json_pack("{s:s}", "format", fmt->name),
                      "The file is in %s format (detected from its content). This version of the "
                      "scanner recognises the format but does not analyse its contents, which "
                      "can carry code or hide pickles.",
                      fmt->name);
    return MS_OK;
}

static ms_status scan_buffer(ms_report *report, const ms_limits *limits, const char *name,
                             const uint8_t *data, size_t len, bool mapped)
{
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_scan_ctx ctx = {report, limits, name, 0, &budget, mapped ? data : NULL, NULL};
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
    st = dispatch(&child, data, len, &fmt);
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
    return scan_buffer(report, limits, name, data, len, false);
}

typedef struct walker {
    const ms_options *opts;
    ms_report *report;
    char root_real[PATH_MAX];
    uint32_t files_seen;
    bool limit_reported;
} walker;

static void scan_fd(walker *w, int fd, const char *rel, const struct stat *st)
{
    ms_report *r = w->report;
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
    ms_status s = scan_buffer(r, lim, rel, data, len, map != NULL);
    if (s == MS_NOMEM)
        ms_report_add(r, "SCAN-LIMIT", rel, json_pack("{s:s}", "limit", "memory"),
                      "The analysis of this file ran out of memory and is incomplete.");
    if (w->opts->hash_files && r->nfiles > before)
        sha256_hex(data, len, map != NULL, r->files[before].sha256);
    if (map)
        munmap(map, len);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool inside_root(const walker *w, const char *real)
{
    size_t n = strlen(w->root_real);
    if (strcmp(w->root_real, "/") == 0)
        return true;
    return strncmp(real, w->root_real, n) == 0 && (real[n] == '\0' || real[n] == '/');
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
        int fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            scan_fd(w, fd, rel, &st);
        close(fd);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (strcmp(name, ".git") == 0)
            return;
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
    if (w->files_seen++ >= w->opts->limits.walk_max_files) {
        if (!w->limit_reported)
            ms_report_add(r, "SCAN-LIMIT", "Model Repository",
                          json_pack("{s:s}", "limit", "files per scan"),
                          "More than %u files; the remaining files were not scanned.",
                          w->opts->limits.walk_max_files);
        w->limit_reported = true;
        return;
    }
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        ms_report_add(r, "FILE-UNREADABLE", rel, json_pack("{s:s}", "error", strerror(errno)),
                      "The file could not be opened (%s); it was not analysed.", strerror(errno));
        ms_report_add_file(r, rel, (uint64_t)st.st_size, "unreadable");
        return;
    }
    scan_fd(w, fd, rel, &st);
    close(fd);
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

/* What can be said about where the files came from. */
static void report_provenance(walker *w, bool is_dir)
{
    ms_report *r = w->report;
    json_t *d = json_object();
    bool git = false;
    if (is_dir) {
        char *head = ms_strdup_printf("%s/.git/HEAD", w->root_real);
        struct stat st;
        git = head && stat(head, &st) == 0;
        free(head);
    }
    json_object_set_new(d, "git_metadata", json_boolean(git));
    json_object_set_new(d, "hash_manifest", json_false());
    json_object_set_new(d, "signature", json_false());
    ms_report_add(r, "PROVENANCE-UNVERIFIED", "Model Repository", d,
                  "The origin of these files cannot be verified: %s, no hash manifest was "
                  "supplied and no signature was found.",
                  git ? "a .git folder is present but its commit was not checked against the "
                        "publisher's"
                      : "no git metadata or pinned revision is present");
}

ms_status ms_scan(const ms_options *opts, ms_report **out)
{
    *out = NULL;
    struct stat st;
    if (stat(opts->model_path, &st) != 0)
        return MS_IO;
    ms_report *r = ms_report_new(opts->model_path);
    if (!r)
        return MS_NOMEM;
    walker w;
    memset(&w, 0, sizeof(w));
    w.opts = opts;
    w.report = r;
    if (!realpath(opts->model_path, w.root_real)) {
        ms_report_free(r);
        return MS_IO;
    }
    if (S_ISDIR(st.st_mode)) {
        int fd = open(w.root_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            ms_report_free(r);
            return MS_IO;
        }
        walk_dir(&w, fd, "", 0);
        close(fd);
    } else if (S_ISREG(st.st_mode)) {
        int fd = open(w.root_real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            ms_report_free(r);
            return MS_IO;
        }
        const char *base = strrchr(w.root_real, '/');
        scan_fd(&w, fd, base ? base + 1 : w.root_real, &st);
        close(fd);
    } else {
        ms_report_free(r);
        return MS_IO;
    }
    report_provenance(&w, S_ISDIR(st.st_mode));
    ms_report_finish(r);
    *out = r;
    return MS_OK;
}
