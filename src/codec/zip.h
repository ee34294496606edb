/*
 * zip.h - a structure reader for ZIP archives that reports every
 * disagreement between the places a loader may read a member from.
 *
 * zip_open() never decompresses and never fails on bad input: it returns the
 * members any loader could reach (from the central directory, from every
 * candidate central directory position, and from local headers that no
 * directory lists) plus a list of issues (facts, not verdicts) that the
 * format module turns into findings. zip_decompress() decompresses one
 * member into a buffer the caller sized (after reserving the budget).
 */
#ifndef MS_ZIP_H
#define MS_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_scanner.h"

#define ZIP_NONE SIZE_MAX

enum {
    ZIP_METHOD_STORED = 0,
    ZIP_METHOD_DEFLATE = 8,
    ZIP_METHOD_BZIP2 = 12,
    ZIP_METHOD_LZMA = 14,
    ZIP_METHOD_ZSTD = 93,
    ZIP_METHOD_XZ = 95,
    ZIP_FLAG_ENCRYPTED = 1u << 0,
    ZIP_FLAG_DESCRIPTOR = 1u << 3,
    ZIP_FLAG_PATCHED = 1u << 5,
    ZIP_FLAG_STRONG_ENCRYPTION = 1u << 6,
    ZIP_FLAG_UTF8 = 1u << 11,
    ZIP_FLAG_MASKED_HEADER = 1u << 13,
};

typedef enum zip_issue_kind {
    /* the archive cannot be (fully) parsed */
    ZIP_ISSUE_NO_END_RECORD,    /* no end of central directory record */
    ZIP_ISSUE_DIRECTORY_BROKEN, /* a central directory entry cannot be parsed */
    ZIP_ISSUE_LOCAL_MISSING,    /* a listed member has no local header where it points */
    ZIP_ISSUE_EXTRA_BROKEN,     /* an extra field overruns its area or a zip64 field is missing */
    ZIP_ISSUE_STREAM_SIZE_UNKNOWN, /* a streamed local header without a findable descriptor */
    ZIP_ISSUE_ZIP64_BROKEN,        /* zip64 locator present, zip64 end record not found */
    /* the archive parses but loaders would disagree about it */
    ZIP_ISSUE_NAME_MISMATCH, /* local name != central name (CVE-2025-1944) */
    ZIP_ISSUE_SIZE_MISMATCH, /* local or descriptor size != central size; a = central, b = other */
    ZIP_ISSUE_CRC_FIELD_MISMATCH,  /* local or descriptor CRC != central CRC */
    ZIP_ISSUE_METHOD_MISMATCH,     /* local method != central method */
    ZIP_ISSUE_FLAGS_MISMATCH,      /* local flags != central flags (CVE-2025-1945) */
    ZIP_ISSUE_ENCRYPTED_FLAG,      /* encryption / patch flag set: some loaders refuse the member */
    ZIP_ISSUE_DESCRIPTOR_MISMATCH, /* flag 3 set but no descriptor matches the data's size */
    ZIP_ISSUE_OVERLAP,             /* two members (or a member and a directory) share bytes */
    ZIP_ISSUE_OUTSIDE,             /* a member or a directory lies (partly) outside the file */
    ZIP_ISSUE_PREPENDED,           /* bytes before the first structure (polyglot) */
    ZIP_ISSUE_APPENDED,            /* bytes after the end record and its comment */
    ZIP_ISSUE_GAP,                 /* bytes between structures that no structure explains */
    ZIP_ISSUE_DUPLICATE_NAME,      /* two members with the same name */
    ZIP_ISSUE_UNLISTED_LOCAL,      /* a local header that no central directory lists */
    ZIP_ISSUE_COUNT_MISMATCH,      /* end record entry count != entries in the directory */
    ZIP_ISSUE_DIRECTORY_MOVED,     /* directory not where the end record says (offsets shifted) */
    ZIP_ISSUE_END_RECORDS_DIFFER,  /* zip64 and classic end records disagree */
    ZIP_ISSUE_MULTI_DISK,          /* disk numbers set: spanned archive */
    /* a limit stopped the reader */
    ZIP_ISSUE_ENTRY_LIMIT, /* more entries than max_entries */
    ZIP_ISSUE_KIND_COUNT
} zip_issue_kind;

/* One fact about the archive. `entry`/`other` index zip_archive.entries. */
typedef struct zip_issue {
    zip_issue_kind kind;
    size_t entry;     /* member concerned, or ZIP_NONE */
    size_t other;     /* second member (overlap, duplicate), or ZIP_NONE */
    uint64_t offset;  /* where in the file */
    uint64_t length;  /* bytes concerned, for ranges */
    uint64_t a, b;    /* the values that disagree (central first) */
    const char *what; /* static: the field or structure concerned */
} zip_issue;

typedef struct zip_entry {
    /* as a loader that follows the central directory reads it (PyTorch,
     * Python's zipfile); for an unlisted local header, the local values */
    const uint8_t *name; /* points into the archive; not NUL-terminated */
    size_t name_len;
    uint16_t flags, method;
    uint32_t crc;
    uint64_t comp_size, uncomp_size;
    uint64_t central_offset; /* offset of the central header, or UINT64_MAX */
    uint64_t local_offset;   /* absolute offset of the local header */
    /* the local header */
    bool local_ok;
    const uint8_t *local_name;
    size_t local_name_len;
    uint16_t local_flags, local_method;
    uint32_t local_crc;
    uint64_t local_comp_size, local_uncomp_size;
    uint64_t data_offset; /* absolute offset of the (compressed) data */
    bool data_ok;         /* [data_offset, data_offset + comp_size) is inside the file */
    bool local_data_ok;   /* same with the local header's compressed size */
    /* data descriptor (flag bit 3) */
    bool has_descriptor;
    uint32_t desc_crc;
    uint64_t desc_comp_size, desc_uncomp_size;
    uint64_t end;    /* end of data (and descriptor): the member's extent is [local_offset, end) */
    bool in_central; /* listed by a central directory */
    bool zip64;      /* sizes or offset came from a zip64 extra field */
    size_t same_data_as; /* earlier entry reading exactly the same bytes, or ZIP_NONE */
} zip_entry;

typedef struct zip_archive {
    const uint8_t *data;
    size_t len;
    zip_entry *entries; /* central directory order, then unlisted local headers */
    size_t nentries, entries_cap;
    zip_issue *issues;
    size_t nissues, issues_cap;
    uint64_t issues_dropped; /* issues beyond the cap, counted only */
    uint64_t max_entries;
    bool entry_limit_hit;
    bool have_end;       /* an end of central directory record was found */
    uint64_t end_offset; /* of the classic end record */
    uint64_t comment_len;
    bool zip64; /* a zip64 end record is in use */
    uint64_t zip64_end_offset;
    uint64_t directory_offset, directory_size; /* where the directory was read */
    uint64_t declared_entries;
    uint64_t search_left; /* bytes the search for streamed members' ends may still read */
    bool nomem;
} zip_archive;

/* Parses the structure of data[0, len). The archive keeps pointers into
 * `data`, which must outlive it. Always leaves *za usable (free it with
 * zip_close), even for input that is not a ZIP at all: what could not be
 * parsed is an issue. Returns MS_NOMEM when memory ran out (the archive then
 * holds what was read before), MS_OK otherwise. */
MS_WARN_UNUSED ms_status zip_open(zip_archive *za, const uint8_t *data, size_t len,
                                  uint64_t max_entries);
void zip_close(zip_archive *za);

typedef enum zip_inflate_result {
    ZIP_INFLATE_OK,       /* the stream ended exactly within `cap` bytes */
    ZIP_INFLATE_OVERFLOW, /* `cap` bytes were produced and the stream holds more */
    ZIP_INFLATE_SHORT,    /* the input ended before the end of the stream */
    ZIP_INFLATE_BAD,      /* the stream is corrupt at some point */
    ZIP_INFLATE_NOMEM,
} zip_inflate_result;

/* Inflates the raw deflate stream in[0, in_len) into out[0, cap); *produced
 * is the number of bytes written (valid for every result). */
zip_inflate_result zip_inflate(const uint8_t *in, uint64_t in_len, uint8_t *out, size_t cap,
                               size_t *produced);

/* The memory an xz member's decoder may use (liblzma's memory limit). */
#define ZIP_DECODER_MEMORY ((uint64_t)256 << 20)

/* True for the methods zip_decompress() decodes: stored, deflate, and the
 * ones Python's zipfile decodes besides (bzip2, lzma; zstd in Python 3.14),
 * plus xz. */
bool zip_method_decoded(unsigned method);

/* zip_inflate() for any method zip_method_decoded() accepts but stored:
 * deflate (zlib), bzip2 (libbz2), lzma and xz (liblzma), zstd (libzstd),
 * with the same results. Decoder memory is bounded: an lzma dictionary by
 * `cap`, xz by ZIP_DECODER_MEMORY, a zstd window by 128 MiB. */
zip_inflate_result zip_decompress(unsigned method, const uint8_t *in, uint64_t in_len,
                                  uint8_t *out, size_t cap, size_t *produced);

/* zlib's CRC-32 of data[0, len). */
uint32_t zip_crc32(const uint8_t *data, size_t len);

/* Why a member name is unsafe to extract ("'..' component", "absolute
 * path", "backslash", "drive letter", "NUL byte"), or NULL when it is not. */
const char *zip_name_problem(const uint8_t *name, size_t len);

/* A stable short name for an issue kind ("name-mismatch", "overlap" ...). */
const char *zip_issue_kind_name(zip_issue_kind kind);

#endif
