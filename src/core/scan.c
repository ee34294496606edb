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
 * safetensors __metadata__ and ONNX metadata_props (GGUF strings and pickle
 * string constants are checked by their analysers). */
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

static ms_status scan_buffer(ms_report *report, const ms_limits *limits, const char *name,
                             const uint8_t *data, size_t len, bool mapped, const char *root)
{
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_scan_ctx ctx = {report, limits, name, 0, &budget, mapped ? data : NULL, NULL, root};
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
    return scan_buffer(report, limits, name, data, len, false, NULL);
}

typedef struct walker {
    const ms_options *opts;
    ms_report *report;
    char root_real[PATH_MAX];   /* what is walked */
    char contain_real[PATH_MAX]; /* where symbolic links may point: the model
                                  * folder, or the whole Hugging Face cache entry */
    char blobs_real[PATH_MAX];   /* <cache entry>/blobs, or "" */
    uint32_t files_seen;
    bool limit_reported;
    bool hash_all; /* a manifest needs every file's sha256 */
} walker;

/* `real` is the resolved path when the file was reached through a link. */
static void scan_fd(walker *w, int fd, const char *rel, const struct stat *st, const char *real)
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
    ms_status s = scan_buffer(r, lim, rel, data, len, map != NULL, w->root_real);
    if (s == MS_NOMEM)
        ms_report_add(r, "SCAN-LIMIT", rel, json_pack("{s:s}", "limit", "memory"),
                      "The analysis of this file ran out of memory and is incomplete.");
    if ((w->opts->hash_files || w->hash_all) && r->nfiles > before)
        sha256_hex(data, len, map != NULL, r->files[before].sha256);
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
            scan_fd(w, fd, rel, &st, real);
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
    scan_fd(w, fd, rel, &st, NULL);
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
    walk_dir(w, fd, prefix, 0);
    close(fd);
    return MS_OK;
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
            memcpy(w.root_real, entry, sizeof(entry));
        }
        facts.root = NULL; /* the snapshot has no .git; the card is checked below */
    } else if (S_ISDIR(st.st_mode)) {
        status = walk_root(&w, w.root_real, "");
        facts.root = w.root_real;
    } else if (S_ISREG(st.st_mode)) {
        int fd = open(w.root_real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            status = MS_IO;
            goto out;
        }
        const char *base = strrchr(w.root_real, '/');
        scan_fd(&w, fd, base ? base + 1 : w.root_real, &st, NULL);
        close(fd);
    } else {
        status = MS_IO;
    }
    if (status != MS_OK)
        goto out;
    if (S_ISDIR(st.st_mode)) {
        ms_status ds = repo_deps_scan(r, w.root_real, &opts->limits, opts->advisories_path);
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
    ms_report_finish(r);
out:
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
