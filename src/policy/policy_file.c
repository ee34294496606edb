/*
 * policy_file.c - the user's policy file (docs/policy.md), read with libyaml.
 *
 *   version: 1                      optional, must be 1
 *   fail-on: high                   default for --fail-on
 *   min-severity: low               default for --min-severity
 *   exclude: ["docs", "*.md"]       paths not scanned (besides --exclude)
 *   pickle:
 *     allow: ["mypkg.layers.Block", "mypkg.blocks.*"]   unknown -> safe
 *     deny:  ["numpy.load"]                             -> dangerous
 *   severity:
 *     SECRET-PERSONAL-DATA: informational
 *   suppress:
 *     - rule: PICKLE-INSECURE-FORMAT
 *       path: "legacy/old-*.bin"    optional; every location when absent
 *       reason: "converted in #123"  mandatory
 *       expires: 2027-06-30          optional, YYYY-MM-DD (valid through that day)
 *   limits:
 *     max-file-bytes: 8GiB
 *     scan-max-seconds: 120
 *
 * The file is a user's, not a model's: the command line reads it only from
 * --policy (or from the model root with --model-policy, when the user asks).
 * Everything is checked on load: an unknown key, a wrong type, an unknown
 * rule id or severity, a missing reason or a malformed date is an error that
 * names its line and column, and the scan does not start. An allow entry can
 * only turn an *unknown* global into a safe one: a global on the built-in
 * dangerous list cannot be allowed (suppress its finding, with a reason, if
 * that is really meant), and at scan time a deny entry wins over everything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <yaml.h>

#include "policy_file.h"
#include "pickle_policy.h"
#include "../core/limits.h"
#include "../core/scan_ctx.h"

typedef struct severity_override {
    const char *rule_id; /* static, from the rule table */
    ms_severity severity;
} severity_override;

typedef struct suppression {
    const char *rule_id; /* static */
    char *path;          /* glob or NULL */
    char *reason;
    char *expires; /* "YYYY-MM-DD" or NULL */
    unsigned line;
} suppression;

typedef struct limit_setting {
    size_t index; /* into limit_keys */
    uint64_t value;
} limit_setting;

struct ms_policy {
    bool has_fail_on, has_min;
    ms_severity fail_on, min_severity;
    char **excludes;
    size_t nexcludes;
    char **allow, **deny;
    size_t nallow, ndeny;
    severity_override *overrides;
    size_t noverrides;
    suppression *suppressions;
    size_t nsuppressions;
    limit_setting *limits;
    size_t nlimits;
};

typedef struct limit_key {
    const char *key;
    size_t offset;
    bool wide; /* uint64_t, else uint32_t */
} limit_key;

#define LIMIT32(k, f) {k, offsetof(ms_limits, f), false}
#define LIMIT64(k, f) {k, offsetof(ms_limits, f), true}
static const limit_key limit_keys[] = {
    LIMIT64("max-file-bytes", max_file_bytes),
    LIMIT64("pickle-max-opcodes", pickle_max_opcodes),
    LIMIT32("pickle-max-stack", pickle_max_stack),
    LIMIT32("pickle-max-marks", pickle_max_marks),
    LIMIT32("pickle-max-memo", pickle_max_memo),
    LIMIT32("pickle-max-streams", pickle_max_streams),
    LIMIT32("pickle-max-globals", pickle_max_globals),
    LIMIT32("nested-max-depth", nested_max_depth),
    LIMIT64("nested-max-bytes", nested_max_bytes),
    LIMIT32("walk-max-files", walk_max_files),
    LIMIT32("walk-max-depth", walk_max_depth),
    LIMIT32("archive-max-depth", archive_max_depth),
    LIMIT64("archive-max-members", archive_max_members),
    LIMIT64("archive-max-expanded", archive_max_expanded),
    LIMIT64("archive-max-member", archive_max_member),
    LIMIT32("archive-max-ratio", archive_max_ratio),
    LIMIT32("scan-max-seconds", scan_max_seconds),
};

/* --- loading ------------------------------------------------------------- */

typedef struct loader {
    yaml_document_t *doc;
    ms_policy *p;
    char *err;
    size_t errsz;
    bool failed;
} loader;

static bool fail(loader *ld, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(loader *ld, const yaml_node_t *node, const char *fmt, ...)
{
    if (ld->failed)
        return false;
    ld->failed = true;
    int n = 0;
    if (node)
        n = snprintf(ld->err, ld->errsz, "%zu:%zu: ", node->start_mark.line + 1,
                     node->start_mark.column + 1);
    if (n < 0 || (size_t)n >= ld->errsz)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errsz - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool want_scalar(loader *ld, const yaml_node_t *n, const char *what, const char **out)
{
    *out = scalar(n);
    if (!*out || !**out)
        return fail(ld, n, "%s must be a non-empty string", what);
    if (strlen(*out) > 1000)
        return fail(ld, n, "%s is longer than 1000 characters", what);
    return true;
}

static bool want_severity(loader *ld, const yaml_node_t *n, const char *what, ms_severity *out)
{
    const char *s;
    if (!want_scalar(ld, n, what, &s))
        return false;
    if (!ms_severity_parse(s, out))
        return fail(ld, n,
                    "%s: unknown severity '%s' (expected critical, high, medium, low or "
                    "informational)",
                    what, s);
    return true;
}

static bool push_string(loader *ld, char ***arr, size_t *n, const char *s)
{
    if (*n >= MS_POLICY_MAX_ENTRIES)
        return fail(ld, NULL, "more than %u entries in one list", MS_POLICY_MAX_ENTRIES);
    char **a = realloc(*arr, (*n + 1) * sizeof(*a));
    if (!a)
        return fail(ld, NULL, "out of memory");
    *arr = a;
    a[*n] = strdup(s);
    if (!a[*n])
        return fail(ld, NULL, "out of memory");
    (*n)++;
    return true;
}

/* A list of strings, or one string. */
static bool string_list(loader *ld, const yaml_node_t *n, const char *what, char ***arr,
                        size_t *count, bool (*check)(loader *, const yaml_node_t *, const char *))
{
    if (n->type == YAML_SCALAR_NODE) {
        const char *s;
        return want_scalar(ld, n, what, &s) && (!check || check(ld, n, s)) &&
               push_string(ld, arr, count, s);
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(ld, n, "%s must be a list of strings", what);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
        const char *s;
        if (!want_scalar(ld, item, what, &s) || (check && !check(ld, item, s)) ||
            !push_string(ld, arr, count, s))
            return false;
    }
    return true;
}

/* "module.name" or "module.*": a dotted path with a module part */
static bool split_global(const char *s, char *mod, size_t modsz, const char **name)
{
    const char *dot = strrchr(s, '.');
    if (!dot || dot == s || !dot[1])
        return false;
    /* "pkg.mod.Class.method" is ambiguous; take the last dot, like the
     * scanner's own "module.name" spelling of globals */
    size_t ml = (size_t)(dot - s);
    if (ml >= modsz)
        return false;
    memcpy(mod, s, ml);
    mod[ml] = '\0';
    *name = dot + 1;
    for (const char *c = s; *c; c++)
        if (!(*c == '.' || *c == '_' || *c == '*' || (*c >= '0' && *c <= '9') ||
              (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return false;
    return !strchr(mod, '*') && (strcmp(*name, "*") == 0 || !strchr(*name, '*'));
}

static bool check_global(loader *ld, const yaml_node_t *n, const char *s)
{
    char mod[512];
    const char *name;
    if (!split_global(s, mod, sizeof(mod), &name))
        return fail(ld, n,
                    "'%s' is not a global: write module.name (mypkg.layers.Block) or "
                    "module.* (mypkg.layers.*)",
                    s);
    return true;
}

static bool check_allow(loader *ld, const yaml_node_t *n, const char *s)
{
    if (!check_global(ld, n, s))
        return false;
    char mod[512];
    const char *name;
    split_global(s, mod, sizeof(mod), &name);
    pickle_class c = pickle_policy_classify(mod, strcmp(name, "*") == 0 ? "__probe__" : name);
    if (c.verdict == PICKLE_DANGEROUS)
        return fail(ld, n,
                    "'%s' cannot be allowed: the scanner knows it as dangerous (%s); suppress "
                    "the finding with a reason instead",
                    s, c.reason ? c.reason : "deny list");
    return true;
}

static bool valid_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* 123, 64KiB, 8MiB, 2GiB, 1TiB, 10kB, 5MB, 3GB */
static bool parse_size(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    static const struct {
        const char *suffix;
        uint64_t mul;
    } units[] = {{"", 1},
                 {"KiB", 1ULL << 10},
                 {"MiB", 1ULL << 20},
                 {"GiB", 1ULL << 30},
                 {"TiB", 1ULL << 40},
                 {"kB", 1000ULL},
                 {"KB", 1000ULL},
                 {"MB", 1000ULL * 1000},
                 {"GB", 1000ULL * 1000 * 1000},
                 {"TB", 1000ULL * 1000 * 1000 * 1000}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            uint64_t r;
            if (__builtin_mul_overflow((uint64_t)v, units[i].mul, &r))
                return false;
            *out = r;
            return true;
        }
    }
    return false;
}

static bool mapping_each(loader *ld, const yaml_node_t *n, const char *what,
                         bool (*fn)(loader *, const yaml_node_t *, const char *,
                                    const yaml_node_t *, void *),
                         void *ud)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(ld, n, "%s must be a mapping (key: value)", what);
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++) {
        const yaml_node_t *k = yaml_document_get_node(ld->doc, pr->key);
        const yaml_node_t *v = yaml_document_get_node(ld->doc, pr->value);
        const char *key = scalar(k);
        if (!key)
            return fail(ld, k, "%s: keys must be strings", what);
        /* a repeated key is a mistake that would silently drop a value */
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pr; q++) {
            const char *prev = scalar(yaml_document_get_node(ld->doc, q->key));
            if (prev && strcmp(prev, key) == 0)
                return fail(ld, k, "%s: key '%s' appears twice", what, key);
        }
        if (!v || !fn(ld, k, key, v, ud))
            return false;
    }
    return true;
}

static bool pickle_key(loader *ld, const yaml_node_t *k, const char *key, const yaml_node_t *v,
                       void *ud)
{
    ms_policy *p = ld->p;
    if (strcmp(key, "allow") == 0)
        return string_list(ld, v, "pickle.allow", &p->allow, &p->nallow, check_allow);
    if (strcmp(key, "deny") == 0)
        return string_list(ld, v, "pickle.deny", &p->deny, &p->ndeny, check_global);
    return fail(ld, k, "unknown key 'pickle.%s' (expected allow or deny)", key);
}

static bool severity_key(loader *ld, const yaml_node_t *k, const char *key, const yaml_node_t *v,
                         void *ud)
{
    ms_policy *p = ld->p;
    const ms_rule *rule = ms_rule_find(key);
    if (!rule)
        return fail(ld, k, "unknown rule id '%s' (see model-scanner --list-rules)", key);
    ms_severity sev;
    if (!want_severity(ld, v, key, &sev))
        return false;
    severity_override *o = realloc(p->overrides, (p->noverrides + 1) * sizeof(*o));
    if (!o)
        return fail(ld, NULL, "out of memory");
    p->overrides = o;
    o[p->noverrides].rule_id = rule->id;
    o[p->noverrides].severity = sev;
    p->noverrides++;
    return true;
}

static bool limits_key(loader *ld, const yaml_node_t *k, const char *key, const yaml_node_t *v,
                       void *ud)
{
    ms_policy *p = ld->p;
    for (size_t i = 0; i < sizeof(limit_keys) / sizeof(limit_keys[0]); i++) {
        if (strcmp(key, limit_keys[i].key) != 0)
            continue;
        const char *s = scalar(v);
        uint64_t val;
        if (!s || !parse_size(s, &val) || val == 0)
            return fail(ld, v,
                        "limits.%s must be a positive whole number (sizes may end in KiB, MiB, "
                        "GiB, TiB, kB, MB, GB or TB)",
                        key);
        if (!limit_keys[i].wide && val > UINT32_MAX)
            return fail(ld, v, "limits.%s is above %u", key, UINT32_MAX);
        limit_setting *l = realloc(p->limits, (p->nlimits + 1) * sizeof(*l));
        if (!l)
            return fail(ld, NULL, "out of memory");
        p->limits = l;
        l[p->nlimits].index = i;
        l[p->nlimits].value = val;
        p->nlimits++;
        return true;
    }
    return fail(ld, k, "unknown key 'limits.%s' (see docs/policy.md for the limit names)", key);
}

typedef struct supp_build {
    suppression s;
    bool have_rule, have_reason;
} supp_build;

static bool suppress_key(loader *ld, const yaml_node_t *k, const char *key, const yaml_node_t *v,
                         void *ud)
{
    supp_build *b = ud;
    const char *s;
    if (strcmp(key, "rule") == 0) {
        if (!want_scalar(ld, v, "suppress.rule", &s))
            return false;
        const ms_rule *rule = ms_rule_find(s);
        if (!rule)
            return fail(ld, v, "unknown rule id '%s' (see model-scanner --list-rules)", s);
        b->s.rule_id = rule->id;
        b->have_rule = true;
        return true;
    }
    if (strcmp(key, "path") == 0) {
        if (!want_scalar(ld, v, "suppress.path", &s))
            return false;
        free(b->s.path);
        b->s.path = strdup(s);
        return b->s.path ? true : fail(ld, NULL, "out of memory");
    }
    if (strcmp(key, "reason") == 0) {
        if (!want_scalar(ld, v, "suppress.reason", &s))
            return false;
        free(b->s.reason);
        b->s.reason = strdup(s);
        b->have_reason = b->s.reason != NULL;
        return b->s.reason ? true : fail(ld, NULL, "out of memory");
    }
    if (strcmp(key, "expires") == 0) {
        if (!want_scalar(ld, v, "suppress.expires", &s))
            return false;
        if (!valid_date(s))
            return fail(ld, v, "suppress.expires '%s' is not a date (YYYY-MM-DD)", s);
        free(b->s.expires);
        b->s.expires = strdup(s);
        return b->s.expires ? true : fail(ld, NULL, "out of memory");
    }
    return fail(ld, k, "unknown key 'suppress.%s' (expected rule, path, reason or expires)", key);
}

static bool suppress_section(loader *ld, const yaml_node_t *n)
{
    ms_policy *p = ld->p;
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(ld, n, "suppress must be a list of {rule, path, reason, expires}");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
        supp_build b;
        memset(&b, 0, sizeof(b));
        b.s.line = (unsigned)item->start_mark.line + 1;
        bool ok = mapping_each(ld, item, "a suppress entry", suppress_key, &b);
        if (ok && !b.have_rule)
            ok = fail(ld, item, "a suppress entry needs 'rule' (a rule id)");
        if (ok && !b.have_reason)
            ok = fail(ld, item, "a suppress entry needs 'reason': say why the finding is accepted");
        if (ok && p->nsuppressions >= MS_POLICY_MAX_ENTRIES)
            ok = fail(ld, item, "more than %u suppressions", MS_POLICY_MAX_ENTRIES);
        suppression *a = ok ? realloc(p->suppressions, (p->nsuppressions + 1) * sizeof(*a)) : NULL;
        if (ok && !a)
            ok = fail(ld, NULL, "out of memory");
        if (!ok) {
            free(b.s.path);
            free(b.s.reason);
            free(b.s.expires);
            return false;
        }
        p->suppressions = a;
        a[p->nsuppressions++] = b.s;
    }
    return true;
}

static bool top_key(loader *ld, const yaml_node_t *k, const char *key, const yaml_node_t *v,
                    void *ud)
{
    ms_policy *p = ld->p;
    if (strcmp(key, "version") == 0) {
        const char *s = scalar(v);
        if (!s || strcmp(s, "1") != 0)
            return fail(ld, v, "version must be 1");
        return true;
    }
    if (strcmp(key, "fail-on") == 0) {
        p->has_fail_on = true;
        return want_severity(ld, v, "fail-on", &p->fail_on);
    }
    if (strcmp(key, "min-severity") == 0) {
        p->has_min = true;
        return want_severity(ld, v, "min-severity", &p->min_severity);
    }
    if (strcmp(key, "exclude") == 0)
        return string_list(ld, v, "exclude", &p->excludes, &p->nexcludes, NULL);
    if (strcmp(key, "pickle") == 0)
        return mapping_each(ld, v, "pickle", pickle_key, NULL);
    if (strcmp(key, "severity") == 0)
        return mapping_each(ld, v, "severity", severity_key, NULL);
    if (strcmp(key, "suppress") == 0)
        return suppress_section(ld, v);
    if (strcmp(key, "limits") == 0)
        return mapping_each(ld, v, "limits", limits_key, NULL);
    return fail(ld, k,
                "unknown key '%s' (expected version, fail-on, min-severity, exclude, pickle, "
                "severity, suppress or limits)",
                key);
}

ms_policy *ms_policy_load(const char *path, char *err, size_t errsz)
{
    err[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsz, "cannot be read: %s", strerror(errno));
        return NULL;
    }
    char *text = malloc(MS_POLICY_MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, MS_POLICY_MAX_BYTES + 1, f) : 0;
    bool read_err = ferror(f);
    fclose(f);
    if (!text || read_err || len > MS_POLICY_MAX_BYTES) {
        snprintf(err, errsz, "%s",
                 !text ? "out of memory" : read_err ? "cannot be read" : "is larger than 1 MiB");
        free(text);
        return NULL;
    }
    ms_policy *p = ms_policy_parse(text, len, err, errsz);
    free(text);
    return p;
}

/* The tags libyaml gives untagged nodes, and the core schema's scalars;
 * "!!python/object:..." and every other tag is refused. */
static bool plain_tag(const char *tag)
{
    static const char *const plain[] = {"str", "seq", "map", "int", "float", "bool", "null",
                                        "timestamp"};
    if (!tag)
        return true;
    if (strncmp(tag, "tag:yaml.org,2002:", 18) != 0)
        return false;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strcmp(tag + 18, plain[i]) == 0)
            return true;
    return false;
}

ms_policy *ms_policy_parse(const char *text, size_t len, char *err, size_t errsz)
{
    err[0] = '\0';
    if (len > MS_POLICY_MAX_BYTES) {
        snprintf(err, errsz, "is larger than 1 MiB");
        return NULL;
    }
    ms_policy *p = calloc(1, sizeof(*p));
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser = false, have_doc = false;
    loader ld = {&doc, p, err, errsz, false};
    if (!p) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errsz, "%zu:%zu: %s", parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "not valid YAML");
        ld.failed = true;
        goto out;
    }
    have_doc = true;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        ld.failed = true;
        snprintf(err, errsz, "is empty");
        goto out;
    }
    /* tags would ask for types a policy has no use for; aliases would let
     * one node stand in many places (the document API shares it): refuse
     * both, and mappings too large to check for repeated keys */
    size_t nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
    unsigned char *refs = calloc(nnodes ? nnodes : 1, 1);
    if (!refs) {
        fail(&ld, NULL, "out of memory");
        goto out;
    }
    for (yaml_node_t *n = doc.nodes.start; n < doc.nodes.top && !ld.failed; n++) {
        if (!plain_tag((const char *)n->tag))
            fail(&ld, n, "YAML tags are not allowed here");
        if (n->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = n->data.sequence.items.start;
                 it < n->data.sequence.items.top && !ld.failed; it++)
                if (*it >= 1 && (size_t)*it <= nnodes && refs[*it - 1]++)
                    fail(&ld, yaml_document_get_node(&doc, *it),
                         "YAML aliases are not allowed here");
        } else if (n->type == YAML_MAPPING_NODE) {
            if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > MS_POLICY_MAX_ENTRIES)
                fail(&ld, n, "more than %u keys in one mapping", MS_POLICY_MAX_ENTRIES);
            for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
                 pr < n->data.mapping.pairs.top && !ld.failed; pr++) {
                int ids[2] = {pr->key, pr->value};
                for (int k = 0; k < 2 && !ld.failed; k++)
                    if (ids[k] >= 1 && (size_t)ids[k] <= nnodes && refs[ids[k] - 1]++)
                        fail(&ld, yaml_document_get_node(&doc, ids[k]),
                             "YAML aliases are not allowed here");
            }
        }
    }
    free(refs);
    if (ld.failed)
        goto out;
    mapping_each(&ld, root, "the policy", top_key, NULL);
    if (!ld.failed) {
        /* a second document would be ignored silently: refuse it */
        yaml_document_t extra;
        if (yaml_parser_load(&parser, &extra)) {
            if (yaml_document_get_root_node(&extra))
                fail(&ld, yaml_document_get_root_node(&extra),
                     "only one YAML document is allowed");
            yaml_document_delete(&extra);
        }
    }
out:
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    if (!p || ld.failed || err[0]) {
        ms_policy_free(p);
        if (!err[0])
            snprintf(err, errsz, "is not a valid policy");
        return NULL;
    }
    return p;
}

static void free_strings(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void ms_policy_free(ms_policy *p)
{
    if (!p)
        return;
    free_strings(p->excludes, p->nexcludes);
    free_strings(p->allow, p->nallow);
    free_strings(p->deny, p->ndeny);
    free(p->overrides);
    for (size_t i = 0; i < p->nsuppressions; i++) {
        free(p->suppressions[i].path);
        free(p->suppressions[i].reason);
        free(p->suppressions[i].expires);
    }
    free(p->suppressions);
    free(p->limits);
    free(p);
}

/* --- use ----------------------------------------------------------------- */

bool ms_policy_fail_on(const ms_policy *p, ms_severity *out)
{
    if (p && p->has_fail_on)
        *out = p->fail_on;
    return p && p->has_fail_on;
}

bool ms_policy_min_severity(const ms_policy *p, ms_severity *out)
{
    if (p && p->has_min)
        *out = p->min_severity;
    return p && p->has_min;
}

void ms_policy_apply_limits(const ms_policy *p, ms_limits *limits)
{
    for (size_t i = 0; p && i < p->nlimits; i++) {
        const limit_key *k = &limit_keys[p->limits[i].index];
        char *field = (char *)limits + k->offset;
        if (k->wide) {
            uint64_t v = p->limits[i].value;
            memcpy(field, &v, sizeof(v));
        } else {
            uint32_t v = (uint32_t)p->limits[i].value;
            memcpy(field, &v, sizeof(v));
        }
    }
}

const char *const *ms_policy_excludes(const ms_policy *p, size_t *count)
{
    *count = p ? p->nexcludes : 0;
    return p ? (const char *const *)p->excludes : NULL;
}

static bool global_matches(const char *pattern, const char *module, const char *name)
{
    char mod[512];
    const char *pname;
    if (!split_global(pattern, mod, sizeof(mod), &pname))
        return false;
    if (strcmp(pname, "*") == 0) {
        /* module.* : any name in the module or its submodules */
        size_t ml = strlen(mod);
        return strncmp(module, mod, ml) == 0 && (module[ml] == '\0' || module[ml] == '.');
    }
    char full[1024];
    int n = snprintf(full, sizeof(full), "%s.%s", module, name);
    return n > 0 && (size_t)n < sizeof(full) && strcmp(full, pattern) == 0;
}

bool policy_adjust_global(const ms_policy *p, const char *module, const char *name,
                          pickle_class *cls)
{
    if (!p || !module || !name)
        return false;
    for (size_t i = 0; i < p->ndeny; i++)
        if (global_matches(p->deny[i], module, name)) {
            cls->verdict = PICKLE_DANGEROUS;
            cls->role = PICKLE_ROLE_NONE;
            cls->reason = "denied by the policy file";
            cls->methods_safe = false;
            return false;
        }
    if (cls->verdict != PICKLE_UNKNOWN)
        return false; /* allow never overrides the built-in dangerous list */
    for (size_t i = 0; i < p->nallow; i++)
        if (global_matches(p->allow[i], module, name)) {
            cls->verdict = PICKLE_SAFE;
            cls->reason = "allowed by the policy file";
            return true;
        }
    return false;
}

/* The file part of a location: before the first '!' and before a ":LINE". */
static void location_file(const char *loc, char *out, size_t outsz)
{
    size_t n = strcspn(loc, "!");
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, loc, n);
    out[n] = '\0';
    char *colon = strrchr(out, ':');
    if (colon && colon[1]) {
        bool digits = true;
        for (const char *c = colon + 1; *c; c++)
            digits = digits && *c >= '0' && *c <= '9';
        if (digits)
            *colon = '\0';
    }
}

static bool suppression_matches(const suppression *s, const ms_finding *f)
{
    if (strcmp(s->rule_id, f->rule_id) != 0)
        return false;
    if (!s->path)
        return true;
    char file[4096];
    location_file(f->location, file, sizeof(file));
    const char *g = s->path;
    return ms_path_excluded(file, &g, 1) || fnmatch(s->path, f->location, 0) == 0;
}

void ms_policy_apply(const ms_policy *p, ms_report *r, time_t now)
{
    if (!p)
        return;
    char today[16];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    size_t nfindings = r->nfindings; /* expiry notes added below are not matched */
    bool *expired_noted = calloc(p->nsuppressions ? p->nsuppressions : 1, sizeof(bool));
    for (size_t i = 0; i < nfindings; i++) {
        ms_finding *f = &r->findings[i];
        for (size_t j = 0; j < p->noverrides; j++) {
            if (strcmp(p->overrides[j].rule_id, f->rule_id) != 0 ||
                p->overrides[j].severity == f->severity)
                continue;
            json_object_set_new(f->details, "default_severity",
                                json_string(ms_severity_name(f->severity)));
            f->severity = p->overrides[j].severity;
        }
        for (size_t j = 0; j < p->nsuppressions; j++) {
            const suppression *s = &p->suppressions[j];
            if (!suppression_matches(s, f))
                continue;
            if (s->expires && strcmp(today, s->expires) > 0) {
                if (expired_noted && !expired_noted[j]) {
                    expired_noted[j] = true;
                    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:I}", "rule", s->rule_id,
                                          "path", s->path ? s->path : "*", "reason", s->reason,
                                          "expires", s->expires, "line", (json_int_t)s->line);
                    /* r->findings may move: f is re-read after the add */
                    ms_report_add(r, "POLICY-SUPPRESSION-EXPIRED", "Model Repository", d,
                                  "The suppression of %s%s%s (policy line %u, \"%s\") expired "
                                  "on %s; its findings are reported again.",
                                  s->rule_id, s->path ? " at " : "", s->path ? s->path : "",
                                  s->line, s->reason, s->expires);
                    f = &r->findings[i];
                }
                continue;
            }
            f->suppressed = true;
            free(f->suppress_reason);
            free(f->suppress_expires);
            f->suppress_reason = strdup(s->reason);
            f->suppress_expires = s->expires ? strdup(s->expires) : NULL;
            break;
        }
    }
    free(expired_noted);
}
