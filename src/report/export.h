/*
 * export.h - what the SARIF and CycloneDX writers (sarif.c, cyclonedx.c)
 * both need to say about a report: which scanned file a finding's location
 * points into, a fingerprint that stays the same from scan to scan, URI
 * references for paths, and timestamps. Internal to src/report/.
 */
#ifndef MS_REPORT_EXPORT_H
#define MS_REPORT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "model_scanner.h"

/* The location a finding names for repository-wide facts. */
#define EXPORT_REPO_LOCATION "Model Repository"

/* The report's files sorted by path, for looking locations up. */
typedef struct export_index {
    const ms_report *report;
    const ms_file_entry **order; /* report->files, by path */
    size_t n;
} export_index;

/* Builds the index (the report need not be sorted). False on allocation
 * failure. export_index_free accepts a zeroed or failed index. */
MS_WARN_UNUSED bool export_index_init(export_index *ix, const ms_report *report);
void export_index_free(export_index *ix);
/* Index into report->files of the file whose path is the n bytes at path,
 * or (size_t)-1. */
size_t export_index_find(const export_index *ix, const char *path, size_t n);

/* Where a finding's location points. Locations are a path relative to the
 * model folder, followed by what is inside it: "file.py:42" (a line),
 * "a.bin!archive/data.pkl" (a container member), "x.pkl!pickle@12",
 * "nb.ipynb:cell2:line1"; or EXPORT_REPO_LOCATION. */
typedef struct export_where {
    bool repo_wide;     /* EXPORT_REPO_LOCATION */
    size_t file;        /* index into report->files, or (size_t)-1 */
    size_t outer_len;   /* the outer file's path: the first outer_len bytes of the location */
    unsigned long line; /* 1-based line in the outer file ("file.py:42"), 0 when none */
    bool inside;        /* the location names something inside the outer file */
} export_where;

/* The outer file is the longest prefix of the location, ending before '!',
 * ':' or '@' or at its end, that is a scanned file's path; failing that, the
 * part before the first '!' (without a final ":LINE"). */
void export_locate(const export_index *ix, const char *location, export_where *out);

/* sha256 (hex) of the finding's rule id, location and identity: the
 * package and version for dependency findings (their description lists
 * advisories, which change as databases grow), else the description. */
MS_WARN_UNUSED bool export_fingerprint(const ms_finding *f, char hex[65]);

/* How many times `key` has been counted in `seen` (an object), this one
 * included: 1 the first time. */
size_t export_count(json_t *seen, const char *key);

/* A relative URI reference for a path: every byte but ALPHA, DIGIT,
 * "-._~" and "/" percent-encoded. Owned; NULL on allocation failure. */
char *export_uri_path(const char *path, size_t n);

/* "2026-11-26T10:00:00Z" */
void export_timestamp(time_t t, char buf[32]);

/* "critical", "high", "medium", "low", "info" (CycloneDX's words). */
const char *export_severity_word(ms_severity sev);

/* Whether the report scanned one file rather than a folder (its model path
 * is that file: the path of its only entry ends it). */
bool export_single_file(const ms_report *report);

#endif
