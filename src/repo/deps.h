/*
 * deps.h - the package versions a model repository names, and the check of
 * those versions against security advisories (OSV, see osv.h).
 *
 * Sources, all read as data and never run:
 *   config.json, generation_config.json, *_config.json, model_index.json,
 *   config_sentence_transformers.json, metadata.json (Keras 3):
 *       "transformers_version", "diffusers_version"/"_diffusers_version",
 *       "keras_version", "__version__": {"sentence_transformers": ...},
 *       "framework"+"framework_version" and the other "<library>_version" keys
 *       of known libraries;
 *   requirements*.txt, constraints*.txt: pip's requirement-file syntax;
 *   pyproject.toml ([project] dependencies, optional-dependencies,
 *       [build-system] requires, [tool.poetry.*dependencies]);
 *   setup.cfg ([options] install_requires, setup_requires, extras_require);
 *   setup.py (string literals in install_requires= / setup_requires= /
 *       extras_require= / tests_require=; parsed as text);
 *   README.md front matter (`library_name`: a name without a version).
 */
#ifndef MS_DEPS_H
#define MS_DEPS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "model_scanner.h"
#include "../core/scan_ctx.h"
#include "osv.h"
#include "pep440.h"

/* Declarations kept per repository: real ones name a few dozen. */
#define DEPS_MAX_ENTRIES 10000U
/* Files looked at for dependencies, and the bytes read from each: config
 * files are a few KiB, requirement files less; a tokenizer-sized JSON file
 * is not a config. */
#define DEPS_MAX_FILES 2000U
#define DEPS_MAX_FILE_BYTES (4U << 20)
/* Only the front matter at the top of a README is read. */
#define DEPS_MAX_README_BYTES (64U << 10)
/* JSON nesting followed when looking for *_version keys (composite configs
 * nest a text_config or vision_config one level down). */
#define DEPS_MAX_JSON_DEPTH 8U
/* Requirement-file lines joined by backslash continuations. */
#define DEPS_MAX_LINE 8192U
/* Advisories listed in one finding's description (all are in details). */
#define DEPS_MAX_LISTED 10U
/* Declarations kept as facts for a bill of materials (report->dependencies),
 * and the bytes kept of each specifier or path: a real repository names a
 * few dozen packages; beyond the cap a SCAN-LIMIT finding says so. */
#define DEPS_MAX_FACTS 1000U
#define DEPS_MAX_FACT_TEXT 512U

typedef enum dep_kind {
    DEP_VERSION,  /* one exact version: a config key, ==X, ===X */
    DEP_RANGE,    /* a specifier set with a lower bound: checked at the lowest version it allows */
    DEP_UNPINNED, /* a name without a lower bound (none, <X, !=X): nothing to check */
    DEP_URL,      /* name @ URL, a VCS or file URL, a local path: no version to check */
    DEP_INCLUDE,  /* -r / -c FILE in a requirements file: noted, not followed */
    DEP_INVALID,  /* a declaration or version that could not be parsed */
} dep_kind;

typedef struct dep_entry {
    dep_kind kind;
    char *name;            /* as written; NULL for includes and some invalid lines */
    char normalized[128];  /* PEP 503, "" when there is no name */
    char *spec;            /* the version, specifier set, URL or include target as written */
    pep440_version version; /* DEP_VERSION / DEP_RANGE: the version to check */
    bool lower_exclusive;  /* DEP_RANGE from ">X": the versions just above X */
    char *source;          /* file, relative to the model folder */
    char *where;           /* "key transformers_version", "line 3", "[project] dependencies" */
    unsigned line;         /* 1-based line in `source`, 0 when not line-based */
    char *marker;          /* PEP 508 environment marker as written, or NULL */
    char *note;            /* why it cannot be checked (DEP_URL, DEP_INVALID, DEP_INCLUDE) */
    bool covered;          /* DEP_INCLUDE whose target was read anyway */
} dep_entry;

typedef struct dep_list {
    dep_entry *items;
    size_t n, cap;
    bool truncated; /* DEPS_MAX_ENTRIES reached: later declarations were dropped */
    bool nomem;
} dep_list;

void dep_list_init(dep_list *list);
void dep_list_free(dep_list *list);

/* Each extractor appends what it finds to `out` and returns MS_OK, or
 * MS_NOMEM. `location` is the file's path relative to the model folder.
 * Malformed declarations are appended as DEP_INVALID entries, never dropped. */
MS_WARN_UNUSED ms_status deps_from_json(const json_t *doc, const char *location, dep_list *out);
MS_WARN_UNUSED ms_status deps_from_requirements(const char *text, size_t len,
                                                const char *location, dep_list *out);
MS_WARN_UNUSED ms_status deps_from_pyproject(const char *text, size_t len, const char *location,
                                             dep_list *out);
MS_WARN_UNUSED ms_status deps_from_setup_cfg(const char *text, size_t len, const char *location,
                                             dep_list *out);
MS_WARN_UNUSED ms_status deps_from_setup_py(const char *text, size_t len, const char *location,
                                            dep_list *out);
MS_WARN_UNUSED ms_status deps_from_readme(const char *text, size_t len, const char *location,
                                          dep_list *out);
/* A config file that is not valid JSON: "<name>_version": "<v>" pairs are
 * looked for in its text. */
MS_WARN_UNUSED ms_status deps_from_json_text(const char *text, size_t len, const char *location,
                                             dep_list *out);

/* One PEP 508 requirement ("transformers[torch]>=4.30,<5; python_version>'3.8'")
 * appended as an entry; used by every extractor above. */
MS_WARN_UNUSED ms_status deps_add_requirement(dep_list *out, const char *text, size_t len,
                                              const char *location, const char *where,
                                              unsigned line);

/* Reports every entry of `deps` that an advisory in `db` affects as
 * DEPENDENCY-VULNERABLE (one finding per package and version, naming every
 * place it was found), and entries that could not be checked as
 * DEPENDENCY-UNCHECKED, on ctx->report. */
MS_WARN_UNUSED ms_status deps_check(ms_scan_ctx *ctx, const dep_list *deps, const osv_db *db);

/* Replaces report->dependencies with the named declarations of `deps`, in
 * list order, as {"name" (PEP 503), "version", "kind", "specifier"?,
 * "source", "line"?}: "kind" is exact, range, unpinned, url or invalid;
 * "version" is the normalised version of an exact pin, else the specifier
 * (or URL) as written, which "specifier" repeats. At most DEPS_MAX_FACTS
 * (then a SCAN-LIMIT finding). Returns MS_OK or MS_NOMEM. */
MS_WARN_UNUSED ms_status deps_record_facts(ms_report *report, const dep_list *deps);

/* The entry point for the core, called once per scan after the walk:
 * finds the dependency files under `root` (a folder, or one file), extracts
 * the versions they name (kept on report->dependencies, see
 * deps_record_facts), loads `advisories_path` when it is not NULL (a
 * folder, .zip or .json of OSV records; ADVISORIES-UNREADABLE when it cannot
 * be read) together with the built-in advisories, and reports the findings
 * on `report`. The walk is bounded (DEPS_MAX_FILES, the limits' depth),
 * deterministic (byte order of names), skips .git and never follows a
 * symbolic link that leaves `contain` (NULL: `root`; a Hugging Face cache
 * snapshot's links point into the entry's blobs/); a path matching one of
 * the `excludes` globs (--exclude, see ms_path_excluded) is not read, nor
 * anything under a matching folder. Returns MS_OK, MS_IO when `root` cannot be read, or
 * MS_NOMEM. */
MS_WARN_UNUSED ms_status repo_deps_scan(ms_report *report, const char *root,
                                        const char *contain, const ms_limits *limits,
                                        const char *advisories_path,
                                        const char *const *excludes, size_t nexcludes);

#endif
