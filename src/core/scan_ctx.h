/*
 * scan_ctx.h - what an analyser sees: the report to add findings to, the
 * limits, and where it is (location prefix, nesting depth).
 */
#ifndef MS_SCAN_CTX_H
#define MS_SCAN_CTX_H

#include <stdarg.h>
#include <time.h>

#include "model_scanner.h"

/* What one top-level file may cost, shared by every container and nested
 * stream inside it. Checked *before* work is done. */
typedef struct ms_budget {
    uint64_t expanded_bytes; /* bytes decompressed or extracted so far */
    uint64_t members;        /* container members visited */
    uint64_t nested_bytes;   /* bytes decoded for nested pickles */
    struct timespec start;   /* monotonic time the top-level file's scan began */
    bool time_exceeded;      /* reported once */
} ms_budget;

typedef struct ms_scan_ctx {
    ms_report *report;
    const ms_limits *limits;
    const char *location; /* "pytorch_model.bin", "a.7z!b/data.pkl" */
    unsigned depth;       /* container nesting depth, 0 for a top-level file */
    ms_budget *budget;
    const uint8_t *mapping;    /* the read-only file mapping being scanned, or NULL */
    const char *format_detail; /* a scanner may refine the detected format
                                * ("pytorch-zip" for a zip): reported in files */
    const char *root;          /* the model folder on disk, or NULL (a buffer) */
    const ms_policy *policy;   /* the user's policy file, or NULL */
    /* the whole top-level file: its read-only mapping and descriptor, kept
     * in members so that a stored member can be found inside it (the HDF5
     * reader hands the descriptor to its child process instead of copying);
     * file_map NULL for a buffer, and then file_fd means nothing */
    const uint8_t *file_map;
    size_t file_len;
    int file_fd;
} ms_scan_ctx;

/* Scans `data` as member `member` of the container ctx is scanning: the
 * format is detected from the content and dispatched like a top-level file,
 * at location "<ctx->location>!<member>" and depth + 1. The depth and member
 * limits are checked first (a limit is reported as SCAN-LIMIT and the member
 * skipped). `data` must stay valid for the call. */
ms_status ms_scan_member(ms_scan_ctx *ctx, const char *member, const uint8_t *data, size_t len);

/* The same for a member whose layout the container decides (the storages of
 * a pre-1.0 torch tar): `scan` analyses it instead of the format detected
 * from its content, with the same location, depth and member limits. */
typedef ms_status (*ms_scan_fn)(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status ms_scan_member_with(ms_scan_ctx *ctx, const char *member, const uint8_t *data,
                              size_t len, ms_scan_fn scan);

/* Reserves `n` bytes of expansion (decompression, extraction) against the
 * per-file budget and the per-member limit; returns false, after reporting
 * SCAN-LIMIT at ctx->location (naming `what`), when it would exceed them. */
bool ms_budget_expand(ms_scan_ctx *ctx, uint64_t n, const char *what);

/* False, after reporting SCAN-LIMIT once, when the time limit for the
 * top-level file is used up. Call it between units of work. */
bool ms_budget_time_left(ms_scan_ctx *ctx);

/* The sha256 of data as 64 lowercase hex digits ("" when hashing failed),
 * fed in 16 MiB chunks; with `mapped`, data is a read-only file mapping
 * whose pages are released behind the hash. */
void ms_sha256_hex(const uint8_t *data, size_t len, bool mapped, char out[65]);

/* Drops the pages of a read-only file mapping from [base, base+len) rounded
 * inward to pages; harmless for the mapping's contents (re-read on access).
 * Never call it on memory that is not such a mapping. */
void ms_release_pages(const uint8_t *base, size_t len);

/* Adds a finding for rule `rule_id` (must exist in the rule table) at
 * `location`. Takes ownership of `details` (may be NULL). Returns false only
 * when memory ran out (the report then records that it is incomplete). */
bool ms_report_add(ms_report *report, const char *rule_id, const char *location,
                   json_t *details, const char *fmt, ...) MS_PRINTF(5, 6);
bool ms_report_addv(ms_report *report, const char *rule_id, const char *location,
                    json_t *details, const char *fmt, va_list ap) MS_PRINTF(5, 0);

/* Moves every finding and file entry of `from` to the end of `report` and
 * adds its counters; `from` is left empty. False when memory ran out (then
 * nothing moved). */
bool ms_report_absorb(ms_report *report, ms_report *from);

/* Records that the file at `path` (relative to the model folder, like a
 * location) is data that the file at `by` reads, of kind `kind` (a name in
 * ms_report_resolve_companions' table, e.g. "onnx-external-data"). */
bool ms_report_add_companion(ms_report *report, const char *path, const char *kind,
                             const char *by);

/* At the end of a scan: a file recorded as a companion that is in no format
 * of its own ("binary") takes the companion's kind as its format, and its
 * FORMAT-UNRECOGNISED finding is dropped (it is the data its reader names,
 * not unexplained content). A companion in a format of its own (a pickle
 * named as ONNX external data) keeps that format and its findings. */
void ms_report_resolve_companions(ms_report *report);

ms_file_entry *ms_report_add_file(ms_report *report, const char *path, uint64_t size,
                                  const char *format);

#endif
