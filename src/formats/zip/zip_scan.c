/*
 * zip_scan.c - the ZIP format module: PyTorch zip checkpoints, TorchScript
 * archives, NumPy .npz, Keras v3 .keras and any other ZIP archive.
 *
 *   model.pt  (torch.save: a ZIP, members stored, data 64-byte aligned by
 *   │          "FB" padding extra fields, sizes in data descriptors)
 *   ├── <root>/data.pkl              the pickle torch.load runs; tensors are
 *   │                                persistent ids naming storages
 *   ├── <root>/data/<n>              raw storage bytes, never unpickled:
 *   │                                checked structurally, never read
 *   ├── <root>/byteorder             "little"
 *   ├── <root>/version               "3" (or .data/version, .format_version)
 *   ├── <root>/.data/serialization_id
 *   │   TorchScript (torch.jit.save) adds:
 *   ├── <root>/code/__torch__/...py  source torch.jit.load compiles and runs
 *   ├── <root>/code/...py.debug_pkl  pickled source ranges
 *   ├── <root>/constants.pkl         pickled constants
 *   └── <root>/extra/...             files the user attached
 *   <root> is whatever the first central directory entry's folder is (torch
 *   takes it from there), "archive" in recent versions.
 *
 *   x.npz    every member <name>.npy (numpy.savez / savez_compressed)
 *   x.keras  config.json, metadata.json [, model.weights.h5, assets/]
 *
 * Specifications: the ZIP structure is read by src/codec/zip.c (APPNOTE.TXT;
 * why it is hand-written is explained there); deflate is zlib's. PyTorch's
 * layout: torch/serialization.py and caffe2/serialize/inline_container.h,
 * https://github.com/pytorch/pytorch/blob/main/caffe2/serialize/inline_container.h
 *
 * Every member any loader could read goes through ms_scan_member (content
 * detection: a pickle is a pickle whatever its name), including members
 * only reachable through a local header, through a second central
 * directory, or under a tampered header; prepended bytes (what torch.load
 * reads as a legacy pickle when the file does not start with "PK\3\4") and
 * appended bytes are scanned as members "[prepended data]" and "[appended
 * data]". Tampering is reported and never stops the scan.
 */
#include "zip_scan.h"
#include "../keras/keras_config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/zip.h"
#include "../../util/strbuf.h"
#include "torchscript.h"

enum {
    MAX_FINDINGS_PER_KIND = 20, /* then one finding counts the rest */
    MAX_NAME_SHOWN = 4096,
    RATIO_MIN_BYTES = 1u << 20, /* the ratio limit applies to members above 1 MiB */
};

typedef enum archive_kind {
    KIND_ZIP,
    KIND_PYTORCH,
    KIND_TORCHSCRIPT,
    KIND_NPZ,
    KIND_KERAS,
} archive_kind;

/* findings counted per kind: the reader's issues, then what reading finds */
enum {
    SLOT_CRC = ZIP_ISSUE_KIND_COUNT,
    SLOT_OVERFLOW,
    SLOT_STREAM,
    SLOT_STORED_SIZES,
    SLOT_UNSAFE,
    SLOT_METHOD,
    SLOT_COUNT
};

typedef struct zscan {
    ms_scan_ctx *ctx;
    zip_archive za;
    archive_kind kind;
    const uint8_t *root; /* PyTorch top-level folder, not NUL-terminated */
    size_t root_len;
    torchscript_code code;
    uint64_t shown[SLOT_COUNT];
    uint64_t hidden[SLOT_COUNT];
    const char *slot_kind[SLOT_COUNT];
    const char *slot_rule[SLOT_COUNT];
    ms_status status;
} zscan;

/* A member name fit for a location and for JSON: NUL bytes shown as \0,
 * other control characters and invalid UTF-8 (CP437 names) as '?'. Never
 * NULL. */
static char *display_name(const uint8_t *name, size_t len)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, MAX_NAME_SHOWN);
    if (len == 0)
        ms_strbuf_puts(&sb, "(empty name)");
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == 0) {
            ms_strbuf_append(&sb, (const char *)name + start, i - start);
            ms_strbuf_puts(&sb, "\\0");
            start = i + 1;
        }
    }
    ms_strbuf_append(&sb, (const char *)name + start, len - start);
    char *s = ms_strbuf_take(&sb);
    ms_sanitize_text(s);
    return s;
}

static char *entry_name(const zscan *zs, size_t idx)
{
    if (idx == ZIP_NONE || idx >= zs->za.nentries)
        return display_name((const uint8_t *)"?", 1);
    return display_name(zs->za.entries[idx].name, zs->za.entries[idx].name_len);
}

static const char *cve_of(const char *kind)
{
    if (strcmp(kind, "name-mismatch") == 0)
        return "CVE-2025-1944";
    if (strcmp(kind, "flags-mismatch") == 0 || strcmp(kind, "encrypted-flag") == 0)
        return "CVE-2025-1945";
    if (strcmp(kind, "crc-mismatch") == 0)
        return "CVE-2025-10156";
    return NULL;
}

/* Adds a finding of `rule` unless MAX_FINDINGS_PER_KIND of this slot were
 * already reported (then it is only counted). `kind` goes to details. */
static void report(zscan *zs, unsigned slot, const char *rule, const char *kind,
                   const char *location, json_t *details, const char *fmt, ...) MS_PRINTF(7, 8);
static void report(zscan *zs, unsigned slot, const char *rule, const char *kind,
                   const char *location, json_t *details, const char *fmt, ...)
{
    zs->slot_kind[slot] = kind;
    zs->slot_rule[slot] = rule;
    if (zs->shown[slot] >= MAX_FINDINGS_PER_KIND) {
        zs->hidden[slot]++;
        json_decref(details);
        return;
    }
    zs->shown[slot]++;
    if (!details)
        details = json_object();
    if (details) {
        json_object_set_new(details, "kind", json_string(kind));
        const char *cve = cve_of(kind);
        if (cve)
            json_object_set_new(details, "cve", json_string(cve));
    }
    va_list ap;
    va_start(ap, fmt);
    if (!ms_report_addv(zs->ctx->report, rule, location, details, fmt, ap))
        zs->status = MS_NOMEM;
    va_end(ap);
}

static void report_hidden(zscan *zs)
{
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        if (!zs->hidden[s])
            continue;
        ms_report_add(
            zs->ctx->report, zs->slot_rule[s], zs->ctx->location,
            json_pack("{s:s, s:I}", "kind", zs->slot_kind[s], "more", (json_int_t)zs->hidden[s]),
            "%llu further archive problem(s) of kind '%s' were found and are not "
            "listed one by one (the first %d are).",
            (unsigned long long)zs->hidden[s], zs->slot_kind[s], MAX_FINDINGS_PER_KIND);
    }
}

/* ---------------------------------------------------------------------
 * the reader's issues as findings
 */

static void report_issue(zscan *zs, const zip_issue *is)
{
    ms_scan_ctx *ctx = zs->ctx;
    const char *kind = zip_issue_kind_name(is->kind);
    char *name = is->entry != ZIP_NONE ? entry_name(zs, is->entry) : NULL;
    char *other = is->other != ZIP_NONE ? entry_name(zs, is->other) : NULL;
    char *member_loc = name ? ms_strdup_printf("%s!%s", ctx->location, name) : NULL;
    const char *loc = member_loc ? member_loc : ctx->location;
    json_t *d = json_pack("{s:I}", "offset", (json_int_t)is->offset);
    if (d && name)
        json_object_set_new(d, "member", json_string(name));
    if (d && other)
        json_object_set_new(d, "other_member", json_string(other));
    unsigned slot = is->kind;
    unsigned long long off = is->offset, len = is->length, a = is->a, b = is->b;
    const char *T = "ARCHIVE-TAMPERING", *M = "ARCHIVE-MALFORMED";
    switch (is->kind) {
    case ZIP_ISSUE_NO_END_RECORD:
        report(zs, slot, M, kind, loc, d,
               "No end of central directory record was found: this is not a readable ZIP "
               "archive for loaders that use the directory (PyTorch, Python's zipfile). Local "
               "headers were looked for from offset 0 and every member found was scanned.");
        break;
    case ZIP_ISSUE_DIRECTORY_BROKEN:
        report(zs, slot, M, kind, loc, d,
               "The central directory cannot be parsed at offset %llu (%s) after %llu entries; "
               "the members it should list were looked for in local headers instead.",
               off, is->what, a);
        break;
    case ZIP_ISSUE_LOCAL_MISSING:
        report(zs, slot, M, kind, loc, d,
               "Member '%s' is listed in the central directory but no local header is at offset "
               "%llu where it points, so no loader can read its data.",
               name, off);
        break;
    case ZIP_ISSUE_EXTRA_BROKEN:
        report(zs, slot, M, kind, loc, d,
               "Member '%s': the %s is corrupt (a record overruns it or a zip64 value it must "
               "hold is missing). Python's zipfile refuses the whole archive; PyTorch reads it.",
               name, is->what);
        break;
    case ZIP_ISSUE_STREAM_SIZE_UNKNOWN:
        report(zs, slot, M, kind, loc, d,
               "A local header at offset %llu streams its data (flag bit 3, sizes zero) but no "
               "data descriptor matching its size follows; its data could not be delimited.",
               off);
        break;
    case ZIP_ISSUE_ZIP64_BROKEN:
        report(zs, slot, T, kind, loc, d,
               "A zip64 locator points to offset %llu where no zip64 end record is: PyTorch's "
               "reader fails, Python's zipfile falls back to the classic end record.",
               a);
        break;
    case ZIP_ISSUE_NAME_MISMATCH: {
        const zip_entry *e = &zs->za.entries[is->entry];
        char *local = display_name(e->local_name, e->local_name_len);
        json_object_set_new(d, "local_name", json_string(local));
        report(zs, slot, T, kind, loc, d,
               "Member '%s' is called '%s' in its local header (CVE-2025-1944): PyTorch finds "
               "and loads it by its central directory name, Python's zipfile refuses it and "
               "scanners built on zipfile skip it. Its data was scanned.",
               name, local);
        free(local);
        break;
    }
    case ZIP_ISSUE_SIZE_MISMATCH:
        json_object_set_new(d, "central", json_integer((json_int_t)a));
        json_object_set_new(d, "other", json_integer((json_int_t)b));
        report(zs, slot, T, kind, loc, d,
               "Member '%s': the %s is %llu but the central directory says %llu; loaders that "
               "trust one or the other read different bytes.",
               name, is->what, b, a);
        break;
    case ZIP_ISSUE_CRC_FIELD_MISMATCH:
        report(zs, slot, T, kind, loc, d,
               "Member '%s': the %s is 0x%08llx but the central directory says 0x%08llx.", name,
               is->what, b, a);
        break;
    case ZIP_ISSUE_METHOD_MISMATCH:
        report(zs, slot, T, kind, loc, d,
               "Member '%s': compression method %llu in the central directory, %llu in the local "
               "header. Loaders that follow the directory and those that walk local headers "
               "decode different bytes; both readings were scanned.",
               name, a, b);
        break;
    case ZIP_ISSUE_FLAGS_MISMATCH:
        report(zs, slot, T, kind, loc, d,
               "Member '%s': general purpose flags 0x%04llx in the central directory but "
               "0x%04llx in the local header (CVE-2025-1945). PyTorch ignores the flags, "
               "Python's zipfile acts on them, so the two disagree about this member.",
               name, a, b);
        break;
    case ZIP_ISSUE_ENCRYPTED_FLAG:
        report(zs, slot, T, kind, loc, d,
               "Member '%s' has encryption or patch flag bits set (0x%04llx central, 0x%04llx "
               "local; CVE-2025-1945): Python's zipfile refuses to read it, while PyTorch "
               "ignores the flags and loads the data. It was scanned as plain data.",
               name, a, b);
        break;
    case ZIP_ISSUE_DESCRIPTOR_MISMATCH:
        report(zs, slot, T, kind, loc, d,
               "Member '%s' announces a data descriptor (flag bit 3) but none matching its "
               "compressed size (%llu) follows its data at offset %llu.",
               name, a, off);
        break;
    case ZIP_ISSUE_OVERLAP:
        json_object_set_new(d, "length", json_integer((json_int_t)len));
        if (other)
            report(zs, slot, T, kind, loc, d,
                   "Members '%s' and '%s' share %llu bytes at offset %llu: one member's bytes "
                   "are also another's, a way to hide data from scanners or to build zip bombs.",
                   name, other, len, off);
        else if (name)
            report(zs, slot, T, kind, loc, d,
                   "Member '%s' overlaps the %s (%llu bytes at offset %llu).", name, is->what, len,
                   off);
        else
            report(zs, slot, T, kind, loc, d,
                   "Archive structures overlap (%s, %llu bytes at offset %llu).", is->what, len,
                   off);
        break;
    case ZIP_ISSUE_OUTSIDE:
        if (name && len == 0)
            report(zs, slot, T, kind, loc, d,
                   "Member '%s': its %s (%llu) lies outside the %llu-byte archive.", name, is->what,
                   off, (unsigned long long)zs->za.len);
        else if (name)
            report(zs, slot, T, kind, loc, d,
                   "Member '%s': its %s (offset %llu, %llu bytes) lies outside the %llu-byte "
                   "archive.",
                   name, is->what, off, len, (unsigned long long)zs->za.len);
        else
            report(zs, slot, T, kind, loc, d,
                   "The %s (offset %llu, %llu bytes) lies outside the %llu-byte archive.", is->what,
                   off, len, (unsigned long long)zs->za.len);
        break;
    case ZIP_ISSUE_PREPENDED:
        json_object_set_new(d, "length", json_integer((json_int_t)len));
        report(zs, slot, T, kind, loc, d,
               "%llu bytes precede the first ZIP structure: the file is a polyglot. torch.load "
               "reads a file that does not start with a local header as a legacy pickle, so "
               "these bytes are what it would run; they were scanned as '[prepended data]'.",
               len);
        break;
    case ZIP_ISSUE_APPENDED:
        json_object_set_new(d, "length", json_integer((json_int_t)len));
        report(zs, slot, T, kind, loc, d,
               "%llu bytes follow the end of central directory record at offset %llu; they "
               "were scanned as '[appended data]'.",
               len, off);
        break;
    case ZIP_ISSUE_GAP:
        json_object_set_new(d, "length", json_integer((json_int_t)len));
        report(zs, slot, T, kind, loc, d,
               "%llu bytes at offset %llu belong to no member and no directory structure.", len,
               off);
        break;
    case ZIP_ISSUE_DUPLICATE_NAME:
        report(zs, slot, T, kind, loc, d,
               "Two members are named '%s' (local headers at offsets %llu and %llu): loaders "
               "pick different ones. Both were scanned.",
               name, (unsigned long long)zs->za.entries[is->other].local_offset, off);
        break;
    case ZIP_ISSUE_UNLISTED_LOCAL:
        report(zs, slot, T, kind, loc, d,
               "A local header at offset %llu for '%s' is not listed in the central directory: "
               "readers that walk local headers extract it, readers of the directory do not "
               "see it. It was scanned.",
               off, name);
        break;
    case ZIP_ISSUE_COUNT_MISMATCH:
        report(zs, slot, T, kind, loc, d,
               "The end record declares %llu entries but the central directory at offset %llu "
               "holds %llu: PyTorch's reader goes by the count, Python's zipfile by the bytes.",
               a, off, b);
        break;
    case ZIP_ISSUE_DIRECTORY_MOVED:
        report(zs, slot, T, kind, loc, d,
               "%s: the end record points to offset %llu, but a directory was read at offset "
               "%llu. Python's zipfile shifts every offset by the bytes prepended to the "
               "archive, PyTorch's reader does not; both readings were scanned.",
               is->what, a, b);
        break;
    case ZIP_ISSUE_END_RECORDS_DIFFER:
        report(zs, slot, T, kind, loc, d,
               "The classic end record and the zip64 end record disagree (directory at offset "
               "%llu vs %llu); both directories were read.",
               a, b);
        break;
    case ZIP_ISSUE_MULTI_DISK:
        report(zs, slot, T, kind, loc, d,
               "Disk numbers are set in the %s (%llu, %llu): a spanned archive, which Python's "
               "zipfile refuses and other readers ignore.",
               is->what, a, b);
        break;
    case ZIP_ISSUE_ENTRY_LIMIT:
        ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                      json_pack("{s:s, s:I}", "limit", "container members", "max", (json_int_t)a),
                      "The archive lists more than %llu members; the rest were not analysed.", a);
        json_decref(d);
        break;
    case ZIP_ISSUE_KIND_COUNT:
    default:
        json_decref(d);
        break;
    }
    free(name);
    free(other);
    free(member_loc);
}

/* ---------------------------------------------------------------------
 * what kind of archive
 */

static bool name_is(const zip_entry *e, const uint8_t *root, size_t rl, const char *rest)
{
    size_t n = strlen(rest);
    if (rl == 0)
        return e->name_len == n && memcmp(e->name, rest, n) == 0;
    return e->name_len == rl + 1 + n && memcmp(e->name, root, rl) == 0 && e->name[rl] == '/' &&
           memcmp(e->name + rl + 1, rest, n) == 0;
}

static bool has_member(const zip_archive *za, const uint8_t *root, size_t rl, const char *rest)
{
    for (size_t i = 0; i < za->nentries; i++)
        if (name_is(&za->entries[i], root, rl, rest))
            return true;
    return false;
}

static bool under(const zip_entry *e, const uint8_t *root, size_t rl, const char *dir)
{
    size_t n = strlen(dir);
    return e->name_len > rl + 1 + n && memcmp(e->name, root, rl) == 0 && e->name[rl] == '/' &&
           memcmp(e->name + rl + 1, dir, n) == 0;
}

static bool ends_with(const zip_entry *e, const char *suffix)
{
    size_t n = strlen(suffix);
    return e->name_len >= n && memcmp(e->name + e->name_len - n, suffix, n) == 0;
}

static void classify(zscan *zs)
{
    const zip_archive *za = &zs->za;
    zs->kind = KIND_ZIP;
    if (za->nentries == 0)
        return;
    /* torch takes the folder of the first central directory entry */
    const zip_entry *first = &za->entries[0];
    const uint8_t *slash = memchr(first->name, '/', first->name_len);
    if (slash) {
        const uint8_t *root = first->name;
        size_t rl = (size_t)(slash - first->name);
        if (has_member(za, root, rl, "data.pkl") &&
            (has_member(za, root, rl, "version") || has_member(za, root, rl, ".data/version") ||
             has_member(za, root, rl, ".format_version"))) {
            zs->root = root;
            zs->root_len = rl;
            zs->kind = KIND_PYTORCH;
            if (has_member(za, root, rl, "constants.pkl"))
                zs->kind = KIND_TORCHSCRIPT;
            for (size_t i = 0; i < za->nentries && zs->kind == KIND_PYTORCH; i++)
                if (under(&za->entries[i], root, rl, "code/"))
                    zs->kind = KIND_TORCHSCRIPT;
            return;
        }
    }
    size_t npy = 0, other = 0;
    for (size_t i = 0; i < za->nentries; i++) {
        const zip_entry *e = &za->entries[i];
        if (e->name_len && e->name[e->name_len - 1] == '/')
            continue;
        if (ends_with(e, ".npy"))
            npy++;
        else
            other++;
    }
    if (npy > 0 && other == 0) {
        zs->kind = KIND_NPZ;
        return;
    }
    if (has_member(za, NULL, 0, "config.json") && has_member(za, NULL, 0, "metadata.json"))
        zs->kind = KIND_KERAS;
}

/* <root>/data/<digits>: raw tensor bytes torch never unpickles, under the
 * same name in both headers */
static bool is_storage(const zscan *zs, const zip_entry *e)
{
    if (zs->kind != KIND_PYTORCH && zs->kind != KIND_TORCHSCRIPT)
        return false;
    size_t rl = zs->root_len;
    if (!under(e, zs->root, rl, "data/"))
        return false;
    for (size_t i = rl + 6; i < e->name_len; i++)
        if (e->name[i] < '0' || e->name[i] > '9')
            return false;
    return e->local_ok && e->local_name_len == e->name_len &&
           memcmp(e->local_name, e->name, e->name_len) == 0;
}

static bool is_code(const zscan *zs, const zip_entry *e)
{
    return zs->kind == KIND_TORCHSCRIPT && under(e, zs->root, zs->root_len, "code/") &&
           ends_with(e, ".py");
}

/* ---------------------------------------------------------------------
 * members
 */

static void dispatch(zscan *zs, const char *name, const uint8_t *data, size_t len, bool code)
{
    ms_status st = ms_scan_member(zs->ctx, name, data, len);
    if (st == MS_NOMEM)
        zs->status = MS_NOMEM;
    /* a Keras v3 archive's config.json says what Keras will import and run */
    if (zs->kind == KIND_KERAS && strcmp(name, "config.json") == 0 &&
        keras_v3_scan_archive_config(zs->ctx, name, data, len) == MS_NOMEM)
        zs->status = MS_NOMEM;
    if (code)
        torchscript_scan_source(zs->ctx, &zs->code, name, data, len);
}

static const char *method_name(unsigned method)
{
    switch (method) {
    case ZIP_METHOD_STORED:
        return "stored";
    case ZIP_METHOD_DEFLATE:
        return "deflate";
    case 9:
        return "deflate64";
    case ZIP_METHOD_BZIP2:
        return "bzip2";
    case ZIP_METHOD_LZMA:
        return "lzma";
    case ZIP_METHOD_ZSTD:
        return "zstd";
    case ZIP_METHOD_XZ:
        return "xz";
    case 98:
        return "ppmd";
    case 99:
        return "AES encryption";
    default:
        return "unknown";
    }
}

/* Reads one member as (method, csize, usize) describe it and scans it under
 * `name`; `crc` is the CRC-32 those headers promise. */
static void read_member(zscan *zs, const zip_entry *e, const char *name, uint16_t method,
                        uint64_t csize, uint64_t usize, uint32_t crc, bool code)
{
    ms_scan_ctx *ctx = zs->ctx;
    const uint8_t *src = zs->za.data + e->data_offset;
    char *loc = ms_strdup_printf("%s!%s", ctx->location, name);
    if (!loc) {
        zs->status = MS_NOMEM;
        return;
    }
    if (method == ZIP_METHOD_STORED) {
        /* scanned in place: no copy, no allocation */
        if (csize != usize)
            report(zs, SLOT_STORED_SIZES, "ARCHIVE-TAMPERING", "size-mismatch", loc,
                   json_pack("{s:I, s:I}", "compressed_size", (json_int_t)csize,
                             "uncompressed_size", (json_int_t)usize),
                   "Stored member '%s' declares %llu bytes of data but %llu uncompressed bytes; "
                   "all %llu stored bytes were scanned.",
                   name, (unsigned long long)csize, (unsigned long long)usize,
                   (unsigned long long)csize);
        uint32_t actual = zip_crc32(src, (size_t)csize);
        if (actual != crc)
            report(
                zs, SLOT_CRC, "ARCHIVE-TAMPERING", "crc-mismatch", loc,
                json_pack("{s:I, s:I}", "expected", (json_int_t)crc, "actual", (json_int_t)actual),
                "Member '%s': its data has CRC-32 0x%08x but its headers promise 0x%08x "
                "(CVE-2025-10156). PyTorch ignores CRCs and loads it; Python's zipfile raises "
                "and scanners built on it skip the member. It was scanned.",
                name, actual, crc);
        dispatch(zs, name, src, (size_t)csize, code);
        if (ctx->mapping)
            ms_release_pages(src, (size_t)csize);
        free(loc);
        return;
    }
    const char *mname = method_name(method);
    if (!zip_method_decoded(method)) {
        report(zs, SLOT_METHOD, "ARCHIVE-UNSUPPORTED-METHOD", "unsupported-method", loc,
               json_pack("{s:I, s:s, s:I}", "method", (json_int_t)method, "method_name", mname,
                         "compressed_size", (json_int_t)csize),
               "Member '%s' is compressed with method %u (%s), which this scanner does not "
               "decode: its %llu bytes were not analysed.",
               name, method, mname, (unsigned long long)csize);
        free(loc);
        return;
    }
    uint64_t ratio = csize ? usize / csize : usize;
    if (usize > RATIO_MIN_BYTES && ratio > ctx->limits->archive_max_ratio) {
        ms_report_add(ctx->report, "SCAN-LIMIT", loc,
                      json_pack("{s:s, s:I, s:I, s:I}", "limit", "compression ratio", "ratio",
                                (json_int_t)ratio, "max",
                                (json_int_t)ctx->limits->archive_max_ratio, "uncompressed_size",
                                (json_int_t)usize),
                      "Member '%s' declares %llu bytes from %llu compressed bytes, a ratio of "
                      "%llu:1 above the limit of %u:1 (a zip bomb); it was not decompressed.",
                      name, (unsigned long long)usize, (unsigned long long)csize,
                      (unsigned long long)ratio, ctx->limits->archive_max_ratio);
        free(loc);
        return;
    }
    if (usize > SIZE_MAX / 2 || !ms_budget_expand(ctx, usize, name)) {
        free(loc);
        return;
    }
    uint8_t *buf = malloc(usize ? (size_t)usize : 1);
    if (!buf) {
        ms_report_add(ctx->report, "SCAN-LIMIT", loc, json_pack("{s:s}", "limit", "memory"),
                      "Member '%s' (%llu bytes decompressed) could not be held in memory; it "
                      "was not analysed.",
                      name, (unsigned long long)usize);
        free(loc);
        return;
    }
    size_t got = 0;
    zip_inflate_result r = zip_decompress(method, src, csize, buf, (size_t)usize, &got);
    if (r == ZIP_INFLATE_NOMEM) {
        zs->status = MS_NOMEM;
    } else if (r == ZIP_INFLATE_OVERFLOW) {
        report(zs, SLOT_OVERFLOW, "ARCHIVE-TAMPERING", "size-exceeds-declared", loc,
               json_pack("{s:I}", "declared", (json_int_t)usize),
               "Member '%s' decompresses to more than the %llu bytes its headers declare; the "
               "declared bytes (what Python's zipfile returns) were scanned, decompression "
               "stopped there.",
               name, (unsigned long long)usize);
    } else if (r == ZIP_INFLATE_BAD || r == ZIP_INFLATE_SHORT) {
        report(zs, SLOT_STREAM, "ARCHIVE-MALFORMED",
               method == ZIP_METHOD_DEFLATE ? "deflate-stream-broken" : "stream-broken", loc,
               json_pack("{s:I, s:I, s:s}", "decompressed", (json_int_t)got, "declared",
                         (json_int_t)usize, "method_name", mname),
               "Member '%s': its %s stream is %s after %zu of %llu bytes; the bytes "
               "decompressed up to there were scanned.",
               name, mname, r == ZIP_INFLATE_BAD ? "corrupt" : "truncated", got,
               (unsigned long long)usize);
    } else if (got != usize) {
        report(
            zs, SLOT_OVERFLOW, "ARCHIVE-TAMPERING", "size-mismatch", loc,
            json_pack("{s:I, s:I}", "declared", (json_int_t)usize, "decompressed", (json_int_t)got),
            "Member '%s' decompresses to %zu bytes but its headers declare %llu.", name, got,
            (unsigned long long)usize);
    }
    if (r == ZIP_INFLATE_OK || r == ZIP_INFLATE_OVERFLOW) {
        uint32_t actual = zip_crc32(buf, got);
        if (actual != crc)
            report(
                zs, SLOT_CRC, "ARCHIVE-TAMPERING", "crc-mismatch", loc,
                json_pack("{s:I, s:I}", "expected", (json_int_t)crc, "actual", (json_int_t)actual),
                "Member '%s': its data has CRC-32 0x%08x but its headers promise 0x%08x "
                "(CVE-2025-10156). PyTorch ignores CRCs and loads it; Python's zipfile raises "
                "and scanners built on it skip the member. It was scanned.",
                name, actual, crc);
    }
    if (r != ZIP_INFLATE_NOMEM)
        dispatch(zs, name, buf, got, code);
    free(buf);
    free(loc);
}

static void scan_entry(zscan *zs, size_t idx)
{
    const zip_entry *e = &zs->za.entries[idx];
    char *name = display_name(e->name, e->name_len);
    char *loc = ms_strdup_printf("%s!%s", zs->ctx->location, name);
    if (!loc) {
        free(name);
        zs->status = MS_NOMEM;
        return;
    }
    const char *why = zip_name_problem(e->name, e->name_len);
    if (why)
        report(zs, SLOT_UNSAFE, "ARCHIVE-UNSAFE-PATH", "unsafe-name", loc,
               json_pack("{s:s, s:s}", "name", name, "problem", why),
               "Member name '%s' is unsafe to extract (%s): a loader or user that unpacks the "
               "archive writes outside the target folder.",
               name, why);
    bool local_differs = e->local_ok && (e->local_name_len != e->name_len ||
                                         memcmp(e->local_name, e->name, e->name_len) != 0);
    const char *lwhy = local_differs ? zip_name_problem(e->local_name, e->local_name_len) : NULL;
    if (lwhy) {
        char *lname = display_name(e->local_name, e->local_name_len);
        report(zs, SLOT_UNSAFE, "ARCHIVE-UNSAFE-PATH", "unsafe-name", loc,
               json_pack("{s:s, s:s}", "name", lname, "problem", lwhy),
               "The local header of member '%s' names it '%s', which is unsafe to extract (%s).",
               name, lname, lwhy);
        free(lname);
    }
    bool directory = e->name_len && e->name[e->name_len - 1] == '/' && e->comp_size == 0;
    /* nothing to read: no local header, data outside the file (both
     * reported), a storage torch never unpickles, bytes already scanned
     * under another member's name, or a directory */
    if (e->local_ok && e->data_ok && !is_storage(zs, e) && e->same_data_as == ZIP_NONE &&
        !directory) {
        bool code = is_code(zs, e);
        read_member(zs, e, name, e->method, e->comp_size, e->uncomp_size,
                    e->has_descriptor && !e->in_central ? e->desc_crc : e->crc, code);
        /* a reader that walks local headers decodes the data its own way */
        bool streamed = (e->local_flags & ZIP_FLAG_DESCRIPTOR) && e->local_comp_size == 0;
        if (e->in_central && e->local_data_ok && !streamed &&
            (e->local_method != e->method || e->local_comp_size != e->comp_size)) {
            char *alt = ms_strdup_printf("%s [local header]", name);
            if (alt)
                read_member(zs, e, alt, e->local_method, e->local_comp_size, e->local_uncomp_size,
                            e->local_crc, code);
            free(alt);
        }
    }
    free(loc);
    free(name);
}

static void scan_extra_bytes(zscan *zs)
{
    for (size_t i = 0; i < zs->za.nissues; i++) {
        const zip_issue *is = &zs->za.issues[i];
        if (is->kind != ZIP_ISSUE_PREPENDED && is->kind != ZIP_ISSUE_APPENDED)
            continue;
        if (is->offset > zs->za.len || is->length > zs->za.len - is->offset)
            continue;
        dispatch(zs, is->kind == ZIP_ISSUE_PREPENDED ? "[prepended data]" : "[appended data]",
                 zs->za.data + is->offset, (size_t)is->length, false);
    }
}

ms_status zip_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    zscan *zs = calloc(1, sizeof(*zs));
    if (!zs)
        return MS_NOMEM;
    zs->ctx = ctx;
    zs->status = MS_OK;
    torchscript_code_init(&zs->code);
    if (zip_open(&zs->za, data, len, ctx->limits->archive_max_members) == MS_NOMEM) {
        ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                      json_pack("{s:s}", "limit", "memory"),
                      "The archive's structure could not be held in memory; only part of it "
                      "was analysed.");
        zs->status = MS_NOMEM;
    }
    classify(zs);
    static const char *const details[] = {
        [KIND_ZIP] = NULL,  [KIND_PYTORCH] = "pytorch-zip", [KIND_TORCHSCRIPT] = "torchscript",
        [KIND_NPZ] = "npz", [KIND_KERAS] = "keras-v3",
    };
    if (details[zs->kind])
        ctx->format_detail = details[zs->kind];
    for (size_t i = 0; i < zs->za.nissues; i++)
        report_issue(zs, &zs->za.issues[i]);
    if (zs->za.issues_dropped)
        ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                      json_pack("{s:s, s:I}", "limit", "archive problems", "dropped",
                                (json_int_t)zs->za.issues_dropped),
                      "The archive has so many structural problems that %llu were not recorded; "
                      "treat it as hostile.",
                      (unsigned long long)zs->za.issues_dropped);
    scan_extra_bytes(zs);
    for (size_t i = 0; i < zs->za.nentries; i++) {
        if (!ms_budget_time_left(ctx))
            break;
        scan_entry(zs, i);
    }
    torchscript_report(ctx, &zs->code);
    report_hidden(zs);
    ms_status st = zs->status;
    torchscript_code_free(&zs->code);
    zip_close(&zs->za);
    free(zs);
    return st;
}
