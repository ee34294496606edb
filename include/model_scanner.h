/*
 * model_scanner.h - public API of the model-scanner library.
 *
 * The library walks a model folder (or one file), detects each file's format
 * from its content, runs the analyser registered for that format and collects
 * findings into a report. It never prints, never executes what it reads and
 * never touches the network. The command line (tools/model-scanner.c) owns
 * all output and exit codes.
 */
#ifndef MODEL_SCANNER_H
#define MODEL_SCANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#define MS_VERSION "0.1.0"

#if defined(__GNUC__)
#define MS_WARN_UNUSED __attribute__((warn_unused_result))
#define MS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MS_WARN_UNUSED
#define MS_PRINTF(a, b)
#endif

/* Severities, lowest first so that comparisons read naturally. */
typedef enum ms_severity {
    MS_SEV_INFORMATIONAL = 0,
    MS_SEV_LOW,
    MS_SEV_MEDIUM,
    MS_SEV_HIGH,
    MS_SEV_CRITICAL,
} ms_severity;

/* Status of an operation. Status is not verdict: danger travels in findings. */
typedef enum ms_status {
    MS_OK = 0,
    MS_TRUNCATED,   /* input ended inside a structure */
    MS_MALFORMED,   /* input violates its format */
    MS_LIMIT,       /* a configured limit stopped the work */
    MS_NOMEM,       /* allocation failed */
    MS_IO,          /* a read or open failed */
    MS_UNSUPPORTED, /* valid but not handled */
    MS_INTERNAL,    /* a bug: fuzz targets abort on it */
} ms_status;

/* Runtime limits; defaults and the reason for each live in src/core/limits.h. */
typedef struct ms_limits {
    uint64_t max_file_bytes;       /* larger files are reported, not analysed */
    uint64_t pickle_max_opcodes;   /* per pickle stream */
    uint32_t pickle_max_stack;     /* values on the VM stack */
    uint32_t pickle_max_marks;     /* nested MARKs */
    uint32_t pickle_max_memo;      /* highest memo index kept */
    uint32_t pickle_max_streams;   /* pickles back to back in one buffer */
    uint32_t pickle_max_globals;   /* distinct globals tracked per stream */
    uint32_t nested_max_depth;     /* pickle inside pickle inside ... */
    uint64_t nested_max_bytes;     /* bytes decoded (base64, zlib) for nested pickles */
    uint32_t walk_max_files;       /* files visited in one model folder */
    uint32_t walk_max_depth;       /* directory depth */
    uint32_t archive_max_depth;    /* containers inside containers */
    uint64_t archive_max_members;  /* members visited per top-level file */
    uint64_t archive_max_expanded; /* bytes decompressed/extracted per top-level file */
    uint64_t archive_max_member;   /* bytes of one decompressed member held in memory */
    uint32_t archive_max_ratio;    /* decompressed:compressed for members over 1 MiB */
    uint32_t scan_max_seconds;     /* wall time per top-level file */
} ms_limits;

void ms_limits_default(ms_limits *limits);

/* A policy file (docs/policy.md), loaded by ms_policy_load(). Opaque. */
typedef struct ms_policy ms_policy;

/* Progress of a scan, for a front end that shows it. Totals are known once
 * the folder has been walked, before the first file is analysed. */
typedef struct ms_progress {
    uint64_t files_done, files_total;
    uint64_t bytes_done, bytes_total;
    const char *current; /* the file most recently started (valid during the call) */
} ms_progress;
typedef void (*ms_progress_fn)(void *user, const ms_progress *progress);

typedef struct ms_options {
    const char *model_path; /* directory or single file */
    ms_limits limits;
    bool hash_files;           /* sha256 of every file (default true) */
    const char *manifest_path; /* sha256sum-format manifest to check files against */
    bool all_snapshots;        /* Hugging Face cache entry: every snapshot, not refs/main */
    const char *advisories_path; /* OSV advisories (folder or zip) besides the built-in set */
    unsigned jobs;             /* files analysed in parallel; 0 or 1: serially */
    const char *const *excludes; /* glob patterns of paths not to scan (docs/policy.md) */
    size_t nexcludes;
    const ms_policy *policy;   /* extra pickle allow/deny, overrides, suppressions; or NULL */
    ms_progress_fn progress;   /* called from the scanning threads, serialised; or NULL */
    void *progress_user;
} ms_options;

void ms_options_default(ms_options *opts);

typedef struct ms_finding {
    const char *rule_id;        /* static, from the rule table */
    const char *type;           /* static */
    ms_severity severity;
    char *location;             /* owned */
    char *description;          /* owned */
    const char *recommendation; /* static */
    json_t *details;            /* owned reference, an object */
    /* Set by a policy suppression (src/core/policy.c): the finding stays in
     * the report, shown as suppressed, and no longer counts for --fail-on. */
    bool suppressed;
    char *suppress_reason;  /* owned, NULL unless suppressed */
    char *suppress_expires; /* owned, "YYYY-MM-DD" or NULL */
} ms_finding;

typedef struct ms_file_entry {
    char *path; /* relative to the model path, owned */
    uint64_t size;
    char sha256[65]; /* empty string when hashing is off or failed */
    const char *format;
} ms_file_entry;

typedef struct ms_report {
    char *model_name;
    char *model_path;
    time_t scan_time;
    ms_finding *findings;
    size_t nfindings, findings_cap;
    ms_file_entry *files;
    size_t nfiles, files_cap;
    uint64_t files_scanned;
    uint64_t bytes_scanned;
    /* Facts for bills of materials (CycloneDX), owned references or NULL:
     * dependencies: array of {"name","version","source"} found in the repo;
     * model_card: object of the model card's front-matter facts. */
    json_t *dependencies;
    json_t *model_card;
    uint64_t hidden_below_min; /* findings removed by ms_report_filter() */
    /* Files that other files read as their data, recorded by the analysers
     * (an ONNX model's external data): array of {"path","kind","by"}, owned
     * reference or NULL. Used at the end of a scan, never exported. */
    json_t *companions;
} ms_report;

/* Scans opts->model_path. On MS_OK *out is a report the caller frees with
 * ms_report_free(). MS_IO means the path could not be read at all;
 * MS_UNSUPPORTED that the manifest could not be loaded. */
MS_WARN_UNUSED ms_status ms_scan(const ms_options *opts, ms_report **out);

/* Scans one in-memory buffer as if it were a file called `name` (used by fuzz
 * targets and tests). The report is appended to. */
MS_WARN_UNUSED ms_status ms_scan_buffer(ms_report *report, const ms_limits *limits,
                                        const char *name, const uint8_t *data, size_t len);

/* Checks that a sha256sum-format manifest can be loaded; on failure writes
 * why into err. */
bool ms_manifest_validate(const char *path, char *err, size_t errsz);

/* Policy files (src/policy/policy_file.c). ms_policy_load returns NULL on
 * failure with "LINE:COLUMN: why" (or why alone) in err. The accessors return
 * false when the policy does not set the value. */
ms_policy *ms_policy_load(const char *path, char *err, size_t errsz);
/* The same from text in memory (len bytes, no NUL needed). */
ms_policy *ms_policy_parse(const char *text, size_t len, char *err, size_t errsz);
void ms_policy_free(ms_policy *policy);
bool ms_policy_fail_on(const ms_policy *policy, ms_severity *out);
bool ms_policy_min_severity(const ms_policy *policy, ms_severity *out);
/* Tightens or loosens `limits` with the policy's limits section. */
void ms_policy_apply_limits(const ms_policy *policy, ms_limits *limits);
/* The policy's exclude globs (owned by the policy). */
const char *const *ms_policy_excludes(const ms_policy *policy, size_t *count);
/* Applies severity overrides and suppressions (with expiry checked against
 * `now`) to a report; ms_scan calls it when opts->policy is set. */
void ms_policy_apply(const ms_policy *policy, ms_report *report, time_t now);

/* True when `path` (relative to the model root) matches one of the globs:
 * a glob matches the whole relative path, any trailing part of it that
 * starts after a '/', or a leading directory ("docs" excludes docs/a/b). */
bool ms_path_excluded(const char *path, const char *const *globs, size_t n);

/* Removes findings below `min` from a report (for display). Returns how many
 * were removed. */
size_t ms_report_filter(ms_report *report, ms_severity min);

ms_report *ms_report_new(const char *model_path);
void ms_report_free(ms_report *report);
/* Sorts findings (severity, location, rule id) and files (path). */
void ms_report_finish(ms_report *report);

const char *ms_severity_name(ms_severity sev);
/* Parses "critical", "High"... case-insensitively. Returns false when unknown. */
bool ms_severity_parse(const char *text, ms_severity *out);
const char *ms_status_name(ms_status status);

/* The report as the JSON document of docs/report-format.md. New reference. */
json_t *ms_report_to_json(const ms_report *report);
/* Reports as one SARIF 2.1.0 log for GitHub code scanning, one run per
 * report (docs/report-format.md, "SARIF"). New reference, NULL on
 * allocation failure. */
json_t *ms_report_to_sarif(const ms_report *const *reports, size_t n);
/* The report as a CycloneDX 1.6 bill of materials of the model: files,
 * packages from report->dependencies, model card facts, findings as
 * vulnerabilities (docs/report-format.md, "CycloneDX"). New reference, NULL
 * on allocation failure. */
json_t *ms_report_to_cyclonedx(const ms_report *report);
/* The report as text for people; colour escapes when `colour`. Caller frees. */
char *ms_report_to_text(const ms_report *report, bool colour);

/* Rule table, for --list-rules and the docs test. */
typedef struct ms_rule {
    const char *id;
    const char *type;
    ms_severity severity;
    const char *trigger;
    const char *recommendation;
} ms_rule;
const ms_rule *ms_rules(size_t *count);
const ms_rule *ms_rule_find(const char *id);

/* explain: a readable disassembly of a pickle with resolved globals and calls
 * marked. Returns an owned string (NULL on allocation failure). */
char *ms_pickle_explain(const uint8_t *data, size_t len, const ms_limits *limits);

#endif
