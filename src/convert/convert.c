/*
 * convert.c - ms_convert(): PyTorch checkpoints in, safetensors out, nothing
 * executed.
 *
 *   INPUT (file | folder)
 *     -> jobs: (input, output) pairs; a folder converts pytorch_model.bin,
 *        adapter_model.bin and the shards its pytorch_model.bin.index.json
 *        names, each beside itself under Hugging Face's names
 *     -> outputs that exist stop everything unless --force
 *     -> per job: map the file read-only; gate 1, the scanner's analysis of
 *        the file (ms_scan_buffer): only PICKLE-INSECURE-FORMAT may be
 *        reported; gate 2, the restricted evaluator's plan (checkpoint.c);
 *        the sha256 of the file
 *     -> per job: write <dir>/.<output>.convert-XXXXXX: the header, then each
 *        tensor's bytes copied in CHUNK-sized pieces (views and strided
 *        tensors gathered element by element, big-endian sources swapped);
 *        fsync; gate 3, the scanner's analysis of the new file: no finding
 *     -> commit every output (renameat2 RENAME_NOREPLACE, or rename with
 *        --force), then model.safetensors.index.json the same way
 *   Any refusal or error removes the temporary files: nothing is written.
 *
 * Memory stays flat whatever the size of the weights: the input is a file
 * mapping whose pages are released behind the copy (ms_release_pages), the
 * output goes through one CHUNK buffer, and the sha256 reads the mapping in
 * chunks the same way.
 *
 * Safetensors layout written: 8-byte little-endian header length, the JSON
 * header padded with spaces to a multiple of 8, then the tensors back to
 * back, largest element size first (then by name) so each is aligned to its
 * element size; __metadata__ holds format=pt, source_sha256, converted_by
 * and, like Hugging Face's convert script, one "<dropped>": "<kept>" entry
 * per tensor dropped because it shares storage with a kept one.
 */
#define _GNU_SOURCE
#include "ms_convert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>


#include "../core/scan_ctx.h"
#include "../formats/safetensors/safetensors_scan.h"
#include "../util/checked.h"
#include "../util/strbuf.h"
#include "checkpoint.h"

enum {
    CHUNK = 1 << 20,             /* bytes copied per write */
    RELEASE_EVERY = 64 << 20,    /* strided gathers: release the storage's pages this often */
};

static const char *const allowed_rule = "PICKLE-INSECURE-FORMAT";

typedef struct job {
    char *input;   /* path opened */
    char *display; /* the name findings are reported under */
    char *output;
    char *tmp; /* while written */
    const uint8_t *map;
    size_t len;
    mode_t mode;
    char sha256[65];
    cp_plan plan;
    bool planned;
} job;

typedef struct convert_run {
    const ms_convert_options *opts;
    ms_convert_result *res;
    job *jobs;
    size_t njobs, capjobs;
    json_t *index;   /* pytorch_model.bin.index.json, parsed, or NULL */
    char *index_out; /* model.safetensors.index.json path */
    char *index_tmp; /* while written */
} convert_run;

void ms_convert_options_default(ms_convert_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    ms_limits_default(&opts->limits);
}

static void set_message(ms_convert_result *res, ms_convert_verdict v, const char *location,
                        char *message)
{
    res->verdict = v;
    free(res->message);
    res->message = message ? message : ms_strdup_printf("out of memory");
    free(res->location);
    res->location = location ? ms_strdup_printf("%s", location) : NULL;
}

static ms_convert_verdict failed(convert_run *run, const char *fmt, ...) MS_PRINTF(2, 3);
static ms_convert_verdict failed(convert_run *run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = ms_strdup_vprintf(8192, fmt, ap);
    va_end(ap);
    set_message(run->res, MS_CONVERT_FAILED, NULL, message);
    return MS_CONVERT_FAILED;
}

/* ------------------------------------------------------------------ */
/* names */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ms_strdup_printf(".");
    if (slash == path)
        return ms_strdup_printf("/");
    return ms_strdup_printf("%.*s", (int)(slash - path), path);
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Hugging Face's name for the converted file: the extension becomes
 * .safetensors and "pytorch_model" becomes "model" (pytorch_model.bin ->
 * model.safetensors, pytorch_model-00001-of-00002.bin ->
 * model-00001-of-00002.safetensors). */
static char *rename_base(const char *base)
{
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    ms_strbuf sb;
    ms_strbuf_init(&sb, 8192);
    for (size_t i = 0; i < stem;) {
        if (stem - i >= 13 && memcmp(base + i, "pytorch_model", 13) == 0) {
            ms_strbuf_puts(&sb, "model");
            i += 13;
        } else {
            ms_strbuf_append(&sb, base + i, 1);
            i++;
        }
    }
    ms_strbuf_puts(&sb, ".safetensors");
    if (sb.truncated) {
        ms_strbuf_free(&sb);
        return NULL;
    }
    return ms_strbuf_take(&sb);
}

static char *join(const char *dir, const char *name)
{
    return ms_strdup_printf("%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/",
                            name);
}

static bool add_job(convert_run *run, char *input, char *display, char *output)
{
    if (!input || !display || !output)
        goto fail;
    for (size_t i = 0; i < run->njobs; i++) {
        if (strcmp(run->jobs[i].input, input) == 0) { /* a shard listed twice */
            free(input);
            free(display);
            free(output);
            return true;
        }
    }
    if (run->njobs == run->capjobs) {
        size_t cap = run->capjobs ? run->capjobs * 2 : 8;
        job *j = realloc(run->jobs, cap * sizeof(*j));
        if (!j)
            goto fail;
        run->jobs = j;
        run->capjobs = cap;
    }
    job *j = &run->jobs[run->njobs++];
    memset(j, 0, sizeof(*j));
    j->input = input;
    j->display = display;
    j->output = output;
    return true;
fail:
    free(input);
    free(display);
    free(output);
    return false;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A shard name an index may give: a plain file name in the folder. */
static bool plain_file_name(const char *name)
{
    return name[0] && name[0] != '.' && !strchr(name, '/') && !strchr(name, '\\');
}

static ms_convert_verdict folder_jobs(convert_run *run, const char *folder)
{
    char *index_path = join(folder, "pytorch_model.bin.index.json");
    if (!index_path)
        return failed(run, "out of memory");
    if (exists(index_path)) {
        json_error_t err;
        run->index = json_load_file(index_path, JSON_REJECT_DUPLICATES, &err);
        json_t *map = json_object_get(run->index, "weight_map");
        if (!run->index || !json_is_object(map)) {
            ms_convert_verdict v =
                failed(run, "cannot read '%s': %s", index_path,
                       run->index ? "it has no \"weight_map\" object" : err.text);
            free(index_path);
            return v;
        }
        const char *k;
        json_t *file;
        json_object_foreach(map, k, file) {
            const char *name = json_string_value(file);
            if (!name || !plain_file_name(name)) {
                ms_convert_verdict v = failed(
                    run, "'%s' maps '%s' to something other than a file name in the folder",
                    index_path, k);
                free(index_path);
                return v;
            }
            char *out = rename_base(name);
            bool added = out && add_job(run, join(folder, name), ms_strdup_printf("%s", name),
                                        join(folder, out));
            free(out);
            if (!added) {
                free(index_path);
                return failed(run, "out of memory");
            }
        }
        run->index_out = join(folder, "model.safetensors.index.json");
        if (!run->index_out) {
            free(index_path);
            return failed(run, "out of memory");
        }
    }
    free(index_path);
    static const char *const singles[] = {"pytorch_model.bin", "adapter_model.bin"};
    for (size_t i = 0; i < 2; i++) {
        char *path = join(folder, singles[i]);
        if (path && exists(path)) {
            char *out = rename_base(singles[i]);
            if (!add_job(run, path, ms_strdup_printf("%s", singles[i]),
                         out ? join(folder, out) : NULL)) {
                free(out);
                return failed(run, "out of memory");
            }
            free(out);
        } else {
            free(path);
        }
    }
    if (!run->njobs)
        return failed(run, "'%s' holds no pytorch_model.bin, pytorch_model.bin.index.json or "
                           "adapter_model.bin to convert",
                      folder);
    return MS_CONVERT_DONE;
}

/* ------------------------------------------------------------------ */
/* gate 1: the scanner */

static ms_convert_verdict gate_scan(convert_run *run, job *j)
{
    ms_report *r = ms_report_new(j->display);
    if (!r)
        return failed(run, "out of memory");
    ms_status st = ms_scan_buffer(r, &run->opts->limits, j->display, j->map, j->len);
    ms_release_pages(j->map, j->len);
    if (st == MS_NOMEM) {
        ms_report_free(r);
        return failed(run, "out of memory while scanning '%s'", j->input);
    }
    size_t other = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        other += strcmp(r->findings[i].rule_id, allowed_rule) != 0;
    if (!other) {
        ms_report_free(r);
        return MS_CONVERT_DONE;
    }
    ms_report_finish(r);
    run->res->findings = r;
    set_message(run->res, MS_CONVERT_REFUSED, j->display,
                ms_strdup_printf("the scan of '%s' reports %zu finding(s) besides the pickle "
                                 "format itself (%s)",
                                 j->input, other, allowed_rule));
    return MS_CONVERT_REFUSED;
}

/* ------------------------------------------------------------------ */
/* reading the input */

static ms_convert_verdict map_input(convert_run *run, job *j)
{
    int fd = open(j->input, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = fd < 0 ? errno : EINVAL;
        if (fd >= 0)
            close(fd);
        return failed(run, "cannot read '%s': %s", j->input,
                      e == EINVAL ? "not a regular file" : strerror(e));
    }
    if (st.st_size == 0 || (uint64_t)st.st_size > run->opts->limits.max_file_bytes) {
        close(fd);
        if (st.st_size == 0) {
            set_message(run->res, MS_CONVERT_REFUSED, j->display,
                        ms_strdup_printf("'%s' is empty", j->input));
            return MS_CONVERT_REFUSED;
        }
        return failed(run, "'%s' is larger than the %llu-byte file limit", j->input,
                      (unsigned long long)run->opts->limits.max_file_bytes);
    }
    j->len = (size_t)st.st_size;
    j->mode = st.st_mode;
    void *m = mmap(NULL, j->len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        j->len = 0;
        return failed(run, "cannot map '%s': %s", j->input, strerror(e));
    }
    j->map = m;
    return MS_CONVERT_DONE;
}

/* ------------------------------------------------------------------ */
/* writing */

typedef struct writer {
    int fd;
    uint8_t *buf;
    size_t used;
    unsigned swap; /* byte-swap unit of what is put, 1 for none */
    uint64_t since_release;
    bool error;
    int err;
} writer;

static void w_raw(writer *w, const uint8_t *p, size_t n)
{
    while (!w->error && n) {
        ssize_t r = write(w->fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            w->error = true;
            w->err = r < 0 ? errno : EIO;
            return;
        }
        p += r;
        n -= (size_t)r;
    }
}

static void w_flush(writer *w)
{
    w_raw(w, w->buf, w->used);
    w->used = 0;
}

static void swap_bytes(uint8_t *p, size_t n, unsigned unit)
{
    for (size_t i = 0; i + unit <= n; i += unit)
        for (unsigned a = 0, b = unit - 1; a < b; a++, b--) {
            uint8_t t = p[i + a];
            p[i + a] = p[i + b];
            p[i + b] = t;
        }
}

/* Appends n bytes (whole elements) through the buffer. */
static void w_put(writer *w, const uint8_t *p, size_t n)
{
    while (n && !w->error) {
        size_t room = CHUNK - w->used, k = n < room ? n : room;
        memcpy(w->buf + w->used, p, k);
        if (w->swap > 1)
            swap_bytes(w->buf + w->used, k, w->swap);
        w->used += k;
        p += k;
        n -= k;
        if (w->used == CHUNK)
            w_flush(w);
    }
}

static void write_tensor(writer *w, const cp_plan *p, const cp_tensor *ct)
{
    const te_tensor *t = ct->t;
    const te_dtype *dt = te_dtype_info(t->dtype);
    const uint8_t *base = cp_storage_base(p, ct);
    w->swap = p->big_endian ? dt->swap : 1;
    if (!t->numel)
        return;
    if (ct->contiguous) {
        const uint8_t *src = base + ct->begin;
        for (uint64_t left = ct->nbytes; left && !w->error;) {
            size_t n = left < CHUNK ? (size_t)left : CHUNK;
            if (w->swap > 1) {
                w_put(w, src, n);
            } else {
                w_flush(w);
                w_raw(w, src, n);
            }
            ms_release_pages(src, n);
            src += n;
            left -= n;
        }
        w_flush(w);
        return;
    }
    /* strided: rows of the last dimension, in row-major order */
    uint64_t es = dt->size, idx[TE_MAX_DIMS] = {0};
    unsigned inner = t->ndim ? t->ndim - 1 : 0;
    uint64_t run = t->ndim ? t->shape[inner] : 1, step = t->ndim ? t->stride[inner] * es : es;
    uint64_t rows = t->numel / run;
    for (uint64_t r = 0; r < rows && !w->error; r++) {
        uint64_t off = t->byte_offset;
        for (unsigned d = 0; d < inner; d++)
            off += idx[d] * t->stride[d] * es;
        if (step == es) {
            w_put(w, base + off, (size_t)(run * es));
        } else {
            for (uint64_t k = 0; k < run; k++)
                w_put(w, base + off + k * step, (size_t)es);
        }
        w->since_release += run * es;
        if (w->since_release >= RELEASE_EVERY) {
            ms_release_pages(base + ct->begin, (size_t)(ct->end - ct->begin));
            w->since_release = 0;
        }
        for (unsigned d = inner; d-- > 0;) {
            if (++idx[d] < t->shape[d])
                break;
            idx[d] = 0;
        }
    }
    w_flush(w);
    ms_release_pages(base + ct->begin, (size_t)(ct->end - ct->begin));
}

/* The header: __metadata__ then each kept tensor, in data order. */
static char *make_header(const job *j, size_t *len)
{
    const cp_plan *p = &j->plan;
    json_t *hdr = json_object(), *meta = json_object();
    char *text = NULL;
    if (!hdr || !meta)
        goto out;
    json_object_set_new(meta, "format", json_string("pt"));
    json_object_set_new(meta, "source_sha256", json_string(j->sha256));
    json_object_set_new(meta, "converted_by", json_string("model-scanner " MS_VERSION));
    for (size_t i = 0; i < p->ntied; i++)
        if (!json_object_get(meta, p->tied[i].name))
            json_object_set_new(meta, p->tied[i].name, json_string(p->tied[i].detail));
    json_object_set(hdr, "__metadata__", meta);
    for (size_t i = 0; i < p->nkept; i++) {
        const cp_tensor *ct = &p->tensors[i];
        json_t *shape = json_array();
        for (unsigned d = 0; shape && d < ct->t->ndim; d++)
            json_array_append_new(shape, json_integer((json_int_t)ct->t->shape[d]));
        json_t *e = json_pack("{s:s, s:o, s:[I, I]}", "dtype",
                              te_dtype_info(ct->t->dtype)->safetensors, "shape", shape,
                              "data_offsets", (json_int_t)ct->out_offset,
                              (json_int_t)(ct->out_offset + ct->nbytes));
        if (!e || json_object_set_new(hdr, ct->name, e) != 0)
            goto out;
    }
    text = json_dumps(hdr, JSON_COMPACT);
    if (!text)
        goto out;
    size_t n = strlen(text), padded = (n + 7) / 8 * 8;
    char *t2 = realloc(text, padded + 1);
    if (!t2) {
        free(text);
        text = NULL;
        goto out;
    }
    text = t2;
    memset(text + n, ' ', padded - n);
    text[padded] = '\0';
    *len = padded;
out:
    json_decref(meta);
    json_decref(hdr);
    return text;
}

static int make_temp(const char *final, char **tmp_out)
{
    char *dir = dir_of(final);
    char *tmp = dir ? ms_strdup_printf("%s/.%s.convert-XXXXXX", dir, base_of(final)) : NULL;
    free(dir);
    if (!tmp)
        return -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    *tmp_out = tmp;
    return fd;
}

static bool finish_fd(int fd, mode_t mode, int *err)
{
    bool ok = fchmod(fd, mode) == 0 && fsync(fd) == 0;
    if (!ok)
        *err = errno;
    if (close(fd) != 0 && ok) {
        *err = errno;
        ok = false;
    }
    return ok;
}

/* Gate 3: the scanner's own analysis of what was written finds nothing. */
static ms_convert_verdict check_output(convert_run *run, job *j)
{
    int fd = open(j->tmp, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 8) {
        if (fd >= 0)
            close(fd);
        return failed(run, "cannot read back '%s'", j->tmp);
    }
    size_t len = (size_t)st.st_size;
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return failed(run, "cannot map '%s': %s", j->tmp, strerror(errno));
    const char *name = base_of(j->output);
    ms_report *r = ms_report_new(name);
    ms_status s = r ? ms_scan_buffer(r, &run->opts->limits, name, m, len) : MS_NOMEM;
    bool clean = s == MS_OK && r->nfindings == 0 && r->nfiles == 1 &&
                 strcmp(r->files[0].format, "safetensors") == 0;
    munmap(m, len);
    if (clean) {
        ms_report_free(r);
        return MS_CONVERT_DONE;
    }
    if (r)
        ms_report_finish(r);
    run->res->findings = r;
    return failed(run, "the safetensors file written for '%s' does not pass the scanner's "
                       "checks (a bug; nothing was kept)",
                  j->input);
}

static ms_convert_verdict write_output(convert_run *run, job *j)
{
    size_t hlen = 0;
    char *header = make_header(j, &hlen);
    if (!header)
        return failed(run, "out of memory");
    if (hlen > SAFETENSORS_MAX_HEADER) {
        free(header);
        set_message(run->res, MS_CONVERT_REFUSED, j->display,
                    ms_strdup_printf("the safetensors header would be %zu bytes, above the "
                                     "%llu-byte limit of the reference loader",
                                     hlen, SAFETENSORS_MAX_HEADER));
        return MS_CONVERT_REFUSED;
    }
    writer w = {.fd = -1, .swap = 1};
    w.buf = malloc(CHUNK);
    w.fd = w.buf ? make_temp(j->output, &j->tmp) : -1;
    if (w.fd < 0) {
        const char *why = w.buf ? strerror(errno) : "out of memory";
        free(header);
        free(w.buf);
        return failed(run, "cannot create a file beside '%s': %s", j->output, why);
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    w_raw(&w, len8, 8);
    w_raw(&w, (const uint8_t *)header, hlen);
    free(header);
    for (size_t i = 0; i < j->plan.nkept && !w.error; i++)
        write_tensor(&w, &j->plan, &j->plan.tensors[i]);
    w_flush(&w);
    free(w.buf);
    int err = w.err;
    bool ok = !w.error;
    ok = finish_fd(w.fd, (j->mode & 0644) | 0600, &err) && ok;
    if (!ok)
        return failed(run, "writing '%s' failed: %s", j->tmp, strerror(err));
    return check_output(run, j);
}

/* Moves tmp to final; without force, never replaces an existing file. */
static bool commit(const char *tmp, const char *final, bool force, int *err)
{
    int r;
    if (force) {
        r = rename(tmp, final);
    } else {
        r = renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE);
        if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* a file system without RENAME_NOREPLACE: a hard link fails if
             * the name exists */
            r = link(tmp, final);
            if (r == 0)
                unlink(tmp);
        }
    }
    if (r != 0)
        *err = errno;
    return r == 0;
}

static void sync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

static ms_convert_verdict write_index(convert_run *run)
{
    json_t *doc = json_deep_copy(run->index);
    json_t *map = json_object_get(doc, "weight_map");
    const char *k;
    json_t *file;
    json_object_foreach(map, k, file) {
        char *renamed = rename_base(json_string_value(file));
        if (!renamed || json_object_set_new(map, k, json_string(renamed)) != 0) {
            free(renamed);
            json_decref(doc);
            return failed(run, "out of memory");
        }
        free(renamed);
    }
    char *text = doc ? json_dumps(doc, JSON_INDENT(4)) : NULL;
    json_decref(doc);
    if (!text)
        return failed(run, "out of memory");
    int fd = make_temp(run->index_out, &run->index_tmp), err = 0;
    if (fd < 0) {
        const char *why = strerror(errno);
        free(text);
        return failed(run, "cannot create a file beside '%s': %s", run->index_out, why);
    }
    writer w = {.fd = fd, .swap = 1};
    w_raw(&w, (const uint8_t *)text, strlen(text));
    free(text);
    err = w.err;
    bool ok = finish_fd(fd, 0644, &err) && !w.error;
    if (!ok)
        return failed(run, "writing '%s' failed: %s", run->index_tmp, strerror(err));
    return MS_CONVERT_DONE;
}

/* ------------------------------------------------------------------ */

static ms_convert_verdict check_outputs(convert_run *run)
{
    for (size_t i = 0; i < run->njobs; i++) {
        job *j = &run->jobs[i];
        struct stat in, out;
        if (stat(j->output, &out) == 0 && stat(j->input, &in) == 0 && in.st_dev == out.st_dev &&
            in.st_ino == out.st_ino)
            return failed(run, "the output '%s' is the input itself", j->output);
        for (size_t k = 0; k < i; k++)
            if (strcmp(run->jobs[k].output, j->output) == 0)
                return failed(run, "'%s' and '%s' would both be written to '%s'",
                              run->jobs[k].input, j->input, j->output);
        if (!run->opts->force && exists(j->output))
            return failed(run, "'%s' exists; --force replaces it", j->output);
    }
    if (run->index_out && !run->opts->force && exists(run->index_out))
        return failed(run, "'%s' exists; --force replaces it", run->index_out);
    return MS_CONVERT_DONE;
}

static ms_convert_verdict plan_job(convert_run *run, job *j)
{
    ms_convert_verdict v = map_input(run, j);
    if (v == MS_CONVERT_DONE)
        v = gate_scan(run, j);
    if (v != MS_CONVERT_DONE)
        return v;
    j->planned = true;
    v = cp_plan_build(&j->plan, j->map, j->len, run->opts);
    if (v != MS_CONVERT_DONE) {
        char *loc = j->plan.member ? ms_strdup_printf("%s!%s", j->display, j->plan.member)
                                   : ms_strdup_printf("%s", j->display);
        set_message(run->res, v, loc, j->plan.message);
        j->plan.message = NULL;
        free(loc);
        return v;
    }
    ms_sha256_hex(j->map, j->len, true, j->sha256);
    if (!j->sha256[0])
        return failed(run, "cannot compute the sha256 of '%s'", j->input);
    return MS_CONVERT_DONE;
}

static void fill_item(ms_convert_item *it, job *j)
{
    cp_plan *p = &j->plan;
    it->input = j->input;
    it->output = j->output;
    j->input = j->output = NULL;
    memcpy(it->sha256, j->sha256, sizeof(it->sha256));
    it->container = p->zip ? "pytorch-zip" : "pytorch-legacy";
    it->ntensors = p->nkept;
    it->tensor_bytes = p->data_bytes;
    it->nmaterialised = p->nmaterialised;
    it->big_endian = p->big_endian;
    it->tied = p->tied;
    it->ntied = p->ntied;
    it->dropped = p->dropped;
    it->ndropped = p->ndropped;
    p->tied = p->dropped = NULL;
    p->ntied = p->ndropped = 0;
}

static void run_free(convert_run *run)
{
    for (size_t i = 0; i < run->njobs; i++) {
        job *j = &run->jobs[i];
        if (j->tmp) {
            unlink(j->tmp);
            free(j->tmp);
        }
        if (j->map)
            munmap((void *)j->map, j->len);
        if (j->planned)
            cp_plan_free(&j->plan);
        free(j->input);
        free(j->display);
        free(j->output);
    }
    free(run->jobs);
    if (run->index_tmp) {
        unlink(run->index_tmp);
        free(run->index_tmp);
    }
    free(run->index_out);
    json_decref(run->index);
}

static ms_convert_verdict convert_all(convert_run *run, const char *input, const char *output)
{
    struct stat st;
    if (stat(input, &st) != 0)
        return failed(run, "cannot read '%s': %s", input, strerror(errno));
    ms_convert_verdict v;
    if (S_ISDIR(st.st_mode)) {
        if (output)
            return failed(run, "OUTPUT cannot be given for a folder: each file is converted "
                               "beside itself");
        v = folder_jobs(run, input);
    } else if (S_ISREG(st.st_mode)) {
        char *dir = dir_of(input), *out = NULL;
        if (output) {
            out = ms_strdup_printf("%s", output);
        } else {
            char *b = rename_base(base_of(input));
            /* beside the input, named the way the input was */
            out = b && dir ? (strchr(input, '/') ? join(dir, b) : ms_strdup_printf("%s", b))
                           : NULL;
            free(b);
        }
        free(dir);
        v = add_job(run, ms_strdup_printf("%s", input), ms_strdup_printf("%s", base_of(input)),
                    out)
                ? MS_CONVERT_DONE
                : failed(run, "out of memory");
    } else {
        return failed(run, "'%s' is neither a file nor a folder", input);
    }
    if (v == MS_CONVERT_DONE)
        v = check_outputs(run);
    for (size_t i = 0; i < run->njobs && v == MS_CONVERT_DONE; i++)
        v = plan_job(run, &run->jobs[i]);
    for (size_t i = 0; i < run->njobs && v == MS_CONVERT_DONE; i++)
        v = write_output(run, &run->jobs[i]);
    if (v == MS_CONVERT_DONE && run->index)
        v = write_index(run);
    if (v != MS_CONVERT_DONE)
        return v;
    /* commit: every output, then the index that names them */
    for (size_t i = 0; i < run->njobs; i++) {
        job *j = &run->jobs[i];
        int err = 0;
        if (!commit(j->tmp, j->output, run->opts->force, &err)) {
            /* outputs committed before this one stay: say so */
            return failed(run, "cannot move '%s' to '%s': %s%s", j->tmp, j->output,
                          err == EEXIST ? "it appeared meanwhile" : strerror(err),
                          i ? " (the outputs before it were written)" : "");
        }
        free(j->tmp);
        j->tmp = NULL;
        sync_dir(j->output);
    }
    if (run->index) {
        int err = 0;
        if (!commit(run->index_tmp, run->index_out, run->opts->force, &err))
            return failed(run, "cannot move '%s' to '%s': %s", run->index_tmp, run->index_out,
                          strerror(err));
        free(run->index_tmp);
        run->index_tmp = NULL;
        sync_dir(run->index_out);
        run->res->index_output = run->index_out;
        run->index_out = NULL;
    }
    run->res->items = calloc(run->njobs, sizeof(*run->res->items));
    if (!run->res->items)
        return failed(run, "out of memory (the outputs were written)");
    for (size_t i = 0; i < run->njobs; i++)
        fill_item(&run->res->items[run->res->nitems++], &run->jobs[i]);
    return MS_CONVERT_DONE;
}

ms_status ms_convert(const char *input, const char *output, const ms_convert_options *opts,
                     ms_convert_result **out)
{
    ms_convert_result *res = calloc(1, sizeof(*res));
    if (!res)
        return MS_NOMEM;
    convert_run run;
    memset(&run, 0, sizeof(run));
    run.opts = opts;
    run.res = res;
    res->verdict = convert_all(&run, input, output);
    run_free(&run);
    *out = res;
    return MS_OK;
}

void ms_convert_result_free(ms_convert_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->nitems; i++) {
        ms_convert_item *it = &res->items[i];
        free(it->input);
        free(it->output);
        cp_notes_free(it->tied, it->ntied);
        cp_notes_free(it->dropped, it->ndropped);
    }
    free(res->items);
    free(res->message);
    free(res->location);
    free(res->index_output);
    ms_report_free(res->findings);
    free(res);
}

/* A plan built and thrown away: only its verdict and message are kept. */
static ms_convert_verdict check_with(ms_convert_verdict (*plan)(cp_plan *, const uint8_t *,
                                                                size_t, const ms_convert_options *),
                                     const uint8_t *data, size_t len,
                                     const ms_convert_options *opts, char **message)
{
    cp_plan p;
    ms_convert_verdict v = plan(&p, data, len, opts);
    *message = p.message;
    p.message = NULL;
    cp_plan_free(&p);
    return v;
}

ms_convert_verdict ms_convert_check_buffer(const uint8_t *data, size_t len,
                                           const ms_convert_options *opts, char **message)
{
    return check_with(cp_plan_build, data, len, opts, message);
}

ms_convert_verdict ms_convert_check_pickle(const uint8_t *data, size_t len,
                                           const ms_convert_options *opts, char **message)
{
    return check_with(cp_plan_pickle, data, len, opts, message);
}
