/*
 * sarif.c - reports as one SARIF 2.1.0 log, shaped for GitHub code scanning
 * (docs/report-format.md, "SARIF"). Specification:
 * https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html; what
 * GitHub reads of it: "SARIF support for code scanning" in GitHub's docs.
 *
 *   { "$schema", "version": "2.1.0",
 *     "runs": [ one per report {
 *       "tool": { "driver": { name, version, semanticVersion,
 *                             "rules": [ every rule of the table, in its order ] } },
 *       "automationDetails": { "id": "model-scanner/<model path>/" },
 *       "originalUriBaseIds": { "MODELROOT": the model folder },
 *       "artifacts": [ every scanned file: location, length, sha-256 ],
 *       "invocations": [ { executionSuccessful, startTimeUtc } ],
 *       "results": [ one per finding, in report order {
 *           ruleId, ruleIndex, level, message,
 *           "locations": [ { physicalLocation: the outer file (+ line or
 *                            byte offset), logicalLocations: the full location } ],
 *           partialFingerprints, properties, suppressions? } ],
 *       "properties": { model_name, model_path, summary } } ] }
 *
 * Every rule is listed, so ruleIndex is the rule's place in the table for
 * every scan, and a clean scan still tells what was checked; the table has
 * a few dozen rules, GitHub takes 25,000 per run.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"
#include "export.h"
#include "model_scanner.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define SARIF_ROOT "MODELROOT"
/* GitHub shows at most this many characters of a rule's name and descriptions */
#define SARIF_MAX_TEXT 1024

/* Critical and High are errors, Medium a warning, the rest notes. */
static const char *level_of(ms_severity sev)
{
    return sev >= MS_SEV_HIGH ? "error" : sev == MS_SEV_MEDIUM ? "warning" : "note";
}

/* GitHub's scale: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9
 * low, 0.0 none. The middle of each band, so that a rounding consumer
 * cannot move a rule across a boundary. */
static const char *security_severity(ms_severity sev)
{
    switch (sev) {
    case MS_SEV_CRITICAL:
        return "9.5";
    case MS_SEV_HIGH:
        return "8.0";
    case MS_SEV_MEDIUM:
        return "5.5";
    case MS_SEV_LOW:
        return "3.0";
    case MS_SEV_INFORMATIONAL:
        return "0.0";
    }
    return "0.0";
}

/* Rules that judge by heuristics or default deny (a custom class, a call
 * that may be benign, personal-looking data) are right less often than the
 * ones that report a structural fact; GitHub orders by precision. */
static const char *precision_of(const char *rule_id)
{
    static const char *const medium[] = {
        "PICKLE-UNKNOWN-GLOBAL", "KERAS-CUSTOM-OBJECT", "SECRET-PERSONAL-DATA", "CUSTOM-CODE-RISKY",
        "CUSTOM-CODE-NETWORK",   "TF-UNKNOWN-OP",       "ONNX-CUSTOM-OPERATOR",
    };
    for (size_t i = 0; i < sizeof(medium) / sizeof(medium[0]); i++)
        if (strcmp(rule_id, medium[i]) == 0)
            return "medium";
    return "high";
}

/* At most SARIF_MAX_TEXT bytes of s, cut at a character boundary and
 * marked with an ellipsis. */
static json_t *text_capped(const char *s)
{
    size_t n = strlen(s);
    if (n <= SARIF_MAX_TEXT)
        return json_string(s);
    n = SARIF_MAX_TEXT - 3;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    char *t = ms_strdup_printf("%.*s\xe2\x80\xa6", (int)n, s);
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    return j;
}

/* "PICKLE-DANGEROUS-GLOBAL" -> "PickleDangerousGlobal" (SARIF's friendly
 * names are Pascal case) */
static char *rule_name(const char *id)
{
    char *out = malloc(strlen(id) + 1), *o = out;
    if (!out)
        return NULL;
    bool upper = true;
    for (const char *p = id; *p; p++) {
        if (*p == '-' || *p == '_') {
            upper = true;
            continue;
        }
        char c = *p;
        if (c >= 'A' && c <= 'Z' && !upper)
            c = (char)(c - 'A' + 'a');
        else if (c >= 'a' && c <= 'z' && upper)
            c = (char)(c - 'a' + 'A');
        *o++ = c;
        upper = false;
    }
    *o = '\0';
    return out;
}

/* "Arbitrary Code Execution" -> "arbitrary-code-execution" */
static char *type_tag(const char *type)
{
    char *out = strdup(type);
    if (!out)
        return NULL;
    for (char *p = out; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
        else if (*p == ' ')
            *p = '-';
    }
    return out;
}

/* text with Markdown's emphasis, code, link and table characters escaped,
 * so that `__import__` or `curl ... | sh` in a rule's text stay as written */
static char *md_escape(const char *text)
{
    char *out = malloc(2 * strlen(text) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p; p++) {
        if (strchr("\\`*_[]<>|#", *p))
            *o++ = '\\';
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

static json_t *rule_descriptor(const ms_rule *rule)
{
    char *name = rule_name(rule->id), *tag = type_tag(rule->type);
    char *help =
        ms_strdup_printf("%s\n\nWhat triggers it: %s", rule->recommendation, rule->trigger);
    char *rec = md_escape(rule->recommendation), *trigger = md_escape(rule->trigger);
    char *md = rec && trigger ? ms_strdup_printf("**%s** (`%s`, default severity %s)\n\n%s\n\n"
                                                 "**What triggers it:** %s",
                                                 rule->type, rule->id,
                                                 ms_severity_name(rule->severity), rec, trigger)
                              : NULL;
    free(rec);
    free(trigger);
    json_t *o = NULL;
    if (name && tag && help && md)
        o = json_pack("{s:s, s:s, s:{s:o}, s:{s:o}, s:{s:s, s:s}, s:{s:s}, "
                      "s:{s:[s, s], s:s, s:s}}",
                      "id", rule->id, "name", name, "shortDescription", "text",
                      text_capped(rule->type), "fullDescription", "text",
                      text_capped(rule->trigger), "help", "text", help, "markdown", md,
                      "defaultConfiguration", "level", level_of(rule->severity), "properties",
                      "tags", "security", tag, "security-severity",
                      security_severity(rule->severity), "precision", precision_of(rule->id));
    free(name);
    free(tag);
    free(help);
    free(md);
    return o;
}

/* {"uri", "uriBaseId", "index"?} for the n bytes of path ("." for the folder
 * itself) */
static json_t *artifact_location(const char *path, size_t n, size_t index)
{
    char *uri = export_uri_path(path, n);
    if (!uri)
        return NULL;
    json_t *o = json_pack("{s:s, s:s}", "uri", uri, "uriBaseId", SARIF_ROOT);
    free(uri);
    if (o && index != (size_t)-1)
        json_object_set_new(o, "index", json_integer((json_int_t)index));
    return o;
}

/* The file a repository-wide finding is shown on: the model card when the
 * scan saw one, else the model folder itself. GitHub needs a location for
 * every result. */
static size_t repo_anchor(const export_index *ix)
{
    return export_index_find(ix, "README.md", 9);
}

static json_t *finding_location(const export_index *ix, const ms_finding *f)
{
    export_where w;
    export_locate(ix, f->location, &w);
    json_t *physical = NULL;
    if (w.repo_wide) {
        size_t card = repo_anchor(ix);
        physical = json_pack("{s:o}", "artifactLocation",
                             card != (size_t)-1 ? artifact_location("README.md", 9, card)
                                                : artifact_location(".", 1, (size_t)-1));
    } else {
        physical = json_pack("{s:o}", "artifactLocation",
                             artifact_location(f->location, w.outer_len, w.file));
        json_t *offset = json_object_get(f->details, "offset");
        if (w.line)
            json_object_set_new(physical, "region",
                                json_pack("{s:I}", "startLine", (json_int_t)w.line));
        else if (!w.inside && json_is_integer(offset) && json_integer_value(offset) >= 0)
            /* details.offset of a finding on the file itself is a file offset */
            json_object_set_new(physical, "region",
                                json_pack("{s:I}", "byteOffset", json_integer_value(offset)));
    }
    json_t *loc = json_pack("{s:o}", "physicalLocation", physical);
    /* the whole location, member path and all, as the report gives it */
    const char *last = strrchr(f->location, '!');
    json_object_set_new(loc, "logicalLocations",
                        json_pack("[{s:s, s:s}]", "name", last ? last + 1 : f->location,
                                  "fullyQualifiedName", f->location));
    return loc;
}

static json_t *result_json(const export_index *ix, const ms_finding *f, size_t rule_index,
                           json_t *seen)
{
    char hex[65];
    if (!export_fingerprint(f, hex))
        return NULL;
    /* GitHub reads only primaryLocationLineHash and combines it with the
     * path and rule; ":N" counts identical findings, as CodeQL does */
    char primary[96];
    snprintf(primary, sizeof(primary), "%.16s:%zu", hex, export_count(seen, hex));
    json_t *details = f->details ? json_incref(f->details) : json_object();
    json_t *res = json_pack(
        "{s:s, s:I, s:s, s:{s:s}, s:[o], s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:o}}", "ruleId",
        f->rule_id, "ruleIndex", (json_int_t)rule_index, "level", level_of(f->severity), "message",
        "text", f->description, "locations", finding_location(ix, f), "partialFingerprints",
        "primaryLocationLineHash", primary, "modelScanner/v1", hex, "properties", "severity",
        ms_severity_name(f->severity), "security-severity", security_severity(f->severity), "type",
        f->type, "location", f->location, "details", details);
    if (res && f->suppressed) {
        json_t *s = json_pack("{s:s, s:s}", "kind", "external", "status", "accepted");
        if (f->suppress_reason)
            json_object_set_new(s, "justification", json_string(f->suppress_reason));
        if (f->suppress_expires)
            json_object_set_new(s, "properties",
                                json_pack("{s:s}", "expires", f->suppress_expires));
        json_object_set_new(res, "suppressions", json_pack("[o]", s));
    }
    return res;
}

/* MODELROOT: the folder the artifact paths are relative to (for one file
 * scanned on its own, the folder holding it). An absolute model path is a
 * file: URI; a relative one depends on where the scanner ran, so it is
 * only described. */
static json_t *model_root(const ms_report *r)
{
    size_t n = strlen(r->model_path);
    if (export_single_file(r))
        n -= strlen(r->files[0].path);
    while (n > 1 && r->model_path[n - 1] == '/')
        n--;
    char *desc = ms_strdup_printf("The folder of --model-path %s (the folder holding it when it "
                                  "is a file); artifact paths are relative to it.",
                                  r->model_path);
    json_t *o = json_pack("{s:{s:s}}", "description", "text", desc ? desc : "");
    free(desc);
    if (n > 0 && r->model_path[0] == '/') {
        char *enc = export_uri_path(r->model_path, n);
        char *uri = enc ? ms_strdup_printf("file://%s%s", enc, n > 1 ? "/" : "") : NULL;
        if (uri)
            json_object_set_new(o, "uri", json_string(uri));
        free(enc);
        free(uri);
    }
    return o;
}

static json_t *run_json(const ms_report *r)
{
    size_t nrules = 0;
    const ms_rule *rules = ms_rules(&nrules);
    export_index ix;
    json_t *seen = json_object();
    if (!seen || !export_index_init(&ix, r)) {
        json_decref(seen);
        return NULL;
    }
    json_t *jrules = json_array();
    for (size_t i = 0; i < nrules; i++)
        json_array_append_new(jrules, rule_descriptor(&rules[i]));

    json_t *artifacts = json_array();
    for (size_t i = 0; i < r->nfiles; i++) {
        const ms_file_entry *e = &r->files[i];
        json_t *a = json_pack("{s:o, s:I, s:{s:s}}", "location",
                              artifact_location(e->path, strlen(e->path), (size_t)-1), "length",
                              (json_int_t)e->size, "properties", "format", e->format);
        if (e->sha256[0])
            json_object_set_new(a, "hashes", json_pack("{s:s}", "sha-256", e->sha256));
        json_array_append_new(artifacts, a);
    }

    json_t *results = json_array();
    uint64_t counts[MS_SEV_CRITICAL + 1] = {0}, suppressed = 0;
    bool ok = true;
    for (size_t i = 0; i < r->nfindings && ok; i++) {
        const ms_finding *f = &r->findings[i];
        const ms_rule *rule = ms_rule_find(f->rule_id);
        json_t *res = rule ? result_json(&ix, f, (size_t)(rule - rules), seen) : NULL;
        ok = res && json_array_append_new(results, res) == 0;
        if (f->suppressed)
            suppressed++;
        else
            counts[f->severity]++;
    }
    export_index_free(&ix);
    json_decref(seen);
    if (!ok) {
        json_decref(jrules);
        json_decref(artifacts);
        json_decref(results);
        return NULL;
    }

    char ts[32];
    export_timestamp(r->scan_time, ts);
    char *category = ms_strdup_printf("model-scanner/%s/", r->model_path);
    json_t *run = json_pack(
        "{s:{s:{s:s, s:s, s:s, s:o}}, s:{s:s}, s:{s:o}, s:o, s:[{s:b, s:s}], s:o, "
        "s:{s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}}",
        "tool", "driver", "name", "model-scanner", "version", MS_VERSION, "semanticVersion",
        MS_VERSION, "rules", jrules, "automationDetails", "id", category ? category : "",
        "originalUriBaseIds", SARIF_ROOT, model_root(r), "artifacts", artifacts, "invocations",
        "executionSuccessful", 1, "startTimeUtc", ts, "results", results, "properties",
        "model_name", r->model_name, "model_path", r->model_path, "summary", "files_scanned",
        (json_int_t)r->files_scanned, "bytes_scanned", (json_int_t)r->bytes_scanned, "critical",
        (json_int_t)counts[MS_SEV_CRITICAL], "high", (json_int_t)counts[MS_SEV_HIGH], "medium",
        (json_int_t)counts[MS_SEV_MEDIUM], "low", (json_int_t)counts[MS_SEV_LOW], "informational",
        (json_int_t)counts[MS_SEV_INFORMATIONAL], "suppressed", (json_int_t)suppressed);
    free(category);
    return run;
}

json_t *ms_report_to_sarif(const ms_report *const *reports, size_t n)
{
    json_t *runs = json_array();
    for (size_t i = 0; i < n && runs; i++) {
        json_t *run = run_json(reports[i]);
        if (!run || json_array_append_new(runs, run) != 0) {
            json_decref(runs);
            return NULL;
        }
    }
    return json_pack("{s:s, s:s, s:o}", "$schema", SARIF_SCHEMA, "version", "2.1.0", "runs", runs);
}
