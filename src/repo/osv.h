/*
 * osv.h - security advisories in OSV format (https://ossf.github.io/osv-schema/)
 * for PyPI packages, and the matcher that says whether a version is affected.
 *
 * A database holds records from three places: the built-in set
 * (osv_builtin.c), a folder of OSV JSON files as osv.dev exports them per
 * ecosystem (`PyPI/<ID>.json`), or a .zip (or tar) of such files. Only
 * affected packages of ecosystem "PyPI" are kept, names normalised per
 * PEP 503; withdrawn records are dropped; only ECOSYSTEM ranges are used
 * (GIT and SEMVER ranges are ignored), with every introduced / fixed /
 * last_affected / limit event, plus explicit `versions` lists.
 */
#ifndef MS_OSV_H
#define MS_OSV_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "model_scanner.h"
#include "pep440.h"

/* One OSV record file is a few KiB; the largest real ones (long `versions`
 * lists) stay under 1 MiB. */
#define OSV_MAX_RECORD_BYTES (16U << 20)
/* osv.dev's whole PyPI export is about 20 000 records (~ 500 MiB unpacked
 * at most); these caps leave room for growth and stop a hostile archive. */
#define OSV_MAX_FILES 1000000U
#define OSV_MAX_TOTAL_BYTES (4ULL << 30)
/* Folder nesting under --advisories (a checkout holds PyPI/ one level down). */
#define OSV_MAX_DIR_DEPTH 6U
/* Per-record caps: real records have a handful of each; `versions` lists
 * reach a few hundred entries. */
#define OSV_MAX_ALIASES 64U
#define OSV_MAX_AFFECTED 256U
#define OSV_MAX_RANGES 64U
#define OSV_MAX_EVENTS 512U
#define OSV_MAX_VERSIONS 20000U
/* Record ids and names of files that failed, kept for the report. */
#define OSV_MAX_ERROR_NAMES 5U

typedef enum osv_event_kind {
    OSV_EVENT_INTRODUCED,
    OSV_EVENT_FIXED,
    OSV_EVENT_LAST_AFFECTED,
    OSV_EVENT_LIMIT,
} osv_event_kind;

typedef struct osv_event {
    osv_event_kind kind;
    bool zero;        /* introduced "0": before every version */
    bool approximate; /* not PEP 440 ("2.6.0-NA"): read as its longest valid prefix */
    pep440_version version;
    char *text; /* as written */
} osv_event;

typedef struct osv_range {
    osv_event *events; /* sorted by version, as the OSV evaluation requires */
    size_t nevents;
} osv_range;

typedef struct osv_affected {
    char *package; /* PEP 503 normalised */
    osv_range *ranges;
    size_t nranges;
    char **versions; /* explicit affected versions, as written */
    size_t nversions;
} osv_affected;

typedef struct osv_record {
    char *id;
    char **aliases;
    size_t naliases;
    char *summary;           /* summary, or the start of details; never NULL */
    bool has_severity;
    ms_severity severity;    /* from the score, or database_specific.severity */
    double score;            /* CVSS base score, -1 when none */
    const char *score_kind;  /* "CVSS_V3", "CVSS_V4 (approximated as v3.1)", "database_specific" or NULL */
    char *vector;            /* the CVSS vector the score came from, or NULL */
    osv_affected *affected;
    size_t naffected;
    bool builtin;    /* from osv_builtin.c */
    bool superseded; /* built-in record replaced by a loaded one with the same id/alias */
} osv_record;

typedef struct osv_load_stats {
    unsigned long files;      /* JSON documents read */
    unsigned long records;    /* records kept */
    unsigned long withdrawn;  /* dropped: withdrawn */
    unsigned long other;      /* dropped: no PyPI package, or none the filter wanted */
    unsigned long unreadable; /* documents that are not an OSV record we can use */
    unsigned long approximate; /* range events that are not PEP 440, read approximately */
    char *error_names[OSV_MAX_ERROR_NAMES]; /* the first unreadable ones: "name: why" */
    bool limit_hit; /* a cap above stopped the load early */
} osv_load_stats;

typedef struct osv_db {
    osv_record *records;
    size_t n, cap;
    osv_load_stats stats;
    bool loaded; /* a --advisories source was loaded into it */
} osv_db;

/* Which packages to keep while loading (PEP 503 names); NULL keeps all. */
typedef struct osv_filter {
    const char *const *packages;
    size_t n;
} osv_filter;

osv_db *osv_db_new(void);
void osv_db_free(osv_db *db);

/* Adds the built-in advisories (osv_builtin.c). Built-in records that share
 * an id or alias with a record loaded for the same package are marked
 * superseded (whichever is added first). MS_NOMEM on allocation failure. */
MS_WARN_UNUSED ms_status osv_db_add_builtin(osv_db *db);

/* Loads `path`: a folder of *.json OSV files (walked in byte order of names,
 * symbolic links to folders not followed), a .zip or tar of them, or a single
 * JSON file. MS_IO when the path cannot be opened or read as any of these
 * (nothing is loaded); MS_OK otherwise, with partial problems counted in
 * db->stats. */
MS_WARN_UNUSED ms_status osv_db_load_path(osv_db *db, const char *path, const osv_filter *filter);

/* Adds one OSV JSON document (`origin` names it in error messages). MS_OK
 * also when the record is dropped (withdrawn, not PyPI, filtered out);
 * MS_MALFORMED when it is not a usable OSV record (counted in stats). */
MS_WARN_UNUSED ms_status osv_db_add_json_text(osv_db *db, const char *text, size_t len,
                                              const char *origin, const osv_filter *filter);
MS_WARN_UNUSED ms_status osv_db_add_json(osv_db *db, const json_t *doc, const char *origin,
                                         const osv_filter *filter, bool builtin);

/* What matched: the affected range written out (">=3.0.0, <3.8.0",
 * "<=5.2.0", "listed version 2.6.2") and the first fixed version above the
 * version ("" when the advisory names none). */
typedef struct osv_hit {
    char affected[PEP440_MAX_TEXT * 2 + 48];
    char fixed[PEP440_MAX_TEXT + 1];
    bool approximate; /* an event version of the range was not PEP 440 */
} osv_hit;

/* Whether `record` affects `package` (PEP 503) at version `v` (its local
 * label is ignored: a local build has the upstream release's flaws). With
 * `exclusive`, `v` stands for "the lowest version above v" (a ">v" pin): a
 * range matches when it contains versions just above v. Withdrawn records
 * never reach the database; superseded ones never match. */
bool osv_record_affects(const osv_record *record, const char *package, const pep440_version *v,
                        bool exclusive, osv_hit *hit);

/* The smallest `fixed` version above `v` for `package` that no record in the
 * database affects; false when there is none. */
bool osv_db_first_safe_version(const osv_db *db, const char *package, const pep440_version *v,
                               char *out, size_t cap);

/* CVSS v3.0/v3.1 base score of a vector ("CVSS:3.1/AV:N/..."); false when
 * the vector is not a complete, valid v3 base vector. */
bool osv_cvss3_score(const char *vector, double *score);
/* A CVSS v4 vector mapped onto the v3.1 base formula (see osv.c): an
 * approximation that never rates lower than the v4 impact metrics imply. */
bool osv_cvss4_approx_score(const char *vector, double *score);
/* 0 Informational, 0.1-3.9 Low, 4.0-6.9 Medium, 7.0-8.9 High, 9.0-10 Critical. */
ms_severity osv_severity_from_score(double score);

/* The built-in table, for osv_db_add_builtin and tests. */
typedef struct osv_builtin_advisory {
    const char *id;
    const char *aliases; /* space-separated */
    const char *package;
    const char *events;  /* "introduced=0 fixed=4.36.0", several intervals allowed */
    const char *vector;  /* CVSS v3.1 vector */
    const char *summary;
} osv_builtin_advisory;
const osv_builtin_advisory *osv_builtin_table(size_t *count);

/* True when two records describe the same advisory: their ids or aliases
 * meet (PYSEC-... and its CVE, the per-distribution tensorflow records). */
bool osv_same_advisory(const osv_record *a, const osv_record *b);

#endif
