/*
 * scan_ctx.h - what an analyser sees: the report to add findings to, the
 * limits, and where it is (location prefix, nesting depth).
 */
#ifndef MS_SCAN_CTX_H
#define MS_SCAN_CTX_H

#include <stdarg.h>

#include "model_scanner.h"

typedef struct ms_scan_ctx {
    ms_report *report;
    const ms_limits *limits;
    const char *location; /* "pytorch_model.bin", "a.7z!b/data.pkl" */
    unsigned depth;       /* container/nesting depth, 0 for a top-level file */
    uint64_t nested_bytes_used;
    const uint8_t *mapping; /* the read-only file mapping being scanned, or NULL */
} ms_scan_ctx;

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

ms_file_entry *ms_report_add_file(ms_report *report, const char *path, uint64_t size,
                                  const char *format);

#endif
