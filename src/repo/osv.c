/*
 * osv.c - OSV advisory loader and version matcher for PyPI.
 *
 * Format: the Open Source Vulnerability schema, https://ossf.github.io/osv-schema/
 *
 *   { "id": "PYSEC-2025-122", "aliases": ["CVE-2025-1550", "GHSA-..."],
 *     "withdrawn": "2025-..."?,  "summary": "...", "details": "...",
 *     "severity": [ {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/..."},
 *                   {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/..."} ],
 *     "database_specific": {"severity": "HIGH"}?,
 *     "affected": [ { "package": {"ecosystem": "PyPI", "name": "keras"},
 *                     "ranges": [ {"type": "ECOSYSTEM",          <- GIT, SEMVER ignored
 *                                  "events": [ {"introduced": "3.0.0"},
 *                                              {"fixed": "3.8.0"},
 *                                              {"introduced": "3.9.0"},
 *                                              {"last_affected": "3.9.2"},
 *                                              {"limit": "4.0"} ] } ],
 *                     "versions": ["3.0.0", "3.0.1", ...] } ] }
 *
 *   Evaluation (the schema's algorithm): sort a range's events by version
 *   ("introduced": "0" first), then walk them: introduced <= v opens,
 *   fixed <= v closes, last_affected < v closes; v must also be below some
 *   limit if there is one. A version is affected if any ECOSYSTEM range
 *   contains it or the versions list names it.
 *
 * Folders and single files are read with plain POSIX calls; .zip (and tar)
 * archives through libarchive, from the file, nothing extracted to disk.
 * JSON is parsed by jansson. The input is trusted more than a model file
 * (the user names it) but is still bounded: every count and size is capped
 * (osv.h) and a document that does not parse is counted, never fatal.
 */
#define _GNU_SOURCE
#include "osv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "../util/strbuf.h"

osv_db *osv_db_new(void)
{
    return calloc(1, sizeof(osv_db));
}

static void free_record(osv_record *r)
{
    free(r->id);
    for (size_t i = 0; i < r->naliases; i++)
        free(r->aliases[i]);
    free(r->aliases);
    free(r->summary);
    free(r->vector);
    for (size_t i = 0; i < r->naffected; i++) {
        osv_affected *a = &r->affected[i];
        free(a->package);
        for (size_t j = 0; j < a->nranges; j++) {
            for (size_t k = 0; k < a->ranges[j].nevents; k++)
                free(a->ranges[j].events[k].text);
            free(a->ranges[j].events);
        }
        free(a->ranges);
        for (size_t j = 0; j < a->nversions; j++)
            free(a->versions[j]);
        free(a->versions);
    }
    free(r->affected);
}

void osv_db_free(osv_db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n; i++)
        free_record(&db->records[i]);
    free(db->records);
    for (size_t i = 0; i < OSV_MAX_ERROR_NAMES; i++)
        free(db->stats.error_names[i]);
    free(db);
}

static void note_error(osv_db *db, const char *origin, const char *why)
{
    db->stats.unreadable++;
    for (size_t i = 0; i < OSV_MAX_ERROR_NAMES; i++) {
        if (!db->stats.error_names[i]) {
            db->stats.error_names[i] = ms_strdup_printf("%s: %s", origin ? origin : "?", why);
            return;
        }
    }
}

/* ---- CVSS ---- */

typedef struct cvss_metrics {
    double av, ac, ui, c, i, a;
    char pr; /* 'N', 'L', 'H' (its weight depends on scope) */
    bool changed;
} cvss_metrics;

/* Round up to one decimal as CVSS v3.1 Appendix A defines it (avoids
 * floating-point artefacts such as 4.000000001 -> 4.1). */
static double cvss_roundup(double x)
{
    long long n = (long long)(x * 100000.0 + 0.5); /* x >= 0: rounds to nearest */
    if (n % 10000 == 0)
        return (double)n / 100000.0;
    return (double)(n / 10000 + 1) / 10.0;
}

static double cvss3_formula(const cvss_metrics *m)
{
    double pr = m->pr == 'N' ? 0.85 : m->pr == 'L' ? (m->changed ? 0.68 : 0.62)
                                                    : (m->changed ? 0.50 : 0.27);
    double iss = 1.0 - (1.0 - m->c) * (1.0 - m->i) * (1.0 - m->a);
    double p15 = 1.0; /* (iss - 0.02)^15, without libm */
    for (int k = 0; k < 15; k++)
        p15 *= iss - 0.02;
    double impact = m->changed ? 7.52 * (iss - 0.029) - 3.25 * p15 : 6.42 * iss;
    double exploit = 8.22 * m->av * m->ac * pr * m->ui;
    if (impact <= 0)
        return 0.0;
    double base = m->changed ? 1.08 * (impact + exploit) : impact + exploit;
    return cvss_roundup(base < 10.0 ? base : 10.0);
}

/* Finds metric `key` in a "/"-separated vector; returns its one-letter value
 * or 0. Sets *dup when the metric appears twice. */
static char cvss_metric(const char *vector, const char *key, bool *dup)
{
    size_t k = strlen(key);
    char found = 0;
    const char *p = vector;
    while (p && *p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == k + 2 && strncmp(p, key, k) == 0 && p[k] == ':') {
            if (found)
                *dup = true;
            found = p[k + 1];
        }
        p = slash ? slash + 1 : NULL;
    }
    return found;
}

static double cia_weight(char v, bool *ok)
{
    switch (v) {
    case 'H': return 0.56;
    case 'L': return 0.22;
    case 'N': return 0.0;
    default: *ok = false; return 0.0;
    }
}

static double av_weight(char v, bool *ok)
{
    switch (v) {
    case 'N': return 0.85;
    case 'A': return 0.62;
    case 'L': return 0.55;
    case 'P': return 0.2;
    default: *ok = false; return 0.0;
    }
}

bool osv_cvss3_score(const char *vector, double *score)
{
    if (!vector || (strncmp(vector, "CVSS:3.1/", 9) != 0 && strncmp(vector, "CVSS:3.0/", 9) != 0))
        return false;
    bool dup = false, ok = true;
    char av = cvss_metric(vector, "AV", &dup), ac = cvss_metric(vector, "AC", &dup),
         pr = cvss_metric(vector, "PR", &dup), ui = cvss_metric(vector, "UI", &dup),
         s = cvss_metric(vector, "S", &dup), c = cvss_metric(vector, "C", &dup),
         i = cvss_metric(vector, "I", &dup), a = cvss_metric(vector, "A", &dup);
    if (dup)
        return false;
    cvss_metrics m;
    m.av = av_weight(av, &ok);
    m.ac = ac == 'L' ? 0.77 : ac == 'H' ? 0.44 : (ok = false, 0.0);
    m.pr = pr;
    ok = ok && (pr == 'N' || pr == 'L' || pr == 'H');
    m.ui = ui == 'N' ? 0.85 : ui == 'R' ? 0.62 : (ok = false, 0.0);
    ok = ok && (s == 'U' || s == 'C');
    m.changed = s == 'C';
    m.c = cia_weight(c, &ok);
    m.i = cia_weight(i, &ok);
    m.a = cia_weight(a, &ok);
    if (!ok)
        return false;
    *score = cvss3_formula(&m);
    return true;
}

static char max_impact(char x, char y)
{
    if (x == 'H' || y == 'H')
        return 'H';
    if (x == 'L' || y == 'L')
        return 'L';
    return 'N';
}

/* CVSS v4 has no closed formula (its score comes from a table of
 * macro-vectors). The vector is mapped onto the v3.1 base formula instead:
 * AV and PR as they are; AC:H when AC:H or AT:P; UI:R unless UI:N; each
 * impact the higher of the vulnerable (VC/VI/VA) and subsequent (SC/SI/SA)
 * system's; scope changed when a subsequent-system impact exceeds the
 * vulnerable system's. Rounded up, so the result never understates what the
 * impact metrics say. Used only when a record has no v3 vector and no
 * database_specific.severity. */
bool osv_cvss4_approx_score(const char *vector, double *score)
{
    if (!vector || strncmp(vector, "CVSS:4.0/", 9) != 0)
        return false;
    bool dup = false, ok = true;
    char av = cvss_metric(vector, "AV", &dup), ac = cvss_metric(vector, "AC", &dup),
         at = cvss_metric(vector, "AT", &dup), pr = cvss_metric(vector, "PR", &dup),
         ui = cvss_metric(vector, "UI", &dup), vc = cvss_metric(vector, "VC", &dup),
         vi = cvss_metric(vector, "VI", &dup), va = cvss_metric(vector, "VA", &dup),
         sc = cvss_metric(vector, "SC", &dup), si = cvss_metric(vector, "SI", &dup),
         sa = cvss_metric(vector, "SA", &dup);
    if (dup || !av || !ac || !at || !pr || !ui || !vc || !vi || !va || !sc || !si || !sa)
        return false;
    const char *imp = "HLN";
    if (!strchr(imp, vc) || !strchr(imp, vi) || !strchr(imp, va) || !strchr(imp, sc) ||
        !strchr(imp, si) || !strchr(imp, sa) || (at != 'N' && at != 'P') ||
        (ui != 'N' && ui != 'P' && ui != 'A'))
        return false;
    cvss_metrics m;
    m.av = av_weight(av, &ok);
    m.ac = (ac == 'H' || at == 'P') ? 0.44 : ac == 'L' ? 0.77 : (ok = false, 0.0);
    m.pr = pr;
    ok = ok && (pr == 'N' || pr == 'L' || pr == 'H');
    m.ui = ui == 'N' ? 0.85 : 0.62;
    int vmax = (vc == 'H' || vi == 'H' || va == 'H') ? 2 : (vc == 'L' || vi == 'L' || va == 'L');
    int smax = (sc == 'H' || si == 'H' || sa == 'H') ? 2 : (sc == 'L' || si == 'L' || sa == 'L');
    m.changed = smax > vmax;
    m.c = cia_weight(max_impact(vc, sc), &ok);
    m.i = cia_weight(max_impact(vi, si), &ok);
    m.a = cia_weight(max_impact(va, sa), &ok);
    if (!ok)
        return false;
    *score = cvss3_formula(&m);
    return true;
}

ms_severity osv_severity_from_score(double score)
{
    if (score >= 9.0)
        return MS_SEV_CRITICAL;
    if (score >= 7.0)
        return MS_SEV_HIGH;
    if (score >= 4.0)
        return MS_SEV_MEDIUM;
    if (score > 0.0)
        return MS_SEV_LOW;
    return MS_SEV_INFORMATIONAL;
}

/* GitHub's words (database_specific.severity) and plain ones. */
static bool severity_word(const char *w, ms_severity *out)
{
    if (!w)
        return false;
    if (strcasecmp(w, "moderate") == 0) {
        *out = MS_SEV_MEDIUM;
        return true;
    }
    return ms_severity_parse(w, out);
}

/* ---- records ---- */

static int cmp_event(const osv_event *a, const osv_event *b)
{
    if (a->zero || b->zero)
        return a->zero && b->zero ? 0 : a->zero ? -1 : 1;
    return pep440_compare_public(&a->version, &b->version);
}

/* Stable insertion sort: event lists are short, and equal versions keep the
 * order the record wrote them in. */
static void sort_events(osv_event *ev, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        osv_event tmp = ev[i];
        size_t j = i;
        while (j > 0 && cmp_event(&ev[j - 1], &tmp) > 0) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = tmp;
    }
}

/* A range event's version: PEP 440, or else the longest prefix ending before
 * a '-', '_' or '+' that is (records carry "2.6.0-NA", "2.6.0-cu124"). */
static bool parse_event_version(const char *text, osv_event *ev)
{
    size_t n = strlen(text);
    if (pep440_parse(text, n, &ev->version))
        return true;
    while (n > 0) {
        n--;
        if ((text[n] == '-' || text[n] == '_' || text[n] == '+') &&
            pep440_parse(text, n, &ev->version)) {
            ev->approximate = true;
            return true;
        }
    }
    return false;
}

static bool package_wanted(const char *pkg, const osv_filter *filter)
{
    if (!filter)
        return true;
    for (size_t i = 0; i < filter->n; i++)
        if (strcmp(filter->packages[i], pkg) == 0)
            return true;
    return false;
}

/* Parses one ECOSYSTEM range. Returns NULL-free status: MS_OK, MS_MALFORMED
 * (with *why), MS_NOMEM. */
static ms_status parse_range(const json_t *jr, osv_range *out, unsigned long *approx,
                             const char **why)
{
    const json_t *events = json_object_get(jr, "events");
    size_t n = json_array_size(events);
    if (!json_is_array(events) || n == 0) {
        *why = "a range without events";
        return MS_MALFORMED;
    }
    if (n > OSV_MAX_EVENTS) {
        *why = "too many range events";
        return MS_MALFORMED;
    }
    out->events = calloc(n, sizeof(osv_event));
    if (!out->events)
        return MS_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *je = json_array_get(events, i);
        const char *key, *text = NULL;
        json_t *val;
        osv_event ev;
        memset(&ev, 0, sizeof(ev));
        if (!json_is_object(je)) {
            *why = "a range event that is not an object";
            return MS_MALFORMED;
        }
        json_object_foreach((json_t *)je, key, val)
        {
            osv_event_kind kind;
            if (strcmp(key, "introduced") == 0)
                kind = OSV_EVENT_INTRODUCED;
            else if (strcmp(key, "fixed") == 0)
                kind = OSV_EVENT_FIXED;
            else if (strcmp(key, "last_affected") == 0)
                kind = OSV_EVENT_LAST_AFFECTED;
            else if (strcmp(key, "limit") == 0)
                kind = OSV_EVENT_LIMIT;
            else
                continue;
            if (text || !json_string_value(val)) {
                *why = "a range event that is not one version string";
                return MS_MALFORMED;
            }
            text = json_string_value(val);
            ev.kind = kind;
        }
        if (!text)
            continue;
        if (ev.kind == OSV_EVENT_LIMIT && strcmp(text, "*") == 0)
            continue; /* "*": no limit at all */
        if (ev.kind == OSV_EVENT_INTRODUCED && strcmp(text, "0") == 0) {
            ev.zero = true;
        } else if (!parse_event_version(text, &ev)) {
            *why = "a range event whose version is not PEP 440";
            return MS_MALFORMED;
        }
        if (ev.approximate)
            (*approx)++;
        ev.text = strdup(text);
        if (!ev.text)
            return MS_NOMEM;
        out->events[out->nevents++] = ev;
    }
    sort_events(out->events, out->nevents);
    return MS_OK;
}

/* A listed version as a comparison key: the normalised public version with
 * trailing zero release segments dropped, so that equal versions have equal
 * keys ("2.6" and "2.6.0" -> "2.6") and matching is a string compare. A
 * string that is not PEP 440 is kept lower-cased behind a '~' (never a
 * version's first character). */
static void version_key_buf(const pep440_version *in, char *buf, size_t cap)
{
    pep440_version v = *in;
    pep440_strip_local(&v);
    while (v.nrelease > 1 && v.release[v.nrelease - 1] == 0)
        v.nrelease--;
    pep440_format(&v, buf, cap);
}

static char *version_key_of(const pep440_version *in)
{
    char buf[PEP440_MAX_TEXT * 2];
    version_key_buf(in, buf, sizeof(buf));
    return strdup(buf);
}

static char *version_key(const char *text)
{
    pep440_version v;
    if (pep440_parse_str(text, &v))
        return version_key_of(&v);
    char *k = ms_strdup_printf("~%s", text);
    for (char *p = k; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return k;
}

static ms_status parse_affected(const json_t *ja, osv_affected *out, const osv_filter *filter,
                                unsigned long *approx, bool *keep, const char **why)
{
    *keep = false;
    const json_t *pkg = json_object_get(ja, "package");
    const char *eco = json_string_value(json_object_get(pkg, "ecosystem"));
    const char *name = json_string_value(json_object_get(pkg, "name"));
    if (!eco || strcmp(eco, "PyPI") != 0)
        return MS_OK;
    char norm[256];
    if (!name || !pep503_normalize(name, strlen(name), norm, sizeof(norm))) {
        *why = "a PyPI package without a usable name";
        return MS_MALFORMED;
    }
    if (!package_wanted(norm, filter))
        return MS_OK;
    out->package = strdup(norm);
    if (!out->package)
        return MS_NOMEM;
    *keep = true;
    const json_t *ranges = json_object_get(ja, "ranges");
    size_t nr = json_array_size(ranges);
    if (nr > OSV_MAX_RANGES) {
        *why = "too many ranges";
        return MS_MALFORMED;
    }
    if (nr) {
        out->ranges = calloc(nr, sizeof(osv_range));
        if (!out->ranges)
            return MS_NOMEM;
    }
    for (size_t i = 0; i < nr; i++) {
        const json_t *jr = json_array_get(ranges, i);
        const char *type = json_string_value(json_object_get(jr, "type"));
        if (!type || strcmp(type, "ECOSYSTEM") != 0)
            continue; /* GIT ranges name commits, SEMVER is not PyPI's order */
        ms_status s = parse_range(jr, &out->ranges[out->nranges], approx, why);
        out->nranges++; /* owned either way, freed with the record */
        if (s != MS_OK)
            return s;
    }
    const json_t *versions = json_object_get(ja, "versions");
    size_t nv = json_array_size(versions);
    if (nv > OSV_MAX_VERSIONS) {
        *why = "too many listed versions";
        return MS_MALFORMED;
    }
    if (nv) {
        out->versions = calloc(nv, sizeof(char *));
        if (!out->versions)
            return MS_NOMEM;
    }
    for (size_t i = 0; i < nv; i++) {
        const char *v = json_string_value(json_array_get(versions, i));
        if (!v)
            continue;
        out->versions[out->nversions] = version_key(v);
        if (!out->versions[out->nversions])
            return MS_NOMEM;
        out->nversions++;
    }
    return MS_OK;
}

static void record_severity(osv_record *r, const json_t *doc)
{
    const json_t *sev = json_object_get(doc, "severity");
    double best = -1;
    const char *best_vec = NULL;
    for (size_t i = 0; i < json_array_size(sev); i++) {
        const json_t *s = json_array_get(sev, i);
        const char *type = json_string_value(json_object_get(s, "type"));
        const char *vec = json_string_value(json_object_get(s, "score"));
        double score;
        if (type && strcmp(type, "CVSS_V3") == 0 && osv_cvss3_score(vec, &score) &&
            score > best) {
            best = score;
            best_vec = vec;
        }
    }
    if (best >= 0) {
        r->score_kind = "CVSS_V3";
    } else {
        ms_severity w;
        const char *word =
            json_string_value(json_object_get(json_object_get(doc, "database_specific"),
                                              "severity"));
        if (severity_word(word, &w)) {
            r->has_severity = true;
            r->severity = w;
            r->score = -1;
            r->score_kind = "database_specific";
            return;
        }
        for (size_t i = 0; i < json_array_size(sev); i++) {
            const json_t *s = json_array_get(sev, i);
            const char *type = json_string_value(json_object_get(s, "type"));
            const char *vec = json_string_value(json_object_get(s, "score"));
            double score;
            if (type && strcmp(type, "CVSS_V4") == 0 && osv_cvss4_approx_score(vec, &score) &&
                score > best) {
                best = score;
                best_vec = vec;
            }
        }
        if (best >= 0)
            r->score_kind = "CVSS_V4 (approximated as v3.1)";
    }
    r->score = best;
    if (best >= 0) {
        r->has_severity = true;
        r->severity = osv_severity_from_score(best);
        r->vector = strdup(best_vec);
    }
}

static char *record_summary(const json_t *doc)
{
    const char *s = json_string_value(json_object_get(doc, "summary"));
    if (!s || !*s)
        s = json_string_value(json_object_get(doc, "details"));
    if (!s)
        s = "";
    /* the first line, at most 200 bytes, cut at a UTF-8 boundary */
    size_t n = strcspn(s, "\n");
    if (n > 200) {
        n = 200;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *out = strndup(s, n);
    if (out)
        ms_sanitize_text(out);
    return out;
}

bool osv_same_advisory(const osv_record *a, const osv_record *b)
{
    if (strcasecmp(a->id, b->id) == 0)
        return true;
    for (size_t i = 0; i < a->naliases; i++) {
        if (strcasecmp(a->aliases[i], b->id) == 0)
            return true;
        for (size_t j = 0; j < b->naliases; j++)
            if (strcasecmp(a->aliases[i], b->aliases[j]) == 0)
                return true;
    }
    for (size_t j = 0; j < b->naliases; j++)
        if (strcasecmp(b->aliases[j], a->id) == 0)
            return true;
    return false;
}

static bool has_data_for(const osv_record *r, const char *pkg)
{
    for (size_t i = 0; i < r->naffected; i++)
        if (strcmp(r->affected[i].package, pkg) == 0 &&
            (r->affected[i].nranges || r->affected[i].nversions))
            return true;
    return false;
}

/* A built-in record is superseded by a loaded one for the same package that
 * shares an id or alias and carries ranges or versions of its own. */
static void resolve_superseded(osv_db *db)
{
    for (size_t i = 0; i < db->n; i++) {
        osv_record *b = &db->records[i];
        if (!b->builtin || b->superseded)
            continue;
        for (size_t j = 0; j < db->n && !b->superseded; j++) {
            const osv_record *l = &db->records[j];
            if (l->builtin || !osv_same_advisory(b, l))
                continue;
            for (size_t k = 0; k < b->naffected; k++)
                if (has_data_for(l, b->affected[k].package))
                    b->superseded = true;
        }
    }
}

ms_status osv_db_add_json(osv_db *db, const json_t *doc, const char *origin,
                          const osv_filter *filter, bool builtin)
{
    const char *why = NULL;
    const char *id = json_string_value(json_object_get(doc, "id"));
    const json_t *affected = json_object_get(doc, "affected");
    if (!json_is_object(doc) || !id || !*id) {
        note_error(db, origin, "not an OSV record (no id)");
        return MS_MALFORMED;
    }
    const json_t *withdrawn = json_object_get(doc, "withdrawn");
    if (withdrawn && !json_is_null(withdrawn) && !json_is_false(withdrawn)) {
        db->stats.withdrawn++;
        return MS_OK;
    }
    size_t na = json_array_size(affected);
    if (na > OSV_MAX_AFFECTED) {
        note_error(db, id, "too many affected packages");
        return MS_MALFORMED;
    }
    osv_record r;
    memset(&r, 0, sizeof(r));
    r.builtin = builtin;
    r.score = -1;
    ms_status s = MS_OK;
    if (na) {
        r.affected = calloc(na, sizeof(osv_affected));
        if (!r.affected)
            return MS_NOMEM;
    }
    for (size_t i = 0; i < na && s == MS_OK; i++) {
        bool keep = false;
        s = parse_affected(json_array_get(affected, i), &r.affected[r.naffected], filter,
                           &db->stats.approximate, &keep, &why);
        if (keep || r.affected[r.naffected].package)
            r.naffected++;
    }
    if (s == MS_OK && r.naffected == 0) {
        db->stats.other++;
        free_record(&r);
        return MS_OK;
    }
    if (s == MS_OK) {
        r.id = strdup(id);
        r.summary = record_summary(doc);
        if (!r.id || !r.summary)
            s = MS_NOMEM;
    }
    const json_t *aliases = json_object_get(doc, "aliases");
    size_t nal = json_array_size(aliases);
    if (s == MS_OK && nal > OSV_MAX_ALIASES) {
        why = "too many aliases";
        s = MS_MALFORMED;
    }
    if (s == MS_OK && nal) {
        r.aliases = calloc(nal, sizeof(char *));
        if (!r.aliases)
            s = MS_NOMEM;
        for (size_t i = 0; i < nal && s == MS_OK; i++) {
            const char *al = json_string_value(json_array_get(aliases, i));
            if (!al)
                continue;
            r.aliases[r.naliases] = strdup(al);
            if (!r.aliases[r.naliases])
                s = MS_NOMEM;
            else
                r.naliases++;
        }
    }
    if (s == MS_OK)
        record_severity(&r, doc);
    if (s == MS_OK && db->n == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 64;
        osv_record *nr = realloc(db->records, cap * sizeof(*nr));
        if (!nr)
            s = MS_NOMEM;
        else {
            db->records = nr;
            db->cap = cap;
        }
    }
    if (s != MS_OK) {
        if (s == MS_MALFORMED)
            note_error(db, id, why ? why : "malformed");
        free_record(&r);
        return s;
    }
    db->records[db->n++] = r;
    db->stats.records++;
    return MS_OK;
}

ms_status osv_db_add_json_text(osv_db *db, const char *text, size_t len, const char *origin,
                               const osv_filter *filter)
{
    json_error_t err;
    db->stats.files++;
    json_t *doc = json_loadb(text, len, 0, &err);
    if (!doc) {
        char why[200];
        snprintf(why, sizeof(why), "not valid JSON (line %d: %s)", err.line, err.text);
        note_error(db, origin, why);
        return MS_MALFORMED;
    }
    ms_status s = osv_db_add_json(db, doc, origin, filter, false);
    json_decref(doc);
    return s;
}

/* ---- loading ---- */

typedef struct loader {
    osv_db *db;
    const osv_filter *filter;
    unsigned long files;
    unsigned long long bytes;
    bool nomem;
} loader;

static bool name_is_json(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcasecmp(name + n - 5, ".json") == 0;
}

/* Counts a document against the caps; false (and limit_hit) when over. */
static bool within_caps(loader *ld, uint64_t size)
{
    if (ld->files >= OSV_MAX_FILES || ld->bytes + size > OSV_MAX_TOTAL_BYTES) {
        ld->db->stats.limit_hit = true;
        return false;
    }
    ld->files++;
    ld->bytes += size;
    return true;
}

static void load_text(loader *ld, const char *text, size_t len, const char *origin)
{
    if (osv_db_add_json_text(ld->db, text, len, origin, ld->filter) == MS_NOMEM)
        ld->nomem = true;
}

/* Reads a whole regular file of at most OSV_MAX_RECORD_BYTES. */
static char *read_small_file(int fd, size_t *len, const char **why)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        return NULL;
    }
    if ((uint64_t)st.st_size > OSV_MAX_RECORD_BYTES) {
        *why = "larger than the per-record limit";
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        *why = "out of memory";
        return NULL;
    }
    for (;;) {
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            free(buf);
            *why = strerror(errno);
            return NULL;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n == cap) { /* grew while reading */
            free(buf);
            *why = "changed while being read";
            return NULL;
        }
    }
    *len = n;
    return buf;
}

static void load_file_at(loader *ld, int dirfd, const char *name, const char *origin)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    const char *why = NULL;
    if (fd < 0) {
        note_error(ld->db, origin, strerror(errno));
        return;
    }
    size_t len = 0;
    char *buf = read_small_file(fd, &len, &why);
    close(fd);
    if (!buf) {
        note_error(ld->db, origin, why);
        return;
    }
    if (within_caps(ld, len))
        load_text(ld, buf, len, origin);
    free(buf);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_dir(loader *ld, int dirfd, const char *rel, unsigned depth)
{
    int dupfd = dup(dirfd);
    DIR *dir = dupfd >= 0 ? fdopendir(dupfd) : NULL;
    if (!dir) {
        if (dupfd >= 0)
            close(dupfd);
        note_error(ld->db, rel, "folder cannot be read");
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and hidden files (.git) */
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn) {
                ld->nomem = true;
                break;
            }
            names = nn;
        }
        if ((names[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(dir);
    if (n > 1)
        qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n && !ld->nomem && !ld->db->stats.limit_hit; i++) {
        char *child = *rel ? ms_strdup_printf("%s/%s", rel, names[i]) : strdup(names[i]);
        struct stat st;
        if (child && fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(st.st_mode)) {
                if (depth + 1 > OSV_MAX_DIR_DEPTH) {
                    ld->db->stats.limit_hit = true;
                } else {
                    int fd = openat(dirfd, names[i],
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    if (fd >= 0) {
                        load_dir(ld, fd, child, depth + 1);
                        close(fd);
                    } else {
                        note_error(ld->db, child, "folder cannot be opened");
                    }
                }
            } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && name_is_json(names[i])) {
                /* a link to a file is read (the user chose this folder);
                 * links to folders are never followed (no loops) */
                load_file_at(ld, dirfd, names[i], child);
            }
        }
        free(child);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* A .zip or tar (optionally compressed) of OSV files, read through
 * libarchive. Returns MS_IO when it is not an archive at all. */
static ms_status load_archive(loader *ld, const char *path)
{
    struct archive *a = archive_read_new();
    if (!a)
        return MS_NOMEM;
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    /* only in-process decompressors: never a filter that runs a program */
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        archive_read_free(a);
        return MS_IO;
    }
    struct archive_entry *e;
    int r;
    unsigned long entries = 0;
    char *buf = NULL;
    while (!ld->nomem && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        entries++;
        const char *name = archive_entry_pathname(e);
        if (!name || archive_entry_filetype(e) != AE_IFREG || !name_is_json(name))
            continue;
        if (archive_entry_is_encrypted(e)) {
            note_error(ld->db, name, "encrypted");
            continue;
        }
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > (la_int64_t)OSV_MAX_RECORD_BYTES) {
            note_error(ld->db, name, "larger than the per-record limit");
            continue;
        }
        if (!buf && !(buf = malloc(OSV_MAX_RECORD_BYTES + 1))) {
            ld->nomem = true;
            break;
        }
        size_t len = 0;
        bool too_big = false, failed = false;
        for (;;) {
            la_ssize_t k = archive_read_data(a, buf + len, OSV_MAX_RECORD_BYTES + 1 - len);
            if (k < 0) {
                failed = true;
                break;
            }
            if (k == 0)
                break;
            len += (size_t)k;
            if (len > OSV_MAX_RECORD_BYTES) {
                too_big = true;
                break;
            }
        }
        if (failed || too_big) {
            note_error(ld->db, name,
                       too_big ? "larger than the per-record limit" : archive_error_string(a));
            if (failed)
                break; /* the stream is broken: stop here */
            continue;
        }
        if (!within_caps(ld, len))
            break;
        load_text(ld, buf, len, name);
    }
    if (!ld->nomem && !ld->db->stats.limit_hit && r != ARCHIVE_EOF) {
        const char *msg = archive_error_string(a);
        if (entries == 0 && ld->files == 0) {
            free(buf);
            archive_read_free(a);
            return MS_IO;
        }
        note_error(ld->db, path, msg ? msg : "archive is broken");
    }
    free(buf);
    archive_read_free(a);
    return ld->nomem ? MS_NOMEM : MS_OK;
}

ms_status osv_db_load_path(osv_db *db, const char *path, const osv_filter *filter)
{
    loader ld = {db, filter, 0, 0, false};
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return MS_IO;
    ms_status s = MS_OK;
    if (S_ISDIR(st.st_mode)) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return MS_IO;
        load_dir(&ld, fd, "", 0);
        close(fd);
    } else if (S_ISREG(st.st_mode)) {
        if (name_is_json(path)) {
            int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            if (fd < 0)
                return MS_IO;
            const char *why = NULL;
            size_t len = 0;
            char *buf = read_small_file(fd, &len, &why);
            close(fd);
            if (!buf)
                return MS_IO;
            const char *base = strrchr(path, '/');
            if (within_caps(&ld, len))
                load_text(&ld, buf, len, base ? base + 1 : path);
            free(buf);
        } else {
            s = load_archive(&ld, path);
        }
    } else {
        return MS_IO;
    }
    if (s == MS_OK && ld.nomem)
        s = MS_NOMEM;
    if (s == MS_OK) {
        db->loaded = true;
        resolve_superseded(db);
    }
    return s;
}

/* ---- matching ---- */

static void format_version(const osv_event *ev, char *buf, size_t cap)
{
    if (ev->approximate)
        snprintf(buf, cap, "%s", ev->text);
    else
        pep440_format(&ev->version, buf, cap);
}

static bool range_affects(const osv_range *r, const pep440_version *v, bool exclusive,
                          osv_hit *hit)
{
    bool has_limit = false, below_limit = false;
    for (size_t i = 0; i < r->nevents; i++) {
        const osv_event *ev = &r->events[i];
        if (ev->kind != OSV_EVENT_LIMIT)
            continue;
        has_limit = true;
        if (pep440_compare_public(v, &ev->version) < 0)
            below_limit = true;
    }
    if (has_limit && !below_limit)
        return false;
    bool affected = false;
    const osv_event *opened = NULL;
    size_t last_applied = 0;
    for (size_t i = 0; i < r->nevents; i++) {
        const osv_event *ev = &r->events[i];
        int c = ev->zero ? 1 : pep440_compare_public(v, &ev->version);
        switch (ev->kind) {
        case OSV_EVENT_INTRODUCED:
            if (c >= 0) {
                affected = true;
                opened = ev;
                last_applied = i + 1;
            }
            break;
        case OSV_EVENT_FIXED:
            if (c >= 0) {
                affected = false;
                last_applied = i + 1;
            }
            break;
        case OSV_EVENT_LAST_AFFECTED:
            /* ">v" stands for the versions just above v: past v itself */
            if (c > 0 || (exclusive && c == 0)) {
                affected = false;
                last_applied = i + 1;
            }
            break;
        case OSV_EVENT_LIMIT:
            break;
        }
    }
    if (!affected)
        return false;
    /* the closing event is the first fixed/last_affected after those applied */
    const osv_event *close = NULL;
    for (size_t i = last_applied; i < r->nevents && !close; i++)
        if (r->events[i].kind == OSV_EVENT_FIXED || r->events[i].kind == OSV_EVENT_LAST_AFFECTED)
            close = &r->events[i];
    char lo[PEP440_MAX_TEXT + 1] = "", hi[PEP440_MAX_TEXT + 1] = "";
    if (opened && !opened->zero)
        format_version(opened, lo, sizeof(lo));
    if (close)
        format_version(close, hi, sizeof(hi));
    hit->fixed[0] = '\0';
    if (close && close->kind == OSV_EVENT_FIXED)
        snprintf(hit->fixed, sizeof(hit->fixed), "%s", hi);
    const char *op = close && close->kind == OSV_EVENT_LAST_AFFECTED ? "<=" : "<";
    if (*lo && close)
        snprintf(hit->affected, sizeof(hit->affected), ">=%s, %s%s", lo, op, hi);
    else if (*lo)
        snprintf(hit->affected, sizeof(hit->affected), ">=%s (no fixed version named)", lo);
    else if (close)
        snprintf(hit->affected, sizeof(hit->affected), "%s%s", op, hi);
    else
        snprintf(hit->affected, sizeof(hit->affected), "all versions (no fixed version named)");
    hit->approximate = (opened && opened->approximate) || (close && close->approximate);
    return true;
}

bool osv_record_affects(const osv_record *rec, const char *package, const pep440_version *v_in,
                        bool exclusive, osv_hit *hit)
{
    if (rec->superseded)
        return false;
    pep440_version v = *v_in;
    pep440_strip_local(&v);
    osv_hit scratch;
    if (!hit)
        hit = &scratch;
    for (size_t i = 0; i < rec->naffected; i++) {
        const osv_affected *a = &rec->affected[i];
        if (strcmp(a->package, package) != 0)
            continue;
        for (size_t j = 0; j < a->nranges; j++)
            if (range_affects(&a->ranges[j], &v, exclusive, hit))
                return true;
        if (exclusive)
            continue; /* a listed version is one point, never "just above v" */
        char key[PEP440_MAX_TEXT * 2];
        if (a->nversions)
            version_key_buf(&v, key, sizeof(key));
        for (size_t j = 0; j < a->nversions; j++) {
            if (strcmp(a->versions[j], key) == 0) {
                snprintf(hit->affected, sizeof(hit->affected), "listed version %s",
                         a->versions[j]);
                hit->fixed[0] = '\0';
                hit->approximate = false;
                return true;
            }
        }
    }
    return false;
}

bool osv_db_first_safe_version(const osv_db *db, const char *package, const pep440_version *v,
                               char *out, size_t cap)
{
    const osv_event *best = NULL;
    /* candidates: every fixed version above v; try them from the lowest */
    const osv_event *prev = NULL;
    for (;;) {
        best = NULL;
        for (size_t i = 0; i < db->n; i++) {
            const osv_record *r = &db->records[i];
            if (r->superseded)
                continue;
            for (size_t j = 0; j < r->naffected; j++) {
                const osv_affected *a = &r->affected[j];
                if (strcmp(a->package, package) != 0)
                    continue;
                for (size_t k = 0; k < a->nranges; k++) {
                    for (size_t e = 0; e < a->ranges[k].nevents; e++) {
                        const osv_event *ev = &a->ranges[k].events[e];
                        if (ev->kind != OSV_EVENT_FIXED ||
                            pep440_compare_public(&ev->version, v) <= 0)
                            continue;
                        if (prev && pep440_compare_public(&ev->version, &prev->version) <= 0)
                            continue;
                        if (!best || pep440_compare_public(&ev->version, &best->version) < 0)
                            best = ev;
                    }
                }
            }
        }
        if (!best)
            return false;
        bool clean = true;
        for (size_t i = 0; i < db->n && clean; i++)
            if (osv_record_affects(&db->records[i], package, &best->version, false, NULL))
                clean = false;
        if (clean) {
            format_version(best, out, cap);
            return true;
        }
        prev = best;
    }
}

/* ---- built-in set ---- */

/* Appends the space- (or comma-) separated words of `text` to `arr`. */
static void append_words(json_t *arr, const char *text, const char *seps)
{
    while (text && *text) {
        size_t n = strcspn(text, seps);
        if (n)
            json_array_append_new(arr, json_stringn(text, n));
        text += n;
        text += strspn(text, seps);
    }
}

/* Turns one table row into an OSV document and adds it like a loaded one. */
static ms_status add_builtin_row(osv_db *db, const osv_builtin_advisory *b)
{
    json_t *doc = json_object(), *aliases = json_array(), *events = json_array(),
           *versions = json_array(), *ranges = json_array();
    ms_status s = MS_NOMEM;
    if (!doc || !aliases || !events || !versions || !ranges)
        goto out;
    append_words(aliases, b->aliases, " ");
    for (const char *p = b->events; p && *p;) {
        size_t n = strcspn(p, " ");
        const char *eq = memchr(p, '=', n);
        if (eq) {
            char key[24];
            size_t kn = (size_t)(eq - p);
            if (kn >= sizeof(key))
                kn = sizeof(key) - 1;
            memcpy(key, p, kn);
            key[kn] = '\0';
            char *val = strndup(eq + 1, n - (size_t)(eq - p) - 1);
            if (!val)
                goto out;
            if (strcmp(key, "versions") == 0)
                append_words(versions, val, ",");
            else
                json_array_append_new(events, json_pack("{s:s}", key, val));
            free(val);
        }
        p += n;
        p += strspn(p, " ");
    }
    if (json_array_size(events))
        json_array_append_new(ranges,
                              json_pack("{s:s, s:O}", "type", "ECOSYSTEM", "events", events));
    json_object_set_new(doc, "id", json_string(b->id));
    json_object_set(doc, "aliases", aliases);
    json_object_set_new(doc, "summary", json_string(b->summary));
    json_object_set_new(doc, "affected",
                        json_pack("[{s:{s:s, s:s}, s:O, s:O}]", "package", "ecosystem", "PyPI",
                                  "name", b->package, "ranges", ranges, "versions", versions));
    json_object_set_new(doc, "severity",
                        json_pack("[{s:s, s:s}]", "type", "CVSS_V3", "score", b->vector));
    s = osv_db_add_json(db, doc, b->id, NULL, true);
out:
    json_decref(doc);
    json_decref(aliases);
    json_decref(events);
    json_decref(versions);
    json_decref(ranges);
    return s;
}

ms_status osv_db_add_builtin(osv_db *db)
{
    size_t n;
    const osv_builtin_advisory *t = osv_builtin_table(&n);
    for (size_t i = 0; i < n; i++) {
        ms_status s = add_builtin_row(db, &t[i]);
        if (s != MS_OK)
            return s == MS_MALFORMED ? MS_INTERNAL : s;
    }
    resolve_superseded(db);
    return MS_OK;
}
