/*
 * zip.c - the ZIP structure reader (see zip.h).
 *
 * Specification: PKWARE APPNOTE.TXT 6.3.10,
 * https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
 *
 *   [prepended bytes]          polyglots: a pickle torch.load reads, an .exe stub
 *   local header  "PK\3\4" version flags method time date crc csize usize
 *                 name-len extra-len | name | extra (zip64 sizes, padding)
 *   data          csize bytes, stored (0) or raw deflate (8), ...
 *   [descriptor]  ["PK\7\8"] crc csize usize  (4- or 8-byte sizes; flag bit 3)
 *   ... one such block per member ...
 *   central dir.  per member "PK\1\2" made needed flags method time date crc
 *                 csize usize name-len extra-len comment-len disk iattr eattr
 *                 local-offset | name | extra (zip64) | comment
 *   [zip64 end]   "PK\6\6" size made needed disk cd-disk n-here n cd-size cd-offset
 *   [locator]     "PK\6\7" disk zip64-end-offset disks
 *   end record    "PK\5\6" disk cd-disk n-here n cd-size cd-offset comment-len comment
 *   [appended bytes]
 *
 * Why it is hand-written rather than taken from a library: loaders disagree
 * about the same bytes, and attackers live in the disagreement. PyTorch's
 * reader (caffe2's miniz-based PyTorchStreamReader) goes by the central
 * directory, takes the data offset from the local header's lengths and
 * ignores flag bits, local names and CRCs; Python's zipfile (numpy.load,
 * Keras, joblib, most scanners) adjusts every offset when bytes are
 * prepended, compares local and central names, refuses encrypted-flagged
 * members and raises on a bad CRC; streaming readers walk local headers and
 * never see the directory. A library picks one reading and stops at the
 * first error. This reader keeps every reading: each candidate directory
 * position, each listed member, each local header no directory lists, and
 * reports every point where two readings differ. It never decompresses on
 * its own: zip_inflate() writes into a buffer the caller has budgeted.
 */
#define _GNU_SOURCE /* memmem */
#define ZLIB_CONST
#include "zip.h"

#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "../util/checked.h"
#include "../util/cursor.h"

enum {
    SIG_LOCAL = 0x04034b50,
    SIG_CENTRAL = 0x02014b50,
    SIG_END = 0x06054b50,
    SIG_END64 = 0x06064b50,
    SIG_LOCATOR64 = 0x07064b50,
    SIG_DESCRIPTOR = 0x08074b50,
    LOCAL_SIZE = 30,
    CENTRAL_SIZE = 46,
    END_SIZE = 22,
    END64_SIZE = 56,
    LOCATOR64_SIZE = 20,
    END_SEARCH = END_SIZE + 65535, /* the comment is at most 65535 bytes */
    EXTRA_ZIP64 = 0x0001,
    MAX_ISSUES = 65536,
    MAX_VIEWS = 4,
};

#define U32_SENTINEL 0xffffffffu
#define U16_SENTINEL 0xffffu

const char *zip_issue_kind_name(zip_issue_kind kind)
{
    static const char *const names[ZIP_ISSUE_KIND_COUNT] = {
        [ZIP_ISSUE_NO_END_RECORD] = "no-end-record",
        [ZIP_ISSUE_DIRECTORY_BROKEN] = "central-directory-broken",
        [ZIP_ISSUE_LOCAL_MISSING] = "local-header-missing",
        [ZIP_ISSUE_EXTRA_BROKEN] = "extra-field-broken",
        [ZIP_ISSUE_STREAM_SIZE_UNKNOWN] = "streamed-size-unknown",
        [ZIP_ISSUE_ZIP64_BROKEN] = "zip64-end-record-missing",
        [ZIP_ISSUE_NAME_MISMATCH] = "name-mismatch",
        [ZIP_ISSUE_SIZE_MISMATCH] = "size-mismatch",
        [ZIP_ISSUE_CRC_FIELD_MISMATCH] = "crc-field-mismatch",
        [ZIP_ISSUE_METHOD_MISMATCH] = "method-mismatch",
        [ZIP_ISSUE_FLAGS_MISMATCH] = "flags-mismatch",
        [ZIP_ISSUE_ENCRYPTED_FLAG] = "encrypted-flag",
        [ZIP_ISSUE_DESCRIPTOR_MISMATCH] = "descriptor-mismatch",
        [ZIP_ISSUE_OVERLAP] = "overlap",
        [ZIP_ISSUE_OUTSIDE] = "outside-archive",
        [ZIP_ISSUE_PREPENDED] = "prepended-data",
        [ZIP_ISSUE_APPENDED] = "appended-data",
        [ZIP_ISSUE_GAP] = "unexplained-gap",
        [ZIP_ISSUE_DUPLICATE_NAME] = "duplicate-name",
        [ZIP_ISSUE_UNLISTED_LOCAL] = "unlisted-local-header",
        [ZIP_ISSUE_COUNT_MISMATCH] = "entry-count-mismatch",
        [ZIP_ISSUE_DIRECTORY_MOVED] = "central-directory-moved",
        [ZIP_ISSUE_END_RECORDS_DIFFER] = "end-records-differ",
        [ZIP_ISSUE_MULTI_DISK] = "multi-disk",
        [ZIP_ISSUE_ENTRY_LIMIT] = "entry-limit",
    };
    if ((unsigned)kind >= ZIP_ISSUE_KIND_COUNT || !names[kind])
        return "unknown";
    return names[kind];
}

/* A cursor over data[off, len); an empty, errored cursor when off > len. */
static ms_cursor cursor_at(const zip_archive *za, uint64_t off)
{
    if (off > za->len) {
        ms_cursor c = ms_cursor_make(za->data, 0);
        c.error = true;
        return c;
    }
    return ms_cursor_make(za->data + off, za->len - (size_t)off);
}

static uint32_t u32_at(const zip_archive *za, uint64_t off)
{
    ms_cursor c = cursor_at(za, off);
    uint32_t v = ms_cursor_u32le(&c);
    return c.error ? 0 : v;
}

static void add_issue(zip_archive *za, zip_issue_kind kind, size_t entry, size_t other,
                      uint64_t offset, uint64_t length, uint64_t a, uint64_t b, const char *what)
{
    if (za->nissues == za->issues_cap) {
        if (za->issues_cap >= MAX_ISSUES) {
            za->issues_dropped++;
            return;
        }
        size_t cap = za->issues_cap ? za->issues_cap * 2 : 16;
        zip_issue *n = realloc(za->issues, cap * sizeof(*n));
        if (!n) {
            za->nomem = true;
            za->issues_dropped++;
            return;
        }
        za->issues = n;
        za->issues_cap = cap;
    }
    zip_issue *is = &za->issues[za->nissues++];
    is->kind = kind;
    is->entry = entry;
    is->other = other;
    is->offset = offset;
    is->length = length;
    is->a = a;
    is->b = b;
    is->what = what;
}

/* A new zeroed entry, or NULL when the entry limit or memory ran out. */
static zip_entry *new_entry(zip_archive *za)
{
    if (za->nentries >= za->max_entries) {
        if (!za->entry_limit_hit)
            add_issue(za, ZIP_ISSUE_ENTRY_LIMIT, ZIP_NONE, ZIP_NONE, 0, 0, za->max_entries, 0,
                      "entries");
        za->entry_limit_hit = true;
        return NULL;
    }
    if (za->nentries == za->entries_cap) {
        size_t cap = za->entries_cap ? za->entries_cap * 2 : 16;
        zip_entry *n = realloc(za->entries, cap * sizeof(*n));
        if (!n) {
            za->nomem = true;
            return NULL;
        }
        za->entries = n;
        za->entries_cap = cap;
    }
    zip_entry *e = &za->entries[za->nentries];
    memset(e, 0, sizeof(*e));
    e->central_offset = UINT64_MAX;
    e->same_data_as = ZIP_NONE;
    return e;
}

/* ---------------------------------------------------------------------
 * end records
 */

typedef struct end_info {
    uint64_t offset;
    uint16_t disk, cd_disk;
    uint64_t entries_here, entries;
    uint64_t cd_size, cd_offset;
    uint64_t comment_len;
} end_info;

/* The end record: the highest "PK\5\6" in the last 64 KiB + 22 bytes whose
 * comment fits in the file (the highest at all when none fits). */
static bool find_end_record(zip_archive *za, end_info *end)
{
    if (za->len < END_SIZE)
        return false;
    size_t lowest = za->len > END_SEARCH ? za->len - END_SEARCH : 0;
    bool found = false;
    size_t best = 0;
    for (size_t i = za->len - END_SIZE;; i--) {
        if (za->data[i] == 'P' && u32_at(za, i) == SIG_END) {
            ms_cursor c = cursor_at(za, i + 20);
            uint16_t clen = ms_cursor_u16le(&c);
            if (!found) {
                found = true;
                best = i;
            }
            if ((uint64_t)i + END_SIZE + clen <= za->len) {
                best = i;
                break;
            }
        }
        if (i == lowest)
            break;
    }
    if (!found)
        return false;
    ms_cursor c = cursor_at(za, best + 4);
    end->offset = best;
    end->disk = ms_cursor_u16le(&c);
    end->cd_disk = ms_cursor_u16le(&c);
    end->entries_here = ms_cursor_u16le(&c);
    end->entries = ms_cursor_u16le(&c);
    end->cd_size = ms_cursor_u32le(&c);
    end->cd_offset = ms_cursor_u32le(&c);
    end->comment_len = ms_cursor_u16le(&c);
    return !c.error;
}

/* Reads a zip64 end record at `off`; false when there is none. */
static bool read_end64(zip_archive *za, uint64_t off, end_info *e64, uint64_t *record_end)
{
    ms_cursor c = cursor_at(za, off);
    if (ms_cursor_u32le(&c) != SIG_END64)
        return false;
    uint64_t size = ms_cursor_u64le(&c);
    ms_cursor_skip(&c, 4); /* versions */
    e64->offset = off;
    e64->disk = (uint16_t)ms_cursor_u32le(&c);
    e64->cd_disk = (uint16_t)ms_cursor_u32le(&c);
    e64->entries_here = ms_cursor_u64le(&c);
    e64->entries = ms_cursor_u64le(&c);
    e64->cd_size = ms_cursor_u64le(&c);
    e64->cd_offset = ms_cursor_u64le(&c);
    e64->comment_len = 0;
    if (c.error)
        return false;
    uint64_t end;
    if (!ms_add_u64(off, 12, &end) || !ms_add_u64(end, size, &end) || end > za->len ||
        size < END64_SIZE - 12)
        end = off + END64_SIZE;
    *record_end = end;
    return true;
}

/* ---------------------------------------------------------------------
 * extra fields
 */

typedef struct zip64_fields {
    bool want_usize, want_csize, want_offset;
    uint64_t usize, csize, offset;
    bool found;   /* a zip64 extra field is present */
    bool missing; /* it lacks a field the header says is there */
    bool broken;  /* an extra field overruns the extra area */
} zip64_fields;

/* Walks the (id, size, data) records of an extra area and decodes the zip64
 * one: the fields are present, in this order, only for the header values
 * that hold the 0xffffffff sentinel. `local` local headers carry both sizes
 * whenever the field is present. */
static void parse_extra(const uint8_t *extra, size_t len, bool local, zip64_fields *z)
{
    ms_cursor c = ms_cursor_make(extra, len);
    while (ms_cursor_left(&c) >= 4) {
        uint16_t id = ms_cursor_u16le(&c);
        uint16_t size = ms_cursor_u16le(&c);
        const uint8_t *body = ms_cursor_take(&c, size);
        if (!body) {
            z->broken = true;
            return;
        }
        if (id != EXTRA_ZIP64 || z->found)
            continue;
        z->found = true;
        ms_cursor f = ms_cursor_make(body, size);
        bool both = local && size >= 16;
        if (z->want_usize || both)
            z->usize = ms_cursor_u64le(&f);
        if (z->want_csize || both)
            z->csize = ms_cursor_u64le(&f);
        if (z->want_offset)
            z->offset = ms_cursor_u64le(&f);
        if (f.error)
            z->missing = true;
    }
}

/* ---------------------------------------------------------------------
 * local headers and descriptors
 */

typedef struct local_header {
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize;
    const uint8_t *name;
    size_t name_len;
    uint64_t data_offset;
    bool zip64;
    bool extra_broken;
} local_header;

static bool read_local(const zip_archive *za, uint64_t off, local_header *lh)
{
    memset(lh, 0, sizeof(*lh));
    ms_cursor c = cursor_at(za, off);
    if (ms_cursor_u32le(&c) != SIG_LOCAL)
        return false;
    ms_cursor_skip(&c, 2); /* version needed */
    lh->flags = ms_cursor_u16le(&c);
    lh->method = ms_cursor_u16le(&c);
    ms_cursor_skip(&c, 4); /* time, date */
    lh->crc = ms_cursor_u32le(&c);
    uint32_t csize = ms_cursor_u32le(&c);
    uint32_t usize = ms_cursor_u32le(&c);
    uint16_t nlen = ms_cursor_u16le(&c);
    uint16_t xlen = ms_cursor_u16le(&c);
    lh->name = ms_cursor_take(&c, nlen);
    lh->name_len = nlen;
    const uint8_t *extra = ms_cursor_take(&c, xlen);
    if (c.error)
        return false;
    lh->csize = csize;
    lh->usize = usize;
    zip64_fields z = {.want_usize = usize == U32_SENTINEL, .want_csize = csize == U32_SENTINEL};
    parse_extra(extra, xlen, true, &z);
    lh->extra_broken = z.broken || ((z.want_usize || z.want_csize) && (!z.found || z.missing));
    if (z.found && !z.missing && (z.want_usize || z.want_csize || xlen >= 20)) {
        if (z.want_usize || (z.found && usize == U32_SENTINEL))
            lh->usize = z.usize;
        if (z.want_csize || (z.found && csize == U32_SENTINEL))
            lh->csize = z.csize;
        lh->zip64 = true;
    }
    lh->data_offset = off + LOCAL_SIZE + nlen + xlen;
    return true;
}

/* With flag bit 3 the sizes follow the data: ["PK\7\8"] crc csize usize,
 * sizes of 4 bytes, or 8 in zip64 archives. The variant whose compressed
 * size matches the data's is taken. */
static bool read_descriptor(const zip_archive *za, uint64_t at, uint64_t csize, bool prefer64,
                            zip_entry *e)
{
    ms_cursor c = cursor_at(za, at);
    bool sig = ms_cursor_u32le(&c) == SIG_DESCRIPTOR;
    uint64_t base = at + (sig ? 4 : 0);
    for (int pass = 0; pass < 2; pass++) {
        bool wide = (pass == 0) == prefer64;
        c = cursor_at(za, base);
        uint32_t crc = ms_cursor_u32le(&c);
        uint64_t cs = wide ? ms_cursor_u64le(&c) : ms_cursor_u32le(&c);
        uint64_t us = wide ? ms_cursor_u64le(&c) : ms_cursor_u32le(&c);
        if (c.error || cs != (wide ? csize : (csize & U32_SENTINEL)))
            continue;
        e->has_descriptor = true;
        e->desc_crc = crc;
        e->desc_comp_size = cs;
        e->desc_uncomp_size = us;
        e->end = base + (wide ? 20 : 12);
        return true;
    }
    return false;
}

static bool range_inside(const zip_archive *za, uint64_t off, uint64_t n)
{
    uint64_t end;
    return ms_add_u64(off, n, &end) && end <= za->len;
}

/* Reads the local header of a listed entry and compares it with the
 * central directory's view. */
static void check_local(zip_archive *za, size_t idx)
{
    zip_entry *e = &za->entries[idx];
    local_header lh;
    if (e->local_offset >= za->len) {
        add_issue(za, ZIP_ISSUE_OUTSIDE, idx, ZIP_NONE, e->local_offset, 0, za->len, 0,
                  "local header offset");
        return;
    }
    if (!read_local(za, e->local_offset, &lh)) {
        add_issue(za, ZIP_ISSUE_LOCAL_MISSING, idx, ZIP_NONE, e->local_offset, 0, 0, 0,
                  "local header");
        return;
    }
    e->local_ok = true;
    e->local_name = lh.name;
    e->local_name_len = lh.name_len;
    e->local_flags = lh.flags;
    e->local_method = lh.method;
    e->local_crc = lh.crc;
    e->local_comp_size = lh.csize;
    e->local_uncomp_size = lh.usize;
    e->data_offset = lh.data_offset;
    e->data_ok = range_inside(za, e->data_offset, e->comp_size);
    e->local_data_ok = range_inside(za, e->data_offset, e->local_comp_size);
    e->end = e->data_ok ? e->data_offset + e->comp_size : za->len;
    if (lh.extra_broken)
        add_issue(za, ZIP_ISSUE_EXTRA_BROKEN, idx, ZIP_NONE, e->local_offset, 0, 0, 0,
                  "local header extra field");
    if (!e->data_ok)
        add_issue(za, ZIP_ISSUE_OUTSIDE, idx, ZIP_NONE, e->data_offset, e->comp_size, za->len, 0,
                  "member data");
    if (lh.name_len != e->name_len || memcmp(lh.name, e->name, e->name_len) != 0)
        add_issue(za, ZIP_ISSUE_NAME_MISMATCH, idx, ZIP_NONE, e->local_offset, 0, e->central_offset,
                  e->local_offset, "name");
    if (lh.flags != e->flags)
        add_issue(za, ZIP_ISSUE_FLAGS_MISMATCH, idx, ZIP_NONE, e->local_offset, 0, e->flags,
                  lh.flags, "general purpose flags");
    uint16_t secret =
        ZIP_FLAG_ENCRYPTED | ZIP_FLAG_PATCHED | ZIP_FLAG_STRONG_ENCRYPTION | ZIP_FLAG_MASKED_HEADER;
    if ((e->flags | lh.flags) & secret)
        add_issue(za, ZIP_ISSUE_ENCRYPTED_FLAG, idx, ZIP_NONE, e->local_offset, 0, e->flags,
                  lh.flags, "general purpose flags");
    if (lh.method != e->method)
        add_issue(za, ZIP_ISSUE_METHOD_MISMATCH, idx, ZIP_NONE, e->local_offset, 0, e->method,
                  lh.method, "compression method");
    bool streamed = (lh.flags | e->flags) & ZIP_FLAG_DESCRIPTOR;
    /* a streaming writer leaves zeros in the local header; anything else
     * there must agree with the directory */
    bool local_sizes = !(streamed && lh.csize == 0 && lh.usize == 0 && lh.crc == 0);
    if (local_sizes) {
        if (lh.csize != e->comp_size)
            add_issue(za, ZIP_ISSUE_SIZE_MISMATCH, idx, ZIP_NONE, e->local_offset, 0, e->comp_size,
                      lh.csize, "compressed size (local header)");
        if (lh.usize != e->uncomp_size)
            add_issue(za, ZIP_ISSUE_SIZE_MISMATCH, idx, ZIP_NONE, e->local_offset, 0,
                      e->uncomp_size, lh.usize, "uncompressed size (local header)");
        if (lh.crc != e->crc)
            add_issue(za, ZIP_ISSUE_CRC_FIELD_MISMATCH, idx, ZIP_NONE, e->local_offset, 0, e->crc,
                      lh.crc, "CRC-32 (local header)");
    }
    if (streamed && e->data_ok) {
        if (!read_descriptor(za, e->end, e->comp_size, e->zip64 || lh.zip64, e)) {
            add_issue(za, ZIP_ISSUE_DESCRIPTOR_MISMATCH, idx, ZIP_NONE, e->end, 0, e->comp_size, 0,
                      "data descriptor");
        } else {
            if (e->desc_uncomp_size != e->uncomp_size)
                add_issue(za, ZIP_ISSUE_SIZE_MISMATCH, idx, ZIP_NONE, e->end, 0, e->uncomp_size,
                          e->desc_uncomp_size, "uncompressed size (data descriptor)");
            if (e->desc_crc != e->crc)
                add_issue(za, ZIP_ISSUE_CRC_FIELD_MISMATCH, idx, ZIP_NONE, e->end, 0, e->crc,
                          e->desc_crc, "CRC-32 (data descriptor)");
        }
    }
}

/* ---------------------------------------------------------------------
 * central directory
 */

typedef struct dir_view {
    uint64_t start, size;
    int64_t shift;       /* added to every local header offset */
    bool valid;          /* starts with a central header inside the file */
    uint64_t parsed_end; /* end of the last entry parsed */
    uint64_t entries;    /* entries parsed */
} dir_view;

/* (central header, local header) of the entries earlier views produced,
 * sorted: a directory range read by two views yields each entry once. */
typedef struct known_entry {
    uint64_t central, local;
} known_entry;

typedef struct known_set {
    known_entry *v;
    size_t n;
} known_set;

static int known_cmp(const void *a, const void *b)
{
    const known_entry *x = a, *y = b;
    if (x->central != y->central)
        return x->central < y->central ? -1 : 1;
    if (x->local != y->local)
        return x->local < y->local ? -1 : 1;
    return 0;
}

static bool known_build(zip_archive *za, known_set *k)
{
    k->n = 0;
    free(k->v);
    k->v = za->nentries ? malloc(za->nentries * sizeof(*k->v)) : NULL;
    if (za->nentries && !k->v) {
        za->nomem = true;
        return false;
    }
    for (size_t i = 0; i < za->nentries; i++)
        k->v[k->n++] = (known_entry){za->entries[i].central_offset, za->entries[i].local_offset};
    if (k->n > 1)
        qsort(k->v, k->n, sizeof(*k->v), known_cmp);
    return true;
}

static bool entry_known(const known_set *k, uint64_t central, uint64_t local)
{
    known_entry key = {central, local};
    return k->n && bsearch(&key, k->v, k->n, sizeof(*k->v), known_cmp) != NULL;
}

/* Parses the entries of one directory view; new entries are appended. */
static void parse_directory(zip_archive *za, dir_view *v, const known_set *known)
{
    uint64_t pos = v->start, end = v->start + v->size;
    v->parsed_end = v->start;
    while (pos < end) {
        ms_cursor c = cursor_at(za, pos);
        if (ms_cursor_u32le(&c) != SIG_CENTRAL) {
            add_issue(za, ZIP_ISSUE_DIRECTORY_BROKEN, ZIP_NONE, ZIP_NONE, pos, end - pos,
                      v->entries, 0, "central directory entry signature");
            return;
        }
        ms_cursor_skip(&c, 4); /* versions */
        uint16_t flags = ms_cursor_u16le(&c);
        uint16_t method = ms_cursor_u16le(&c);
        ms_cursor_skip(&c, 4); /* time, date */
        uint32_t crc = ms_cursor_u32le(&c);
        uint32_t csize = ms_cursor_u32le(&c);
        uint32_t usize = ms_cursor_u32le(&c);
        uint16_t nlen = ms_cursor_u16le(&c);
        uint16_t xlen = ms_cursor_u16le(&c);
        uint16_t clen = ms_cursor_u16le(&c);
        uint16_t disk = ms_cursor_u16le(&c);
        ms_cursor_skip(&c, 6); /* attributes */
        uint32_t loff = ms_cursor_u32le(&c);
        const uint8_t *name = ms_cursor_take(&c, nlen);
        const uint8_t *extra = ms_cursor_take(&c, xlen);
        ms_cursor_skip(&c, clen);
        uint64_t next = pos + CENTRAL_SIZE + nlen + xlen + clen;
        if (c.error || next > end) {
            add_issue(za, ZIP_ISSUE_DIRECTORY_BROKEN, ZIP_NONE, ZIP_NONE, pos, end - pos,
                      v->entries, 0, "central directory entry overruns the directory");
            return;
        }
        zip64_fields z = {.want_usize = usize == U32_SENTINEL,
                          .want_csize = csize == U32_SENTINEL,
                          .want_offset = loff == U32_SENTINEL};
        parse_extra(extra, xlen, false, &z);
        uint64_t local = z.want_offset && z.found && !z.missing ? z.offset : loff;
        uint64_t absolute = UINT64_MAX; /* local + shift, when it is a file offset */
        int64_t shifted;
        if (local <= INT64_MAX && !__builtin_add_overflow((int64_t)local, v->shift, &shifted) &&
            shifted >= 0)
            absolute = (uint64_t)shifted;
        bool inside = absolute != UINT64_MAX;
        v->entries++;
        v->parsed_end = next;
        if (!entry_known(known, pos, absolute)) {
            zip_entry *e = new_entry(za);
            if (!e)
                return;
            size_t idx = za->nentries++;
            e->name = name;
            e->name_len = nlen;
            e->flags = flags;
            e->method = method;
            e->crc = crc;
            e->comp_size = z.want_csize && z.found && !z.missing ? z.csize : csize;
            e->uncomp_size = z.want_usize && z.found && !z.missing ? z.usize : usize;
            e->central_offset = pos;
            e->local_offset = absolute;
            e->in_central = true;
            e->zip64 = z.found && (z.want_usize || z.want_csize || z.want_offset);
            if (z.broken ||
                ((z.want_usize || z.want_csize || z.want_offset) && (!z.found || z.missing)))
                add_issue(za, ZIP_ISSUE_EXTRA_BROKEN, idx, ZIP_NONE, pos, 0, 0, 0,
                          "central directory extra field");
            if (disk != 0 && disk != U16_SENTINEL)
                add_issue(za, ZIP_ISSUE_MULTI_DISK, idx, ZIP_NONE, pos, 0, disk, 0,
                          "member disk number");
            if (!inside)
                add_issue(za, ZIP_ISSUE_OUTSIDE, idx, ZIP_NONE, local, 0, local, 0,
                          "local header offset");
            else
                check_local(za, idx);
        }
        pos = next;
    }
}

static void add_view(dir_view *views, size_t *n, uint64_t start, uint64_t size, int64_t shift)
{
    for (size_t i = 0; i < *n; i++)
        if (views[i].start == start && views[i].size == size && views[i].shift == shift)
            return;
    if (*n >= MAX_VIEWS)
        return;
    dir_view *v = &views[(*n)++];
    memset(v, 0, sizeof(*v));
    v->start = start;
    v->size = size;
    v->shift = shift;
}

/* ---------------------------------------------------------------------
 * layout: extents, overlaps, gaps, unlisted local headers
 */

typedef struct extent {
    uint64_t start, end;
    size_t entry;     /* ZIP_NONE for a directory structure */
    const char *what; /* the structure, for entry == ZIP_NONE */
} extent;

typedef struct extent_list {
    extent *v;
    size_t n, cap;
} extent_list;

static bool extent_add(zip_archive *za, extent_list *l, uint64_t start, uint64_t end, size_t entry,
                       const char *what)
{
    if (end > za->len)
        end = za->len;
    if (start >= end)
        return true;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        extent *n = realloc(l->v, cap * sizeof(*n));
        if (!n) {
            za->nomem = true;
            return false;
        }
        l->v = n;
        l->cap = cap;
    }
    l->v[l->n++] = (extent){start, end, entry, what};
    return true;
}

static int extent_cmp(const void *a, const void *b)
{
    const extent *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    return 0;
}

typedef struct layout {
    const dir_view *views;
    size_t nviews;
    bool have_end64;
    uint64_t end64_offset, end64_end;
    bool have_locator;
    uint64_t locator_offset;
    bool have_end;
    uint64_t end_offset, end_end;
} layout;

static bool build_extents(zip_archive *za, const layout *lo, extent_list *l)
{
    l->n = 0;
    for (size_t i = 0; i < lo->nviews; i++)
        if (lo->views[i].valid && lo->views[i].entries > 0)
            extent_add(za, l, lo->views[i].start, lo->views[i].parsed_end, ZIP_NONE,
                       "central directory");
    if (lo->have_end64)
        extent_add(za, l, lo->end64_offset, lo->end64_end, ZIP_NONE, "zip64 end record");
    if (lo->have_locator)
        extent_add(za, l, lo->locator_offset, lo->locator_offset + LOCATOR64_SIZE, ZIP_NONE,
                   "zip64 locator");
    if (lo->have_end)
        extent_add(za, l, lo->end_offset, lo->end_end, ZIP_NONE, "end record");
    for (size_t i = 0; i < za->nentries; i++) {
        const zip_entry *e = &za->entries[i];
        if (e->local_ok)
            extent_add(za, l, e->local_offset, e->end, i, NULL);
    }
    if (za->nomem)
        return false;
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), extent_cmp);
    return true;
}

static bool same_reading(const zip_entry *a, const zip_entry *b)
{
    return a->data_offset == b->data_offset && a->comp_size == b->comp_size &&
           a->uncomp_size == b->uncomp_size && a->method == b->method;
}

/* Reports every pair of extents that share bytes (each extent against the
 * one reaching furthest before it) and marks members that read exactly the
 * same bytes as an earlier one. */
static void report_overlaps(zip_archive *za, const extent_list *l)
{
    uint64_t reach = 0;
    size_t reacher = ZIP_NONE;
    const char *reacher_what = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const extent *x = &l->v[i];
        if (i > 0 && x->start < reach) {
            size_t a = x->entry, b = reacher;
            const char *what = x->entry == ZIP_NONE ? x->what : reacher_what;
            if (a == ZIP_NONE) {
                a = b;
                b = ZIP_NONE;
            }
            if (a != ZIP_NONE && b != ZIP_NONE &&
                za->entries[a].local_offset == za->entries[b].local_offset &&
                same_reading(&za->entries[a], &za->entries[b])) {
                size_t first = a < b ? a : b, second = a < b ? b : a;
                if (za->entries[second].same_data_as == ZIP_NONE)
                    za->entries[second].same_data_as = first;
            }
            uint64_t shared_end = x->end < reach ? x->end : reach;
            add_issue(za, ZIP_ISSUE_OVERLAP, a, b, x->start, shared_end - x->start, 0, 0,
                      what ? what : "member");
        }
        if (i == 0 || x->end > reach) {
            reach = x->end;
            reacher = x->entry;
            reacher_what = x->what;
        }
    }
}

typedef void (*gap_fn)(zip_archive *za, uint64_t start, uint64_t end, void *ud);

static void for_each_gap(zip_archive *za, const extent_list *l, gap_fn fn, void *ud)
{
    uint64_t pos = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].start > pos)
            fn(za, pos, l->v[i].start, ud);
        if (l->v[i].end > pos)
            pos = l->v[i].end;
    }
    if (pos < za->len)
        fn(za, pos, za->len, ud);
}

/* A streamed local header (flag 3, zero sizes): its data ends at the first
 * "PK\7\8" descriptor whose compressed size equals the distance to it. */
static bool find_streamed_end(zip_archive *za, uint64_t data, uint64_t limit, uint64_t *csize)
{
    static const uint8_t sig[4] = {'P', 'K', 7, 8};
    uint64_t pos = data;
    while (pos + 16 <= limit) {
        /* many streamed headers in one region would make this quadratic:
         * all searches together read at most a few times the file */
        uint64_t span = limit - pos;
        if (span > za->search_left)
            return false;
        const uint8_t *hit = memmem(za->data + pos, (size_t)span, sig, 4);
        uint64_t at = hit ? (uint64_t)(hit - za->data) : limit;
        za->search_left -= at - pos + 1;
        if (!hit)
            return false;
        uint64_t dist = at - data;
        ms_cursor c = cursor_at(za, at + 8);
        uint32_t c32 = ms_cursor_u32le(&c);
        ms_cursor c8 = cursor_at(za, at + 8);
        uint64_t c64 = ms_cursor_u64le(&c8);
        if ((!c.error && c32 == dist) || (!c8.error && c64 == dist)) {
            *csize = dist;
            return true;
        }
        pos = at + 1;
    }
    return false;
}

/* Searches a gap for local headers the directories do not list: what a
 * streaming reader (or a reader of a broken archive) would extract. */
static void walk_gap(zip_archive *za, uint64_t start, uint64_t end, void *ud)
{
    (void)ud;
    static const uint8_t sig[4] = {'P', 'K', 3, 4};
    uint64_t pos = start;
    while (pos + LOCAL_SIZE <= end && !za->nomem) {
        const uint8_t *hit = memmem(za->data + pos, (size_t)(end - pos), sig, 4);
        if (!hit)
            return;
        uint64_t at = (uint64_t)(hit - za->data);
        local_header lh;
        if (!read_local(za, at, &lh)) {
            pos = at + 1;
            continue;
        }
        uint64_t csize = lh.csize;
        bool streamed = (lh.flags & ZIP_FLAG_DESCRIPTOR) && lh.csize == 0;
        if (streamed && !find_streamed_end(za, lh.data_offset, end, &csize)) {
            add_issue(za, ZIP_ISSUE_STREAM_SIZE_UNKNOWN, ZIP_NONE, ZIP_NONE, at, 0, 0, 0,
                      "streamed local header");
            pos = at + 1;
            continue;
        }
        zip_entry *e = new_entry(za);
        if (!e)
            return;
        size_t idx = za->nentries++;
        e->name = e->local_name = lh.name;
        e->name_len = e->local_name_len = lh.name_len;
        e->flags = e->local_flags = lh.flags;
        e->method = e->local_method = lh.method;
        e->crc = e->local_crc = lh.crc;
        e->comp_size = e->local_comp_size = csize;
        e->uncomp_size = e->local_uncomp_size = lh.usize;
        e->local_offset = at;
        e->local_ok = true;
        e->zip64 = lh.zip64;
        e->data_offset = lh.data_offset;
        e->data_ok = e->local_data_ok = range_inside(za, e->data_offset, csize);
        e->end = e->data_ok ? e->data_offset + csize : za->len;
        if (e->data_ok && (lh.flags & ZIP_FLAG_DESCRIPTOR) &&
            read_descriptor(za, e->end, csize, lh.zip64, e) && streamed) {
            e->crc = e->desc_crc;
            e->uncomp_size = e->desc_uncomp_size;
        }
        add_issue(za, ZIP_ISSUE_UNLISTED_LOCAL, idx, ZIP_NONE, at, e->end - at, 0, 0,
                  "local header");
        if (lh.extra_broken)
            add_issue(za, ZIP_ISSUE_EXTRA_BROKEN, idx, ZIP_NONE, at, 0, 0, 0,
                      "local header extra field");
        if (!e->data_ok)
            add_issue(za, ZIP_ISSUE_OUTSIDE, idx, ZIP_NONE, e->data_offset, csize, za->len, 0,
                      "member data");
        if (lh.flags & (ZIP_FLAG_ENCRYPTED | ZIP_FLAG_PATCHED | ZIP_FLAG_STRONG_ENCRYPTION))
            add_issue(za, ZIP_ISSUE_ENCRYPTED_FLAG, idx, ZIP_NONE, at, 0, lh.flags, lh.flags,
                      "general purpose flags");
        pos = e->end > at ? e->end : at + 1;
    }
}

static void report_gap(zip_archive *za, uint64_t start, uint64_t end, void *ud)
{
    const bool *anything = ud;
    if (!*anything)
        return; /* nothing parsed at all: reported as "no end record" */
    zip_issue_kind kind = start == 0       ? ZIP_ISSUE_PREPENDED
                          : end == za->len ? ZIP_ISSUE_APPENDED
                                           : ZIP_ISSUE_GAP;
    add_issue(za, kind, ZIP_NONE, ZIP_NONE, start, end - start, 0, 0, "bytes");
}

typedef struct name_ref {
    const uint8_t *name;
    size_t len;
    size_t idx;
} name_ref;

static int name_ref_cmp(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->name, y->name, n) : 0;
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

static void report_duplicates(zip_archive *za)
{
    if (za->nentries < 2)
        return;
    name_ref *refs = malloc(za->nentries * sizeof(*refs));
    if (!refs) {
        za->nomem = true;
        return;
    }
    for (size_t i = 0; i < za->nentries; i++)
        refs[i] = (name_ref){za->entries[i].name, za->entries[i].name_len, i};
    qsort(refs, za->nentries, sizeof(*refs), name_ref_cmp);
    for (size_t i = 1; i < za->nentries; i++) {
        const name_ref *p = &refs[i - 1], *q = &refs[i];
        if (p->len == q->len && (p->len == 0 || memcmp(p->name, q->name, p->len) == 0))
            add_issue(za, ZIP_ISSUE_DUPLICATE_NAME, q->idx, p->idx,
                      za->entries[q->idx].local_offset, 0, 0, 0, "name");
    }
    free(refs);
}

/* ---------------------------------------------------------------------
 * open
 */

ms_status zip_open(zip_archive *za, const uint8_t *data, size_t len, uint64_t max_entries)
{
    memset(za, 0, sizeof(*za));
    za->data = data;
    za->len = len;
    za->max_entries = max_entries;
    za->search_left = 4 * (uint64_t)len + (64u << 20);
    dir_view views[MAX_VIEWS];
    size_t nviews = 0;
    layout lo = {.views = views};
    end_info end;
    memset(&end, 0, sizeof(end));

    if (find_end_record(za, &end)) {
        za->have_end = lo.have_end = true;
        za->end_offset = lo.end_offset = end.offset;
        za->comment_len = end.comment_len;
        lo.end_end = end.offset + END_SIZE + end.comment_len;
        if (lo.end_end > len)
            add_issue(za, ZIP_ISSUE_OUTSIDE, ZIP_NONE, ZIP_NONE, end.offset,
                      END_SIZE + end.comment_len, len, 0, "end record comment");
        za->declared_entries = end.entries;
        za->directory_offset = end.cd_offset;
        za->directory_size = end.cd_size;
        if (end.disk != 0 || end.cd_disk != 0 || end.entries_here != end.entries)
            add_issue(za, ZIP_ISSUE_MULTI_DISK, ZIP_NONE, ZIP_NONE, end.offset, 0, end.disk,
                      end.cd_disk, "end record disk numbers");

        uint64_t python_base = end.offset; /* Python's zipfile measures from here */
        end_info e64;
        uint64_t e64_end = 0;
        bool sentinel = end.cd_offset == U32_SENTINEL || end.cd_size == U32_SENTINEL ||
                        end.entries == U16_SENTINEL;
        if (end.offset >= LOCATOR64_SIZE &&
            u32_at(za, end.offset - LOCATOR64_SIZE) == SIG_LOCATOR64) {
            lo.have_locator = true;
            lo.locator_offset = end.offset - LOCATOR64_SIZE;
            ms_cursor c = cursor_at(za, lo.locator_offset + 8);
            uint64_t at = ms_cursor_u64le(&c);
            /* miniz follows the locator; Python looks right before it */
            uint64_t before =
                lo.locator_offset >= END64_SIZE ? lo.locator_offset - END64_SIZE : UINT64_MAX;
            bool found = read_end64(za, at, &e64, &e64_end);
            if (!found && before != UINT64_MAX && read_end64(za, before, &e64, &e64_end)) {
                found = true;
                add_issue(za, ZIP_ISSUE_DIRECTORY_MOVED, ZIP_NONE, ZIP_NONE, before, 0, at, before,
                          "zip64 end record");
            }
            if (found) {
                za->zip64 = lo.have_end64 = true;
                za->zip64_end_offset = lo.end64_offset = e64.offset;
                lo.end64_end = e64_end;
                python_base = end.offset >= LOCATOR64_SIZE + END64_SIZE
                                  ? end.offset - LOCATOR64_SIZE - END64_SIZE
                                  : 0;
                if (!sentinel && (e64.cd_offset != end.cd_offset || e64.cd_size != end.cd_size ||
                                  e64.entries != end.entries))
                    add_issue(za, ZIP_ISSUE_END_RECORDS_DIFFER, ZIP_NONE, ZIP_NONE, e64.offset, 0,
                              end.cd_offset, e64.cd_offset, "directory offset or size");
                za->declared_entries = e64.entries;
                za->directory_offset = e64.cd_offset;
                za->directory_size = e64.cd_size;
            } else {
                add_issue(za, ZIP_ISSUE_ZIP64_BROKEN, ZIP_NONE, ZIP_NONE, lo.locator_offset, 0, at,
                          0, "zip64 end record");
            }
        }
        add_view(views, &nviews, za->directory_offset, za->directory_size, 0);
        /* the classic record, where it names another directory than zip64 */
        if (za->zip64 && !sentinel &&
            (end.cd_offset != za->directory_offset || end.cd_size != za->directory_size))
            add_view(views, &nviews, end.cd_offset, end.cd_size, 0);
        /* prepended bytes: Python finds the directory right before the end
         * records and shifts every offset by the difference */
        if (python_base >= za->directory_size) {
            uint64_t expected = python_base - za->directory_size;
            if (expected != za->directory_offset && expected <= INT64_MAX &&
                za->directory_offset <= INT64_MAX)
                add_view(views, &nviews, expected, za->directory_size,
                         (int64_t)expected - (int64_t)za->directory_offset);
        }
        /* the views the end records point at, first one first */
        for (size_t i = 0; i < nviews; i++) {
            dir_view *v = &views[i];
            uint64_t vend;
            v->valid = ms_add_u64(v->start, v->size, &vend) && vend <= len &&
                       (v->size == 0 || u32_at(za, v->start) == SIG_CENTRAL);
        }
        lo.nviews = nviews;
        size_t valid = 0, with_entries = 0, first_valid = 0;
        known_set known = {NULL, 0};
        for (size_t i = 0; i < nviews; i++) {
            if (!views[i].valid || !known_build(za, &known))
                continue;
            if (valid++ == 0)
                first_valid = i;
            parse_directory(za, &views[i], &known);
            if (views[i].entries)
                with_entries++;
            if (views[i].entries != za->declared_entries &&
                views[i].parsed_end == views[i].start + views[i].size)
                add_issue(za, ZIP_ISSUE_COUNT_MISMATCH, ZIP_NONE, ZIP_NONE, views[i].start,
                          views[i].size, za->declared_entries, views[i].entries,
                          "entries in the central directory");
        }
        free(known.v);
        if (valid == 0) {
            uint64_t vend = 0;
            bool inside =
                ms_add_u64(za->directory_offset, za->directory_size, &vend) && vend <= len;
            add_issue(za, inside ? ZIP_ISSUE_DIRECTORY_BROKEN : ZIP_ISSUE_OUTSIDE, ZIP_NONE,
                      ZIP_NONE, za->directory_offset, za->directory_size, len, 0,
                      "central directory");
        }
        if (!views[0].valid && valid > 0)
            add_issue(za, ZIP_ISSUE_DIRECTORY_MOVED, ZIP_NONE, ZIP_NONE, za->directory_offset,
                      za->directory_size, za->directory_offset, views[first_valid].start,
                      "central directory");
        else if (with_entries > 1)
            add_issue(za, ZIP_ISSUE_DIRECTORY_MOVED, ZIP_NONE, ZIP_NONE, views[0].start, 0,
                      views[0].start, views[nviews - 1].start, "two central directories");
    } else {
        add_issue(za, ZIP_ISSUE_NO_END_RECORD, ZIP_NONE, ZIP_NONE, len, 0, 0, 0, "end record");
    }

    /* local headers no directory lists, found in the bytes no structure
     * explains; then the final layout */
    extent_list l = {NULL, 0, 0};
    if (build_extents(za, &lo, &l)) {
        for_each_gap(za, &l, walk_gap, NULL);
        if (build_extents(za, &lo, &l)) {
            report_overlaps(za, &l);
            bool anything = l.n > 0;
            for_each_gap(za, &l, report_gap, &anything);
        }
    }
    free(l.v);
    report_duplicates(za);
    return za->nomem ? MS_NOMEM : MS_OK;
}

void zip_close(zip_archive *za)
{
    if (!za)
        return;
    free(za->entries);
    free(za->issues);
    za->entries = NULL;
    za->issues = NULL;
    za->nentries = za->nissues = 0;
}

/* ---------------------------------------------------------------------
 * data
 */

/* One decoder behind one driver: a step consumes from *in and produces
 * into *out (both advanced, both at most 1 GiB at a time) and says whether
 * the stream ended. The driver feeds the caller's buffer, then one probe
 * byte past it to tell a member that holds more than its declared size. */
typedef enum step_rc { STEP_MORE, STEP_END, STEP_BAD, STEP_NOMEM } step_rc;
typedef step_rc (*step_fn)(void *state, const uint8_t **in, size_t *in_left, uint8_t **out,
                           size_t *out_left);

static zip_inflate_result drive(step_fn step, void *state, const uint8_t *in, uint64_t in_len,
                                uint8_t *out, size_t cap, size_t *produced, bool end_at_cap)
{
    enum { CHUNK = 1u << 30 };
    uint64_t fed = 0;
    size_t done = 0, in_left = 0, out_left = 0;
    const uint8_t *next_in = in;
    uint8_t *next_out = out, probe;
    bool probing = false;
    unsigned stalls = 0;
    zip_inflate_result res;
    for (;;) {
        if (in_left == 0 && fed < in_len) {
            uint64_t n = in_len - fed < CHUNK ? in_len - fed : CHUNK;
            next_in = in + fed;
            in_left = (size_t)n;
            fed += n;
        }
        if (out_left == 0) {
            if (probing) {
                res = ZIP_INFLATE_OVERFLOW;
                break;
            }
            if (done < cap) {
                size_t n = cap - done < CHUNK ? cap - done : CHUNK;
                next_out = out + done;
                out_left = n;
            } else {
                /* the declared size is reached: does the stream hold more? */
                probing = true;
                next_out = &probe;
                out_left = 1;
            }
        }
        size_t in_before = in_left, out_before = out_left;
        step_rc rc = step(state, &next_in, &in_left, &next_out, &out_left);
        if (!probing)
            done += out_before - out_left;
        if (rc == STEP_END) {
            res = probing && out_left == 0 ? ZIP_INFLATE_OVERFLOW : ZIP_INFLATE_OK;
            break;
        }
        if (rc == STEP_BAD || rc == STEP_NOMEM) {
            res = rc == STEP_BAD ? ZIP_INFLATE_BAD : ZIP_INFLATE_NOMEM;
            break;
        }
        if (in_left == 0 && fed >= in_len && out_left != 0) {
            /* all input used, no end of stream: a stream without an end
             * marker (LZMA) ends where its declared size does */
            res = end_at_cap && probing ? ZIP_INFLATE_OK : ZIP_INFLATE_SHORT;
            break;
        }
        if (in_left != in_before || out_left != out_before) {
            stalls = 0;
        } else if (++stalls > 3) {
            res = ZIP_INFLATE_BAD; /* no progress with input and room left */
            break;
        }
    }
    *produced = done;
    return res;
}

static step_rc deflate_step(void *state, const uint8_t **in, size_t *in_left, uint8_t **out,
                            size_t *out_left)
{
    z_stream *zs = state;
    zs->next_in = *in;
    zs->avail_in = (uInt)*in_left;
    zs->next_out = *out;
    zs->avail_out = (uInt)*out_left;
    int rc = inflate(zs, Z_NO_FLUSH);
    *in = zs->next_in;
    *in_left = zs->avail_in;
    *out = zs->next_out;
    *out_left = zs->avail_out;
    return rc == Z_STREAM_END                     ? STEP_END
           : rc == Z_OK || rc == Z_BUF_ERROR      ? STEP_MORE
           : rc == Z_MEM_ERROR                    ? STEP_NOMEM
                                                  : STEP_BAD;
}

zip_inflate_result zip_inflate(const uint8_t *in, uint64_t in_len, uint8_t *out, size_t cap,
                               size_t *produced)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    *produced = 0;
    if (inflateInit2(&zs, -15) != Z_OK)
        return ZIP_INFLATE_NOMEM;
    zip_inflate_result r = drive(deflate_step, &zs, in, in_len, out, cap, produced, false);
    inflateEnd(&zs);
    return r;
}

static step_rc bzip2_step(void *state, const uint8_t **in, size_t *in_left, uint8_t **out,
                          size_t *out_left)
{
    bz_stream *bz = state;
    bz->next_in = (char *)(uintptr_t)*in; /* bzlib's API is not const-correct */
    bz->avail_in = (unsigned)*in_left;
    bz->next_out = (char *)*out;
    bz->avail_out = (unsigned)*out_left;
    int rc = BZ2_bzDecompress(bz);
    *in = (const uint8_t *)bz->next_in;
    *in_left = bz->avail_in;
    *out = (uint8_t *)bz->next_out;
    *out_left = bz->avail_out;
    return rc == BZ_STREAM_END ? STEP_END
           : rc == BZ_OK       ? STEP_MORE
           : rc == BZ_MEM_ERROR ? STEP_NOMEM
                                : STEP_BAD;
}

static step_rc lzma_step(void *state, const uint8_t **in, size_t *in_left, uint8_t **out,
                         size_t *out_left)
{
    lzma_stream *ls = state;
    ls->next_in = *in;
    ls->avail_in = *in_left;
    ls->next_out = *out;
    ls->avail_out = *out_left;
    lzma_ret rc = lzma_code(ls, LZMA_RUN);
    *in = ls->next_in;
    *in_left = ls->avail_in;
    *out = ls->next_out;
    *out_left = ls->avail_out;
    return rc == LZMA_STREAM_END                      ? STEP_END
           : rc == LZMA_OK || rc == LZMA_BUF_ERROR    ? STEP_MORE
           : rc == LZMA_MEM_ERROR                     ? STEP_NOMEM
                                                      : STEP_BAD;
}

static step_rc zstd_step(void *state, const uint8_t **in, size_t *in_left, uint8_t **out,
                         size_t *out_left)
{
    ZSTD_inBuffer ib = {*in, *in_left, 0};
    ZSTD_outBuffer ob = {*out, *out_left, 0};
    size_t rc = ZSTD_decompressStream(state, &ob, &ib);
    *in += ib.pos;
    *in_left -= ib.pos;
    *out += ob.pos;
    *out_left -= ob.pos;
    if (ZSTD_isError(rc))
        return ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation ? STEP_NOMEM : STEP_BAD;
    return rc == 0 ? STEP_END : STEP_MORE; /* 0: a frame is complete */
}

/* Method 14: a 4-byte header (LZMA SDK version, properties length, little
 * endian), the 5 LZMA1 properties bytes, then the raw LZMA1 stream, with or
 * without an end marker (flag bit 1), as Python's zipfile reads it. */
static zip_inflate_result lzma1_member(const uint8_t *in, uint64_t in_len, uint8_t *out,
                                       size_t cap, size_t *produced)
{
    if (in_len < 9 || (in[2] | (in[3] << 8)) != 5)
        return ZIP_INFLATE_BAD;
    lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, NULL}, {LZMA_VLI_UNKNOWN, NULL}};
    if (lzma_properties_decode(&filters[0], NULL, in + 4, 5) != LZMA_OK)
        return ZIP_INFLATE_BAD;
    /* the dictionary is allocated whole: what is declared can be 4 GiB. No
     * distance can reach back further than the bytes produced (at most
     * cap + 1), so a dictionary of that size decodes the same bytes. */
    lzma_options_lzma *opt = filters[0].options;
    if (opt->dict_size > cap + (size_t)1 && cap < UINT32_MAX - 4096)
        opt->dict_size = cap + 1 < 4096 ? 4096 : (uint32_t)(cap + 1);
    lzma_stream ls = LZMA_STREAM_INIT;
    lzma_ret rc = lzma_raw_decoder(&ls, filters);
    free(filters[0].options);
    if (rc != LZMA_OK)
        return rc == LZMA_MEM_ERROR ? ZIP_INFLATE_NOMEM : ZIP_INFLATE_BAD;
    zip_inflate_result r = drive(lzma_step, &ls, in + 9, in_len - 9, out, cap, produced, true);
    lzma_end(&ls);
    return r;
}

bool zip_method_decoded(unsigned method)
{
    return method == ZIP_METHOD_STORED || method == ZIP_METHOD_DEFLATE ||
           method == ZIP_METHOD_BZIP2 || method == ZIP_METHOD_LZMA ||
           method == ZIP_METHOD_ZSTD || method == ZIP_METHOD_XZ;
}

zip_inflate_result zip_decompress(unsigned method, const uint8_t *in, uint64_t in_len,
                                  uint8_t *out, size_t cap, size_t *produced)
{
    *produced = 0;
    zip_inflate_result r = ZIP_INFLATE_BAD;
    switch (method) {
    case ZIP_METHOD_DEFLATE:
        return zip_inflate(in, in_len, out, cap, produced);
    case ZIP_METHOD_BZIP2: {
        bz_stream bz;
        memset(&bz, 0, sizeof(bz));
        int rc = BZ2_bzDecompressInit(&bz, 0, 0);
        if (rc != BZ_OK)
            return rc == BZ_MEM_ERROR ? ZIP_INFLATE_NOMEM : ZIP_INFLATE_BAD;
        r = drive(bzip2_step, &bz, in, in_len, out, cap, produced, false);
        BZ2_bzDecompressEnd(&bz);
        return r;
    }
    case ZIP_METHOD_LZMA:
        return lzma1_member(in, in_len, out, cap, produced);
    case ZIP_METHOD_XZ: {
        lzma_stream ls = LZMA_STREAM_INIT;
        lzma_ret rc = lzma_stream_decoder(&ls, ZIP_DECODER_MEMORY, 0);
        if (rc != LZMA_OK)
            return rc == LZMA_MEM_ERROR ? ZIP_INFLATE_NOMEM : ZIP_INFLATE_BAD;
        r = drive(lzma_step, &ls, in, in_len, out, cap, produced, false);
        lzma_end(&ls);
        return r;
    }
    case ZIP_METHOD_ZSTD: {
        ZSTD_DStream *ds = ZSTD_createDStream();
        if (!ds)
            return ZIP_INFLATE_NOMEM;
        /* a window of at most 128 MiB (zstd's own default ceiling) */
        if (ZSTD_isError(ZSTD_DCtx_setParameter(ds, ZSTD_d_windowLogMax, 27))) {
            ZSTD_freeDStream(ds);
            return ZIP_INFLATE_NOMEM;
        }
        r = drive(zstd_step, ds, in, in_len, out, cap, produced, false);
        ZSTD_freeDStream(ds);
        return r;
    }
    default:
        return ZIP_INFLATE_BAD;
    }
}

uint32_t zip_crc32(const uint8_t *data, size_t len)
{
    return (uint32_t)crc32_z(0, data, len);
}

const char *zip_name_problem(const uint8_t *name, size_t len)
{
    if (memchr(name, 0, len))
        return "NUL byte";
    if (len > 0 && (name[0] == '/' || name[0] == '\\'))
        return "absolute path";
    if (len >= 2 && name[1] == ':' &&
        ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        return "drive letter";
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '/' || name[i] == '\\') {
            if (i - start == 2 && name[start] == '.' && name[start + 1] == '.')
                return "'..' component";
            start = i + 1;
        }
    }
    if (memchr(name, '\\', len))
        return "backslash";
    return NULL;
}
