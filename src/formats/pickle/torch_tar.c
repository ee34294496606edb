/*
 * torch_tar.c - the pre-1.0 PyTorch checkpoint (torch.save before 0.4 wrote
 * it; torch.load still reads it: torch/serialization.py, _legacy_load ->
 * legacy_load, tried first on every file that is not a ZIP).
 *
 *   tar (pax), members looked up by exact name
 *   +----------+---------------------------------------------------------------+
 *   | sys_info | pickle {protocol_version, little_endian, type_sizes}  (unread) |
 *   | pickle   | the object; tensors and storages are persistent ids str(key)  |
 *   | tensors  | pickle count                                                  |
 *   |          | count x [ pickle (key, storage key, tensor type)              |
 *   |          |           i32 ndim | 4 bytes | i64 size[ndim] | i64 stride[ndim]
 *   |          |           | i64 storage offset ]                              |
 *   | storages | pickle count                                                  |
 *   |          | count x [ pickle (key, location, storage type)                |
 *   |          |           i64 elements | elements x element size bytes ]      |
 *   |          | pickle [(view key, root key, offset, elements), ...]          |
 *   +----------+---------------------------------------------------------------+
 *   integers little-endian; the element size comes from the storage class
 *   (torch.FloatStorage 4, torch.LongStorage 8 ...).
 *
 * There is no specification beyond torch's reader, which is followed here.
 * Read by hand with the bounded cursor: the pickles go to the pickle
 * analyser one at a time (legacy_load unpickles every one of them with the
 * full unpickler, before the object pickle), the raw bytes between them are
 * skipped exactly by the counts in front of them, with checked arithmetic.
 * Anything that does not fit (a count that is not one, a record that is not
 * a triple, a storage type of unknown element size, raw data past the end of
 * the member) is reported and ends the walk: past it, nothing can be
 * delimited. Bytes after the last pickle are reported too (a pickle there is
 * analysed as well). "sys_info" and "pickle" are plain pickles, analysed by
 * content like any tar member.
 */
#include "torch_tar.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../codec/pickle_vm.h"
#include "../../util/checked.h"
#include "../../util/cursor.h"
#include "../../util/strbuf.h"
#include "pickle_scan.h"

enum { TIME_CHECK_EVERY = 256 }; /* records between checks of the time limit */

typedef struct walk {
    ms_scan_ctx *ctx;
    pickle_session *s;
    const char *member; /* "storages" or "tensors" */
    ms_cursor cur;
    bool stopped;
} walk;

unsigned torch_tar_member_bit(const char *name)
{
    if (strcmp(name, "pickle") == 0)
        return TORCH_TAR_PICKLE;
    if (strcmp(name, "tensors") == 0)
        return TORCH_TAR_TENSORS;
    if (strcmp(name, "storages") == 0)
        return TORCH_TAR_STORAGES;
    return 0;
}

ms_scan_fn torch_tar_member_scan(const char *name)
{
    unsigned bit = torch_tar_member_bit(name);
    return bit == TORCH_TAR_STORAGES  ? torch_tar_scan_storages
           : bit == TORCH_TAR_TENSORS ? torch_tar_scan_tensors
                                      : NULL;
}

static void broken(walk *w, size_t at, const char *fmt, ...) MS_PRINTF(3, 4);

static void broken(walk *w, size_t at, const char *fmt, ...)
{
    w->stopped = true;
    va_list ap;
    va_start(ap, fmt);
    char *text = ms_strdup_vprintf(1024, fmt, ap);
    va_end(ap);
    const char *problem = text ? text : "";
    ms_report_add(w->ctx->report, "PICKLE-MALFORMED", w->ctx->location,
                  json_pack("{s:I, s:s, s:s, s:s}", "offset", (json_int_t)at, "member", w->member,
                            "layout", "pytorch-tar", "error", problem),
                  "The '%s' member of this pre-1.0 PyTorch tar breaks the layout torch.load "
                  "reads at offset %zu: %s. The rest of the member cannot be delimited and was "
                  "not analysed.",
                  w->member, at, problem);
    free(text);
}

/* The pickle at the cursor (`what` names it in messages); NULL once the walk
 * has stopped (a break or a limit, reported). */
static const pickle_value *next_pickle(walk *w, const char *what)
{
    if (w->stopped)
        return NULL;
    if (ms_cursor_left(&w->cur) == 0) {
        broken(w, w->cur.off, "the member ends where %s should start", what);
        return NULL;
    }
    size_t end;
    const pickle_value *v = pickle_session_run(w->s, w->cur.off, &end);
    if (!v) {
        w->stopped = true;
        return NULL;
    }
    w->cur.off = end;
    return v;
}

static bool is_sequence(const pickle_value *v, size_t n)
{
    return (v->kind == PK_TUPLE || v->kind == PK_LIST) && pickle_value_count(v) == n;
}

/* The first pickle of both members: how many records follow. */
static bool read_count(walk *w, const char *records, uint64_t *n)
{
    size_t at = w->cur.off;
    const pickle_value *v = next_pickle(w, "the pickle with the count");
    if (!v)
        return false;
    if (v->kind != PK_INT || v->u.i < 0) {
        broken(w, at, "its first pickle should hold the number of %s, a non-negative integer",
               records);
        return false;
    }
    *n = (uint64_t)v->u.i;
    return true;
}

static bool time_left(walk *w, uint64_t i)
{
    if (i % TIME_CHECK_EVERY == TIME_CHECK_EVERY - 1 && !ms_budget_time_left(w->ctx))
        w->stopped = true;
    return !w->stopped;
}

/* After the last pickle of the layout: nothing. torch.load reads no further,
 * but a pickle there is analysed (another loader may read it) and other
 * bytes are reported as unexplained. */
static void check_rest(walk *w)
{
    ms_scan_ctx *ctx = w->ctx;
    while (!w->stopped && ms_cursor_left(&w->cur) > 0) {
        size_t off = w->cur.off, left = ms_cursor_left(&w->cur);
        if (!pickle_looks_like_stream(ctx->limits, w->cur.base, w->cur.len, off)) {
            ms_report_add(ctx->report, "PICKLE-TRAILING-DATA", ctx->location,
                          json_pack("{s:I, s:I, s:s}", "offset", (json_int_t)off, "bytes",
                                    (json_int_t)left, "layout", "pytorch-tar"),
                          "%zu bytes after the last pickle of the '%s' member (from offset %zu) "
                          "are not part of the pre-1.0 PyTorch layout; torch.load does not read "
                          "them, but they may hide data or a payload for another loader.",
                          left, w->member, off);
            return;
        }
        ms_report_add(ctx->report, "PICKLE-APPENDED-STREAM", ctx->location,
                      json_pack("{s:I, s:s}", "offset", (json_int_t)off, "layout", "pytorch-tar"),
                      "A further pickle stream starts at offset %zu, after the last pickle of "
                      "the pre-1.0 PyTorch layout in the '%s' member; torch.load does not read "
                      "it, other loaders may. Its imports and calls are reported too.",
                      off, w->member);
        next_pickle(w, "the appended pickle");
    }
}

/* storages: count, count x (record, i64 elements, raw bytes), views. */
static void walk_storages(walk *w)
{
    uint64_t n;
    if (!read_count(w, "storages", &n))
        return;
    for (uint64_t i = 0; i < n && time_left(w, i); i++) {
        size_t at = w->cur.off;
        char what[96];
        snprintf(what, sizeof(what), "the record of storage %llu of %llu",
                 (unsigned long long)i + 1, (unsigned long long)n);
        const pickle_value *v = next_pickle(w, what);
        if (!v)
            return;
        if (!is_sequence(v, 3)) {
            broken(w, at, "%s is not a (key, location, storage type) triple", what);
            return;
        }
        const pickle_value *type = pickle_value_item(v, 2);
        unsigned elsize = type ? pickle_session_storage_elsize(w->s, type) : 0;
        if (!elsize) {
            broken(w, at,
                   "the type in %s is not a torch storage class, so the size of its "
                   "elements and of its raw data is unknown",
                   what);
            return;
        }
        at = w->cur.off;
        uint64_t numel = ms_cursor_u64le(&w->cur), bytes;
        if (w->cur.error) {
            broken(w, at, "the member ends inside the element count of storage %llu",
                   (unsigned long long)i + 1);
            return;
        }
        if (numel > INT64_MAX) {
            broken(w, at,
                   "storage %llu declares %llu elements, negative as the int64 torch "
                   "reads",
                   (unsigned long long)i + 1, (unsigned long long)numel);
            return;
        }
        if (!ms_mul_u64(numel, elsize, &bytes) || !ms_cursor_skip(&w->cur, bytes)) {
            broken(w, at,
                   "storage %llu declares %llu elements of %u bytes, past the end of the "
                   "member (%zu bytes left)",
                   (unsigned long long)i + 1, (unsigned long long)numel, elsize,
                   ms_cursor_left(&w->cur));
            return;
        }
    }
    size_t at = w->cur.off;
    const pickle_value *views = next_pickle(w, "the storage views pickle");
    if (!views)
        return;
    bool ok = views->kind == PK_LIST || views->kind == PK_TUPLE;
    for (size_t i = 0; ok && i < pickle_value_count(views); i++) {
        const pickle_value *item = pickle_value_item(views, i);
        if (!item)
            break; /* only the first items are kept */
        ok = is_sequence(item, 4);
    }
    if (!ok) {
        broken(w, at,
               "the pickle after the storages is not a list of (view key, root key, "
               "offset, elements) views");
        return;
    }
    check_rest(w);
}

/* tensors: count, count x (record, i32 ndim, 4 bytes, sizes, strides, offset). */
static void walk_tensors(walk *w)
{
    uint64_t n;
    if (!read_count(w, "tensors", &n))
        return;
    for (uint64_t i = 0; i < n && time_left(w, i); i++) {
        size_t at = w->cur.off;
        char what[96];
        snprintf(what, sizeof(what), "the record of tensor %llu of %llu", (unsigned long long)i + 1,
                 (unsigned long long)n);
        const pickle_value *v = next_pickle(w, what);
        if (!v)
            return;
        if (!is_sequence(v, 3)) {
            broken(w, at, "%s is not a (key, storage key, tensor type) triple", what);
            return;
        }
        at = w->cur.off;
        int32_t ndim = (int32_t)ms_cursor_u32le(&w->cur);
        if (w->cur.error) {
            broken(w, at, "the member ends inside the ndim of tensor %llu",
                   (unsigned long long)i + 1);
            return;
        }
        if (ndim < 0) {
            broken(w, at, "tensor %llu declares ndim %d, a negative number of dimensions",
                   (unsigned long long)i + 1, (int)ndim);
            return;
        }
        /* 4 bytes (ndim was once an int64), sizes, strides, storage offset:
         * at most 4 + 16 * (2^31 - 1) + 8 bytes, no overflow */
        uint64_t need = 4 + 16 * (uint64_t)ndim + 8;
        if (!ms_cursor_skip(&w->cur, need)) {
            broken(w, at,
                   "the member ends inside the shape of tensor %llu (ndim %d needs "
                   "%llu more bytes, %zu are left)",
                   (unsigned long long)i + 1, (int)ndim, (unsigned long long)need,
                   ms_cursor_left(&w->cur));
            return;
        }
    }
    check_rest(w);
}

static ms_status walk_member(ms_scan_ctx *ctx, const uint8_t *data, size_t len, const char *member,
                             void (*body)(walk *))
{
    pickle_session *s = pickle_session_new(ctx, data, len);
    if (!s)
        return MS_NOMEM;
    walk w = {ctx, s, member, ms_cursor_make(data, len), false};
    body(&w);
    pickle_session_finish(s);
    return pickle_session_free(s);
}

ms_status torch_tar_scan_storages(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return walk_member(ctx, data, len, "storages", walk_storages);
}

ms_status torch_tar_scan_tensors(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return walk_member(ctx, data, len, "tensors", walk_tensors);
}
