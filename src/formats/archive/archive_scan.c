/*
 * archive_scan.c - containers other than ZIP, read through libarchive (7z,
 * tar, gzip, bzip2, xz, zstd, lz4) and zlib (raw zlib streams).
 *
 *   7z (https://py7zr.readthedocs.io/en/latest/archive_format.html, 7-Zip's 7zFormat.txt)
 *   +--------------------+---------------------------+-------------------------+
 *   | signature header   | packed streams            | header (often packed    |
 *   | '7z' BC AF 27 1C,  | (LZMA/LZMA2/BZip2/Deflate | itself): folders,       |
 *   | version, CRC,      |  /PPMd/AES..., several    | coders, sizes, names,   |
 *   | next header offset | files per solid folder)   | attributes              |
 *   +--------------------+---------------------------+-------------------------+
 *
 *   tar (POSIX ustar/pax, https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html)
 *   +-------------------+-----------------+-------------------+-----+-------------+
 *   | 512-byte header:  | data, padded to | next header ...   | ... | two zero    |
 *   | name, mode, size, | 512 bytes       | (pax 'x'/'g' and  |     | blocks      |
 *   | type, link, ustar |                 |  GNU 'L' headers) |     |             |
 *   +-------------------+-----------------+-------------------+-----+-------------+
 *
 *   single compressed streams (decompressed into one member):
 *   gzip  1F 8B 08 FLG MTIME XFL OS [FEXTRA][FNAME\0][FCOMMENT\0][FHCRC] deflate CRC32 ISIZE
 *         (RFC 1952; members may be concatenated)
 *   bzip2 'BZh' 1-9, blocks 31 41 59 26 53 59 ..., end 17 72 45 38 50 90  (bzip2 docs)
 *   xz    FD '7zXZ' 00, stream flags, blocks, index, footer 'YZ'   (tukaani xz-file-format)
 *   zstd  28 B5 2F FD frame header, blocks, optional checksum      (RFC 8878)
 *   lz4   04 22 4D 18 FLG BD [size] [dict id] HC, blocks, end mark (lz4 Frame_format.md)
 *   zlib  CMF FLG (CM = 8, (CMF*256 + FLG) % 31 == 0, FDICT = 0) deflate ADLER32
 *         (RFC 1950; joblib writes compressed pickles this way, possibly several
 *         streams back to back, all of which joblib reads)
 *
 * Why a library: the decoders (LZMA, PPMd, BCJ2, bzip2, zstd ...) are large,
 * and libarchive is the reader Debian ships for all of them. It is used only
 * from memory (archive_read_open_memory): nothing is extracted, no path is
 * opened. Filters are appended one at a time (archive_read_append_filter), so
 * libarchive never peels nested compression layers on its own: each layer is
 * a member of its own at depth + 1 and counts against the depth limit; and a
 * filter is used only when libarchive decodes it natively (never through an
 * external program). Raw zlib, which libarchive does not read, goes through
 * zlib's inflate.
 *
 * Member names in locations ("a.7z!dir/x.pkl"):
 *   - 7z and tar members: their path in the archive;
 *   - a compressed tar (tar.gz, tar.xz ...) is one container: its members
 *     appear directly ("a.tar.gz!dir/x.pkl");
 *   - any other compressed stream: the gzip FNAME when present, otherwise
 *     "<decompressed>" ("model.pkl.xz!<decompressed>", "a.gz!model.pkl");
 *   so gzip of a tar of a 7z of a pickle is "a.tar.gz!inner.7z!x.pkl" and a
 *   gzip inside a gzip is "a.gz.gz!<decompressed>!<decompressed>".
 *
 * A plain tar with regular members named "pickle", "tensors" and "storages"
 * is a pre-1.0 PyTorch checkpoint (reported as "pytorch-tar"): torch.load
 * reads it by those names, and its "storages" and "tensors" members, which
 * put raw data between pickles, are walked by src/formats/pickle/torch_tar.c
 * instead of being analysed by content.
 *
 * Memory: a member is read in 1 MiB chunks into one buffer, reserving each
 * chunk against the per-file budget first, and stopped at the per-member limit
 * or when it decompresses more than archive_max_ratio times its compressed
 * size. A member still going after HOLD_UNRECOGNISED bytes whose beginning is
 * of no format that can carry code is not held any further: it is decoded to
 * its end (integrity, limits) keeping only its last bytes, which are checked
 * for a ZIP end record (a loader could open such a file as a ZIP).
 */
#include "archive_scan.h"

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../util/checked.h"
#include "../../util/cursor.h"
#include "../../util/strbuf.h"
#include "../format.h"
#include "../pickle/torch_tar.h"

enum {
    CHUNK = 1 << 20,           /* bytes decoded per read */
    RATIO_MIN_BYTES = 1 << 20, /* the ratio limit applies to members above this */
    ZIP_TAIL = 22 + 65535,     /* ZIP end record + longest comment */
    NAME_MAX_BYTES = 4096,     /* longer member names are shortened in locations */
    MAX_RETRIES = 16,          /* ARCHIVE_RETRY answers tolerated per container */
    PROBE_ZLIB_IN = 4096,      /* input inflated by the zlib probe */
};

/* Members that keep going past this many bytes and do not start like any
 * format that can carry code are decoded without being held (see above):
 * a gzip bomb of zeros costs this much memory, not the per-member limit. */
#define HOLD_UNRECOGNISED ((uint64_t)64 << 20)

typedef enum kind {
    KIND_7Z,
    KIND_TAR,
    KIND_GZIP,
    KIND_BZIP2,
    KIND_XZ,
    KIND_ZSTD,
    KIND_LZ4,
    KIND_LZMA,
} kind;

static const struct kind_info {
    const char *name;       /* in messages */
    int filter;             /* libarchive filter code for single streams */
    const char *tar_detail; /* reported format of a compressed tar */
} kinds[] = {
    [KIND_7Z] = {"7z", ARCHIVE_FILTER_NONE, NULL},
    [KIND_TAR] = {"tar", ARCHIVE_FILTER_NONE, NULL},
    [KIND_GZIP] = {"gzip", ARCHIVE_FILTER_GZIP, "tar.gz"},
    [KIND_BZIP2] = {"bzip2", ARCHIVE_FILTER_BZIP2, "tar.bz2"},
    [KIND_XZ] = {"xz", ARCHIVE_FILTER_XZ, "tar.xz"},
    [KIND_ZSTD] = {"zstd", ARCHIVE_FILTER_ZSTD, "tar.zst"},
    [KIND_LZ4] = {"lz4", ARCHIVE_FILTER_LZ4, "tar.lz4"},
    [KIND_LZMA] = {"lzma", ARCHIVE_FILTER_LZMA, "tar.lzma"},
};

/* ------------------------------------------------------------------------ */
/* probes                                                                   */
/* ------------------------------------------------------------------------ */

static bool zlib_header_ok(const uint8_t *d, size_t n)
{
    return n >= 2 && (d[0] & 0x0f) == 8 && (d[0] >> 4) <= 7 && (d[1] & 0x20) == 0 &&
           ((unsigned)d[0] * 256 + d[1]) % 31 == 0;
}

bool archive_probe_zlib(const uint8_t *data, size_t len)
{
    if (len < 8 || !zlib_header_ok(data, len))
        return false;
    uint8_t out[16384];
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK)
        return false;
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)(len < PROBE_ZLIB_IN ? len : PROBE_ZLIB_IN);
    bool ok = false;
    for (;;) {
        zs.next_out = out;
        zs.avail_out = sizeof(out);
        int r = inflate(&zs, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            ok = true;
            break;
        }
        if (r != Z_OK) {
            /* Z_BUF_ERROR: the window was decoded without error (the stream
             * goes on beyond it); anything else is not deflate data */
            ok = r == Z_BUF_ERROR && zs.avail_in == 0 && zs.total_out > 0;
            break;
        }
        if (zs.avail_in == 0 && zs.avail_out != 0) {
            ok = zs.total_out > 0;
            break;
        }
    }
    inflateEnd(&zs);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* sources of decoded member bytes                                          */
/* ------------------------------------------------------------------------ */

typedef struct source {
    /* > 0: bytes written to dst; 0: end of member; -1: the data is broken */
    ptrdiff_t (*read)(void *impl, uint8_t *dst, size_t cap);
    uint64_t (*consumed)(void *impl); /* compressed input bytes consumed so far */
    const char *(*error)(void *impl);
    void *impl;
} source;

/* libarchive member data, read block by block: archive_read_data() would
 * drop the bytes of a request that an error interrupts, and the bytes before a
 * break are exactly what must still be analysed. Holes of sparse members
 * (a block starting past the current offset) read as zeros. */
typedef struct lasource {
    struct archive *a;
    const uint8_t *blk;
    size_t blk_left;
    int64_t blk_off; /* member offset of blk */
    int64_t pos;     /* member offset of the next byte produced */
    bool eof, failed;
    const char *msg;
} lasource;

static ptrdiff_t la_read(void *impl, uint8_t *dst, size_t cap)
{
    lasource *s = impl;
    size_t produced = 0;
    while (produced < cap) {
        if (s->blk_left == 0 && s->blk_off <= s->pos) {
            if (s->eof || s->failed)
                break;
            const void *p;
            size_t size;
            la_int64_t off;
            int r = archive_read_data_block(s->a, &p, &size, &off);
            if (r == ARCHIVE_EOF) {
                s->eof = true;
                break;
            }
            if (r < ARCHIVE_WARN || off < s->pos) {
                s->failed = true;
                s->msg = r < ARCHIVE_WARN ? NULL : "data blocks go backwards";
                break;
            }
            s->blk = p;
            s->blk_left = size;
            s->blk_off = off;
        }
        if (s->blk_off > s->pos) { /* a hole */
            uint64_t gap = (uint64_t)(s->blk_off - s->pos);
            size_t n = gap < cap - produced ? (size_t)gap : cap - produced;
            memset(dst + produced, 0, n);
            produced += n;
            s->pos += (int64_t)n;
            continue;
        }
        size_t n = s->blk_left < cap - produced ? s->blk_left : cap - produced;
        memcpy(dst + produced, s->blk, n);
        s->blk += n;
        s->blk_left -= n;
        s->blk_off += (int64_t)n;
        s->pos += (int64_t)n;
        produced += n;
    }
    if (produced > 0)
        return (ptrdiff_t)produced;
    return s->failed ? -1 : 0;
}

static uint64_t la_consumed(void *impl)
{
    la_int64_t n = archive_filter_bytes(((lasource *)impl)->a, -1);
    return n > 0 ? (uint64_t)n : 0;
}

static const char *la_error(void *impl)
{
    lasource *s = impl;
    const char *e = s->msg ? s->msg : archive_error_string(s->a);
    return e ? e : "unknown error";
}

typedef struct zsource {
    z_stream zs;
    const uint8_t *data;
    size_t len, off;
    bool done, failed;
    uint32_t streams;
    char msg[160];
} zsource;

static ptrdiff_t z_read(void *impl, uint8_t *dst, size_t cap)
{
    zsource *z = impl;
    size_t produced = 0;
    while (produced < cap && !z->done && !z->failed) {
        size_t in_left = z->len - z->off;
        size_t out_left = cap - produced;
        z->zs.next_in = (Bytef *)(uintptr_t)(z->data + z->off);
        z->zs.avail_in = (uInt)(in_left < UINT_MAX ? in_left : UINT_MAX);
        z->zs.next_out = dst + produced;
        z->zs.avail_out = (uInt)(out_left < UINT_MAX ? out_left : UINT_MAX);
        uInt in_before = z->zs.avail_in, out_before = z->zs.avail_out;
        int r = inflate(&z->zs, Z_NO_FLUSH);
        z->off += in_before - z->zs.avail_in;
        produced += out_before - z->zs.avail_out;
        if (r == Z_STREAM_END) {
            z->streams++;
            size_t rest = z->len - z->off;
            if (rest == 0) {
                z->done = true;
            } else if (zlib_header_ok(z->data + z->off, rest)) {
                /* joblib reads zlib streams back to back: so do we */
                if (inflateReset(&z->zs) != Z_OK) {
                    snprintf(z->msg, sizeof(z->msg), "zlib could not be reset");
                    z->failed = true;
                }
            } else {
                snprintf(z->msg, sizeof(z->msg),
                         "%zu bytes after the end of zlib stream %u are not a zlib stream", rest,
                         z->streams);
                z->failed = true;
            }
        } else if ((r == Z_OK || r == Z_BUF_ERROR) && z->zs.avail_out != 0) {
            /* room left for output, yet the stream wants more: only the end
             * of the input explains that */
            if (z->off == z->len) {
                snprintf(z->msg, sizeof(z->msg), "the zlib stream is truncated");
                z->failed = true;
            } else if (r == Z_BUF_ERROR) {
                snprintf(z->msg, sizeof(z->msg), "zlib made no progress");
                z->failed = true;
            }
        } else if (r != Z_OK && r != Z_BUF_ERROR) {
            snprintf(z->msg, sizeof(z->msg), "zlib: %s",
                     z->zs.msg ? z->zs.msg : "invalid deflate data");
            z->failed = true;
        }
    }
    if (produced > 0)
        return (ptrdiff_t)produced;
    return z->failed ? -1 : 0;
}

static uint64_t z_consumed(void *impl)
{
    return ((zsource *)impl)->off;
}

static const char *z_error(void *impl)
{
    return ((zsource *)impl)->msg;
}

/* ------------------------------------------------------------------------ */
/* one member                                                               */
/* ------------------------------------------------------------------------ */

typedef struct job {
    ms_scan_ctx *ctx;
    const char *kind; /* "7z", "gzip" ... */
    uint64_t entries; /* headers seen, every entry type */
    uint64_t decoded; /* bytes decoded from earlier members */
    bool stop;        /* a limit ended the whole container */
    bool nomem;
    bool malformed; /* ARCHIVE-MALFORMED already reported */
    bool torch_tar; /* a pre-1.0 PyTorch tar: some members are walked by layout */
} job;

typedef enum member_end {
    END_EOF,
    END_ERROR,
    END_MEMBER_LIMIT,
    END_RATIO,
    END_BUDGET,
    END_TIME,
    END_NOMEM,
} member_end;

static void report_malformed(job *j, const char *member, uint64_t at, const char *why)
{
    ms_scan_ctx *ctx = j->ctx;
    j->malformed = true;
    if (member)
        ms_report_add(ctx->report, "ARCHIVE-MALFORMED", ctx->location,
                      json_pack("{s:s, s:s, s:I, s:s}", "container", j->kind, "member", member,
                                "decoded_bytes", (json_int_t)at, "error", why),
                      "The %s data breaks inside member '%s' after %llu decoded bytes (%s). "
                      "Everything readable before the break was analysed; what follows it was "
                      "not.",
                      j->kind, member, (unsigned long long)at, why);
    else
        ms_report_add(ctx->report, "ARCHIVE-MALFORMED", ctx->location,
                      json_pack("{s:s, s:s, s:I}", "container", j->kind, "error", why,
                                "entries_read", (json_int_t)j->entries),
                      "The %s container cannot be read past entry %llu (%s). Members before the "
                      "break were analysed; anything after it was not.",
                      j->kind, (unsigned long long)j->entries, why);
}

static bool tail_has_zip_end(const uint8_t *t, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (t[i] == 'P' && memcmp(t + i, "PK\x05\x06", 4) == 0)
            return true;
    return false;
}

static void tail_push(uint8_t *tail, size_t *tail_len, const uint8_t *p, size_t n)
{
    if (n >= ZIP_TAIL) {
        memcpy(tail, p + n - ZIP_TAIL, ZIP_TAIL);
        *tail_len = ZIP_TAIL;
        return;
    }
    size_t keep = *tail_len < ZIP_TAIL - n ? *tail_len : ZIP_TAIL - n;
    memmove(tail, tail + *tail_len - keep, keep);
    memcpy(tail + keep, p, n);
    *tail_len = keep + n;
}

/* Returns true when `out` decoded bytes from `in` compressed ones exceed the
 * ratio limit. */
static bool ratio_exceeded(const ms_limits *lim, uint64_t out, uint64_t in)
{
    uint64_t allowed;
    if (lim->archive_max_ratio == 0)
        return false;
    if (!ms_mul_u64(in ? in : 1, lim->archive_max_ratio, &allowed))
        return false;
    return out > allowed;
}

/* A source that first returns bytes already read (a peek), then the rest. */
typedef struct prefixed {
    source *inner;
    const uint8_t *p;
    size_t n;
} prefixed;

static ptrdiff_t prefixed_read(void *impl, uint8_t *dst, size_t cap)
{
    prefixed *s = impl;
    if (s->n == 0)
        return s->inner->read(s->inner->impl, dst, cap);
    size_t n = s->n < cap ? s->n : cap;
    memcpy(dst, s->p, n);
    s->p += n;
    s->n -= n;
    return (ptrdiff_t)n;
}

static uint64_t prefixed_consumed(void *impl)
{
    prefixed *s = impl;
    return s->inner->consumed(s->inner->impl);
}

static const char *prefixed_error(void *impl)
{
    prefixed *s = impl;
    return s->inner->error(s->inner->impl);
}

/* Reads member `name` (sanitised) from src and scans it. `declared` is the
 * size the container states, or -1 when unknown. */
static void scan_member_data(job *j, const char *name, source *src, int64_t declared);

static void scan_member(job *j, const char *name, source *src, int64_t declared)
{
    if (declared != 0) {
        scan_member_data(j, name, src, declared);
        return;
    }
    /* an empty member carries nothing: confirm it is empty without the
     * allocations a member costs (a million empty members is a bomb too) */
    uint8_t first;
    ptrdiff_t n = src->read(src->impl, &first, 1);
    if (n == 0)
        return;
    if (n < 0) {
        report_malformed(j, name, 0, src->error(src->impl));
        return;
    }
    prefixed pre = {src, &first, 1};
    source again = {prefixed_read, prefixed_consumed, prefixed_error, &pre};
    scan_member_data(j, name, &again, -1);
}

static void scan_member_data(job *j, const char *name, source *src, int64_t declared)
{
    ms_scan_ctx *ctx = j->ctx;
    const ms_limits *lim = ctx->limits;
    char *loc = ms_strdup_printf("%s!%s", ctx->location, name);
    char *what = ms_strdup_printf("member '%s' of this %s", name, j->kind);
    uint8_t *buf = NULL, *scratch = NULL, *tail = NULL;
    size_t len = 0, cap = 0, tail_len = 0;
    uint64_t total = 0, in_used = 0;
    bool streaming = false, decided = false;
    const char *held_as = NULL; /* the prefix's format when not held */
    member_end end = END_EOF;
    const char *err = NULL;

    if (!loc || !what) {
        j->nomem = true;
        goto out;
    }
    if (declared > 0 && (uint64_t)declared > lim->archive_max_member) {
        ms_report_add(ctx->report, "SCAN-LIMIT", loc,
                      json_pack("{s:s, s:I, s:I}", "limit", "bytes of one decompressed member",
                                "declared", (json_int_t)declared, "max",
                                (json_int_t)lim->archive_max_member),
                      "The %s declares this member as %lld bytes, above the per-member limit of "
                      "%llu bytes; it was not analysed.",
                      j->kind, (long long)declared, (unsigned long long)lim->archive_max_member);
        goto out;
    }
    for (;;) {
        if (!ms_budget_time_left(ctx)) {
            end = END_TIME;
            break;
        }
        if (total >= lim->archive_max_member) {
            uint8_t one;
            ptrdiff_t n = src->read(src->impl, &one, 1);
            if (n > 0)
                end = END_MEMBER_LIMIT;
            else if (n < 0)
                end = END_ERROR;
            break;
        }
        size_t want = CHUNK;
        if (lim->archive_max_member - total < want)
            want = (size_t)(lim->archive_max_member - total);
        if (!ms_budget_expand(ctx, want, what)) {
            end = END_BUDGET;
            break;
        }
        uint8_t *dst;
        if (streaming) {
            dst = scratch;
        } else {
            if (cap - len < want) {
                uint8_t *nb = realloc(buf, len + want);
                if (!nb) {
                    ctx->budget->expanded_bytes -= want;
                    end = END_NOMEM;
                    break;
                }
                buf = nb;
                cap = len + want;
            }
            dst = buf + len;
        }
        ptrdiff_t n = src->read(src->impl, dst, want);
        /* give back the part of the reservation that was not decoded */
        ctx->budget->expanded_bytes -= want - (size_t)(n > 0 ? n : 0);
        if (n < 0) {
            end = END_ERROR;
            break;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (streaming)
            tail_push(tail, &tail_len, dst, (size_t)n);
        else
            len += (size_t)n;
        /* the ratio is that of the whole container so far: what a decoder has
         * consumed when a member starts may already include that member's
         * compressed bytes (read-ahead), so a per-member ratio misfires */
        in_used = src->consumed(src->impl);
        if (total > RATIO_MIN_BYTES && ratio_exceeded(lim, j->decoded + total, in_used)) {
            end = END_RATIO;
            break;
        }
        if (!streaming && !decided && len >= HOLD_UNRECOGNISED) {
            decided = true;
            size_t nformats;
            const ms_format *all = ms_formats(&nformats);
            const ms_format *fmt = ms_detect_format(buf, len);
            if (fmt == &all[nformats - 1] || (!fmt->scan && !fmt->may_carry_code)) {
                held_as = fmt->name;
                scratch = malloc(CHUNK);
                tail = malloc(ZIP_TAIL);
                if (!scratch || !tail) {
                    end = END_NOMEM;
                    break;
                }
                tail_push(tail, &tail_len, buf, len);
                free(buf);
                buf = NULL;
                len = cap = 0;
                streaming = true;
            }
        }
    }
    if (end == END_ERROR)
        err = src->error(src->impl);

    switch (end) {
    case END_EOF:
        break;
    case END_ERROR:
        report_malformed(j, name, total, err);
        break;
    case END_MEMBER_LIMIT:
        ms_report_add(ctx->report, "SCAN-LIMIT", loc,
                      json_pack("{s:s, s:I}", "limit", "bytes of one decompressed member", "max",
                                (json_int_t)lim->archive_max_member),
                      "This member decompresses to more than %llu bytes, the per-member limit; "
                      "%s",
                      (unsigned long long)lim->archive_max_member,
                      streaming ? "it was not analysed."
                                : "only the bytes before the limit were analysed.");
        break;
    case END_RATIO:
        ms_report_add(ctx->report, "SCAN-LIMIT", loc,
                      json_pack("{s:s, s:I, s:I, s:I}", "limit", "decompression ratio",
                                "decoded_bytes", (json_int_t)(j->decoded + total),
                                "compressed_bytes", (json_int_t)in_used, "max_ratio",
                                (json_int_t)lim->archive_max_ratio),
                      "This member had decompressed to %llu bytes (%llu in the %s so far) from "
                      "%llu compressed bytes, more than %u times its compressed size (a "
                      "decompression bomb?); it was not decompressed further and the rest of it "
                      "was not analysed.",
                      (unsigned long long)total, (unsigned long long)(j->decoded + total), j->kind,
                      (unsigned long long)in_used, lim->archive_max_ratio);
        break;
    case END_BUDGET: /* reported by ms_budget_expand */
    case END_TIME:   /* reported by ms_budget_time_left */
        j->stop = true;
        break;
    case END_NOMEM:
        j->nomem = true;
        break;
    }
    j->decoded += total;
    if (end == END_TIME || end == END_NOMEM)
        goto out;
    if (streaming) {
        bool zip_end = tail_has_zip_end(tail, tail_len);
        if (end == END_EOF || end == END_ERROR) /* a limit already said it */
            ms_report_add(ctx->report, "SCAN-LIMIT", loc,
                          json_pack("{s:s, s:I, s:I, s:s, s:b}", "limit",
                                    "unrecognised member held", "size", (json_int_t)total, "max",
                                    (json_int_t)HOLD_UNRECOGNISED, "detected", held_as,
                                    "zip_end_record", zip_end),
                          "This member is %llu bytes and its first %llu bytes are %s data, a "
                          "format that cannot carry code; the rest was decoded but not held "
                          "in memory, so the member was not analysed%s.",
                          (unsigned long long)total, (unsigned long long)HOLD_UNRECOGNISED, held_as,
                          zip_end ? ". It ends with a ZIP end record: a loader may open it as a "
                                    "ZIP archive"
                                  : "");
        goto out;
    }
    ms_scan_fn layout = j->torch_tar ? torch_tar_member_scan(name) : NULL;
    ms_status st = ms_scan_member_with(ctx, name, buf ? buf : (const uint8_t *)"", len, layout);
    if (st == MS_NOMEM)
        j->nomem = true;
    if (ctx->budget->members > lim->archive_max_members)
        j->stop = true;
out:
    free(buf);
    free(scratch);
    free(tail);
    free(loc);
    free(what);
}

/* ------------------------------------------------------------------------ */
/* names                                                                    */
/* ------------------------------------------------------------------------ */

/* A reason when extracting `p` could write outside the extraction folder. */
static const char *unsafe_path_reason(const char *p)
{
    if (p[0] == '/' || p[0] == '\\')
        return "is an absolute path";
    if (((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')) && p[1] == ':')
        return "starts with a drive letter";
    const char *c = p;
    for (;;) {
        size_t n = strcspn(c, "/\\");
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return "climbs out of the extraction folder with '..'";
        if (!c[n])
            break;
        c += n + 1;
    }
    return NULL;
}

/* A printable, valid UTF-8 copy of an entry name, shortened if very long. */
static char *clean_name(const char *raw)
{
    if (!raw || !*raw)
        raw = "<unnamed>";
    size_t n = strlen(raw);
    char *s = ms_strdup_printf("%.*s%s", (int)(n > NAME_MAX_BYTES ? NAME_MAX_BYTES : n), raw,
                               n > NAME_MAX_BYTES ? "..." : "");
    ms_sanitize_text(s);
    if (s)
        for (char *c = s; *c; c++)
            if (*c == '\n' || *c == '\t')
                *c = '?';
    return s;
}

/* The original file name a gzip header carries (FNAME), or NULL. */
static char *gzip_fname(const uint8_t *data, size_t len)
{
    ms_cursor c = ms_cursor_make(data, len);
    ms_cursor_skip(&c, 3);
    uint8_t flg = ms_cursor_u8(&c);
    ms_cursor_skip(&c, 6);
    if (flg & 0x04) {
        uint16_t xlen = ms_cursor_u16le(&c);
        ms_cursor_skip(&c, xlen);
    }
    if (c.error || !(flg & 0x08))
        return NULL;
    size_t left = ms_cursor_left(&c);
    const uint8_t *p = ms_cursor_take(&c, 0);
    const uint8_t *nul = p ? memchr(p, 0, left < 1024 ? left : 1024) : NULL;
    if (!nul || nul == p)
        return NULL;
    char *raw = ms_strdup_printf("%.*s", (int)(nul - p), (const char *)p);
    char *name = clean_name(raw);
    free(raw);
    return name;
}

/* ------------------------------------------------------------------------ */
/* libarchive containers                                                    */
/* ------------------------------------------------------------------------ */

static const char *errmsg(struct archive *a)
{
    const char *e = archive_error_string(a);
    return e ? e : "unknown error";
}

static uint64_t consumed_of(struct archive *a)
{
    la_int64_t n = archive_filter_bytes(a, -1);
    return n > 0 ? (uint64_t)n : 0;
}

/* True when this libarchive decodes the filter itself; ARCHIVE_WARN would
 * mean an external program, which the scanner never runs. */
static bool filter_is_native(int code)
{
    struct archive *t = archive_read_new();
    if (!t)
        return false;
    int r = ARCHIVE_FATAL;
    switch (code) {
    case ARCHIVE_FILTER_GZIP:
        r = archive_read_support_filter_gzip(t);
        break;
    case ARCHIVE_FILTER_BZIP2:
        r = archive_read_support_filter_bzip2(t);
        break;
    case ARCHIVE_FILTER_XZ:
        r = archive_read_support_filter_xz(t);
        break;
    case ARCHIVE_FILTER_ZSTD:
        r = archive_read_support_filter_zstd(t);
        break;
    case ARCHIVE_FILTER_LZ4:
        r = archive_read_support_filter_lz4(t);
        break;
    case ARCHIVE_FILTER_LZMA:
        r = archive_read_support_filter_lzma(t);
        break;
    default:
        break;
    }
    archive_read_free(t);
    return r == ARCHIVE_OK;
}

/* One entry of a 7z or tar archive (a compressed tar included). */
static void scan_entry(job *j, struct archive *a, struct archive_entry *e)
{
    ms_scan_ctx *ctx = j->ctx;
    const char *raw_name = archive_entry_pathname_utf8(e);
    char *name = clean_name(raw_name ? raw_name : archive_entry_pathname(e));
    char *loc = NULL;
    if (!name) {
        j->nomem = true;
        return;
    }
    const char *link = archive_entry_symlink(e);
    const char *hard = archive_entry_hardlink(e);
    const char *why = unsafe_path_reason(name);
    bool encrypted = archive_entry_is_data_encrypted(e) || archive_entry_is_metadata_encrypted(e);
    if (why || link || hard || encrypted) {
        loc = ms_strdup_printf("%s!%s", ctx->location, name);
        if (!loc) {
            j->nomem = true;
            free(name);
            return;
        }
    }
    if (why)
        ms_report_add(ctx->report, "ARCHIVE-UNSAFE-PATH", loc,
                      json_pack("{s:s, s:s}", "member", name, "container", j->kind),
                      "The %s member name '%s' %s: extracting the archive writes outside the "
                      "folder it is extracted to.",
                      j->kind, name, why);
    const char *target = link ? link : hard;
    if (target) {
        char *t = clean_name(target);
        const char *twhy = t ? unsafe_path_reason(t) : NULL;
        if (twhy)
            ms_report_add(ctx->report, "ARCHIVE-UNSAFE-PATH", loc,
                          json_pack("{s:s, s:s, s:s}", "member", name, "link_target", t,
                                    "container", j->kind),
                          "The %s member '%s' is a %s to '%s', which %s: extracting it makes a "
                          "path that leads outside the extraction folder.",
                          j->kind, name, link ? "symbolic link" : "hard link", t, twhy);
        free(t);
    }
    if (encrypted) {
        ms_report_add(ctx->report, "ARCHIVE-ENCRYPTED", loc,
                      json_pack("{s:s, s:s}", "member", name, "container", j->kind),
                      "The %s member '%s' is encrypted; its content cannot be analysed.", j->kind,
                      name);
    } else if (archive_entry_filetype(e) == AE_IFREG && !(hard && archive_entry_size(e) == 0)) {
        lasource ls = {a, NULL, 0, 0, 0, false, false, NULL};
        source src = {la_read, la_consumed, la_error, &ls};
        int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
        scan_member(j, name, &src, declared);
    }
    free(loc);
    free(name);
}

/* True when data is one or more complete gzip members that decode to nothing. */
static bool gzip_is_empty(const uint8_t *data, size_t len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return false;
    uint8_t out[64];
    size_t off = 0;
    bool empty = false;
    for (;;) {
        zs.next_in = (Bytef *)(uintptr_t)(data + off);
        zs.avail_in = (uInt)(len - off < UINT_MAX ? len - off : UINT_MAX);
        zs.next_out = out;
        zs.avail_out = sizeof(out);
        uInt before = zs.avail_in;
        int r = inflate(&zs, Z_NO_FLUSH);
        off += before - zs.avail_in;
        if (zs.avail_out != sizeof(out))
            break; /* it decodes to something */
        if (r == Z_STREAM_END) {
            if (off == len) {
                empty = true;
                break;
            }
            if (inflateReset(&zs) != Z_OK)
                break;
        } else if (r != Z_OK || off == len) {
            break;
        }
    }
    inflateEnd(&zs);
    return empty;
}

/* libarchive's raw reader needs one decoded byte: an empty stream and a
 * broken one fail alike. Empty gzip files are told apart (the one kind met in
 * practice); the others fail closed. */
static void stream_without_data(job *j, const uint8_t *data, size_t len, kind k)
{
    if (k == KIND_GZIP && gzip_is_empty(data, len)) {
        if (ms_scan_member(j->ctx, "<decompressed>", (const uint8_t *)"", 0) == MS_NOMEM)
            j->nomem = true;
        return;
    }
    report_malformed(j, NULL, 0, "the stream yields no data at all: it is broken, or empty");
}

/* A libarchive reader for kind k over data: 7z, tar, or a compressed stream
 * read as a tar (as_tar) or as one raw member. NULL after reporting why. */
static struct archive *open_archive(job *j, const uint8_t *data, size_t len, kind k, bool as_tar)
{
    ms_scan_ctx *ctx = j->ctx;
    struct archive *a = archive_read_new();
    if (!a) {
        j->nomem = true;
        return NULL;
    }
    int r;
    if (k == KIND_7Z) {
        r = archive_read_support_format_7zip(a);
    } else if (k == KIND_TAR) {
        r = archive_read_support_format_tar(a);
    } else {
        /* one layer only: no filter bidding, so nested compression is not
         * peeled here but becomes a member of its own */
        r = archive_read_append_filter(a, kinds[k].filter);
        if (r == ARCHIVE_OK)
            r = as_tar ? archive_read_support_format_tar(a) : archive_read_support_format_raw(a);
    }
    if (r != ARCHIVE_OK) {
        ms_report_add(ctx->report, "FORMAT-NOT-ANALYSED", ctx->location,
                      json_pack("{s:s, s:s}", "format", kinds[k].name, "error", errmsg(a)),
                      "libarchive cannot read %s here (%s); the file was not analysed.",
                      kinds[k].name, errmsg(a));
        archive_read_free(a);
        return NULL;
    }
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        if (kinds[k].filter == ARCHIVE_FILTER_NONE || as_tar)
            report_malformed(j, NULL, 0, errmsg(a));
        else
            stream_without_data(j, data, len, k);
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* True when a tar holds regular members named "pickle", "tensors" and
 * "storages", exactly as Python's tarfile looks them up for torch.load.
 * Reads the headers only (the data of an uncompressed tar in memory is
 * skipped, not decoded), up to the member limit. */
static bool tar_is_torch_layout(const uint8_t *data, size_t len, uint64_t max_entries)
{
    struct archive *a = archive_read_new();
    if (!a)
        return false;
    unsigned seen = 0;
    if (archive_read_support_format_tar(a) == ARCHIVE_OK &&
        archive_read_open_memory(a, data, len) == ARCHIVE_OK) {
        for (uint64_t n = 0; n < max_entries && seen != TORCH_TAR_LAYOUT; n++) {
            struct archive_entry *e;
            int r = archive_read_next_header(a, &e);
            if (r == ARCHIVE_EOF || r < ARCHIVE_WARN)
                break;
            const char *name = archive_entry_pathname(e);
            if (r != ARCHIVE_RETRY && name && archive_entry_filetype(e) == AE_IFREG)
                seen |= torch_tar_member_bit(name);
        }
    }
    archive_read_free(a);
    return seen == TORCH_TAR_LAYOUT;
}

/* Every entry of an opened 7z or tar. */
static void scan_entries(job *j, struct archive *a, const uint8_t *data, size_t len, kind k)
{
    ms_scan_ctx *ctx = j->ctx;
    const ms_limits *lim = ctx->limits;
    unsigned retries = 0;
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_RETRY && ++retries <= MAX_RETRIES)
            continue;
        if (r < ARCHIVE_WARN) {
            if (k == KIND_7Z && archive_read_has_encrypted_entries(a) > 0 && j->entries == 0)
                ms_report_add(ctx->report, "ARCHIVE-ENCRYPTED", ctx->location,
                              json_pack("{s:s, s:s}", "container", j->kind, "error", errmsg(a)),
                              "The 7z archive's header is encrypted (%s): not even its member "
                              "names can be read, so nothing in it was analysed.",
                              errmsg(a));
            else
                report_malformed(j, NULL, 0, errmsg(a));
            break;
        }
        if (++j->entries > lim->archive_max_members) {
            ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                          json_pack("{s:s, s:I}", "limit", "container members", "max",
                                    (json_int_t)lim->archive_max_members),
                          "More than %llu entries in this %s; the rest were not analysed.",
                          (unsigned long long)lim->archive_max_members, j->kind);
            j->stop = true;
            break;
        }
        scan_entry(j, a, e);
        if (j->stop || j->nomem || j->malformed)
            break;
        if (!ms_budget_time_left(ctx)) {
            j->stop = true;
            break;
        }
        if (ctx->mapping == data) {
            uint64_t used = consumed_of(a);
            ms_release_pages(data, used < len ? (size_t)used : len);
        }
    }
}

/* A compressed stream: a tar inside is read as one container (its members
 * appear directly), anything else is one member. */
static void scan_stream(job *j, const uint8_t *data, size_t len, kind k)
{
    struct archive *a = open_archive(j, data, len, k, false);
    if (!a)
        return;
    struct archive_entry *e;
    if (archive_read_next_header(a, &e) < ARCHIVE_WARN) {
        stream_without_data(j, data, len, k);
        archive_read_free(a);
        return;
    }
    /* peek at the first block: a ustar header (the same test as the tar
     * probe) makes it a compressed tar. libarchive's own tar bidder is not
     * asked, since it also takes a stream of zero bytes for an empty tar. */
    lasource ls = {a, NULL, 0, 0, 0, false, false, NULL};
    source inner = {la_read, la_consumed, la_error, &ls};
    uint8_t peek[512];
    size_t np = 0;
    while (np < sizeof(peek)) {
        ptrdiff_t n = la_read(&ls, peek + np, sizeof(peek) - np);
        if (n <= 0)
            break;
        np += (size_t)n;
    }
    if (np >= 262 && memcmp(peek + 257, "ustar", 5) == 0) {
        archive_read_free(a);
        a = open_archive(j, data, len, k, true);
        if (!a)
            return;
        j->ctx->format_detail = kinds[k].tar_detail;
        j->kind = kinds[k].tar_detail;
        scan_entries(j, a, data, len, KIND_TAR);
        archive_read_free(a);
        return;
    }
    char *name = k == KIND_GZIP ? gzip_fname(data, len) : NULL;
    if (!name)
        name = strdup("<decompressed>");
    if (!name) {
        j->nomem = true;
    } else {
        prefixed pre = {&inner, peek, np};
        source src = {prefixed_read, prefixed_consumed, prefixed_error, &pre};
        scan_member(j, name, &src, -1);
    }
    free(name);
    archive_read_free(a);
}

static ms_status scan_libarchive(ms_scan_ctx *ctx, const uint8_t *data, size_t len, kind k)
{
    job j = {ctx, kinds[k].name, 0, 0, false, false, false, false};
    if (kinds[k].filter != ARCHIVE_FILTER_NONE) {
        if (!filter_is_native(kinds[k].filter)) {
            ms_report_add(ctx->report, "FORMAT-NOT-ANALYSED", ctx->location,
                          json_pack("{s:s}", "format", kinds[k].name),
                          "The file is %s-compressed, but this build's libarchive decodes %s "
                          "only through an external program, which the scanner never runs; it "
                          "was not analysed.",
                          kinds[k].name, kinds[k].name);
            return MS_OK;
        }
        scan_stream(&j, data, len, k);
    } else {
        struct archive *a = open_archive(&j, data, len, k, false);
        if (a && k == KIND_TAR &&
            tar_is_torch_layout(data, len, ctx->limits->archive_max_members)) {
            j.torch_tar = true;
            ctx->format_detail = "pytorch-tar";
        }
        if (a) {
            scan_entries(&j, a, data, len, k);
            archive_read_free(a);
        }
    }
    return j.nomem ? MS_NOMEM : j.stop ? MS_LIMIT : MS_OK;
}

ms_status archive_scan_7z(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return scan_libarchive(ctx, data, len, KIND_7Z);
}

ms_status archive_scan_tar(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return scan_libarchive(ctx, data, len, KIND_TAR);
}

ms_status archive_scan_gzip(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return scan_libarchive(ctx, data, len, KIND_GZIP);
}

ms_status archive_scan_bzip2(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return scan_libarchive(ctx, data, len, KIND_BZIP2);
}

ms_status archive_scan_xz(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return scan_libarchive(ctx, data, len, KIND_XZ);
}

ms_status archive_scan_zstd(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return scan_libarchive(ctx, data, len, KIND_ZSTD);
}

ms_status archive_scan_lz4(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return scan_libarchive(ctx, data, len, KIND_LZ4);
}

/* The legacy .lzma ("LZMA alone") header, what Python's lzma module writes
 * with FORMAT_ALONE (joblib compress='lzma'): a properties byte
 * (lc + lp*9 + pb*45 < 225, 0x5d for the defaults), a 32-bit dictionary size
 * that is 2^n or 2^n + 2^(n-1) (up to 256 MiB), and a 64-bit uncompressed size that is
 * either unknown (all ones) or plausible. */
bool archive_probe_lzma(const uint8_t *data, size_t len)
{
    if (len < 13 || data[0] >= 225)
        return false;
    uint32_t dict = (uint32_t)data[1] | ((uint32_t)data[2] << 8) | ((uint32_t)data[3] << 16) |
                    ((uint32_t)data[4] << 24);
    bool dict_ok = false;
    /* at most 256 MiB: liblzma allocates the whole dictionary up front, and
     * libarchive sets no memory limit for this format (xz -9 uses 64 MiB);
     * a larger claim is left to the unrecognised-binary report */
    for (int n = 12; n <= 28 && !dict_ok; n++)
        dict_ok = dict == (1u << n) || dict == (1u << n) + (1u << (n - 1));
    if (!dict_ok)
        return false;
    uint64_t size = 0;
    for (int i = 12; i >= 5; i--)
        size = (size << 8) | data[i];
    return size == UINT64_MAX || size < ((uint64_t)1 << 40);
}

ms_status archive_scan_lzma(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return scan_libarchive(ctx, data, len, KIND_LZMA);
}

/* ------------------------------------------------------------------------ */
/* raw zlib                                                                 */
/* ------------------------------------------------------------------------ */

ms_status archive_scan_zlib(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    job j = {ctx, "zlib", 1, 0, false, false, false, false};
    zsource *z = calloc(1, sizeof(*z));
    if (!z)
        return MS_NOMEM;
    z->data = data;
    z->len = len;
    if (inflateInit(&z->zs) != Z_OK) {
        free(z);
        return MS_NOMEM;
    }
    source src = {z_read, z_consumed, z_error, z};
    scan_member(&j, "<decompressed>", &src, -1);
    inflateEnd(&z->zs);
    free(z);
    return j.nomem ? MS_NOMEM : j.stop ? MS_LIMIT : MS_OK;
}
