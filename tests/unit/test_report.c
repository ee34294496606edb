/* test_report.c - finding order, severities, JSON shape. */
#include <stdlib.h>

#include "unit.h"
#include "../../src/core/scan_ctx.h"

/* --exclude and suppression paths: the rules of docs/policy.md#excludes */
static void test_exclude_globs(void)
{
    static const struct {
        const char *glob, *path;
        bool excluded;
    } cases[] = {
        {"*.md", "README.md", true},
        {"*.md", "docs/intro.md", true},
        {"*.md", "docs/intro.mdx", false},
        {"docs", "docs/a/b.bin", true},
        {"docs", "documents/a.bin", false},
        {"docs/*", "docs/a/b.bin", true},
        {"docs/*", "sub/docs/a.bin", true},
        {"/docs", "sub/docs/a.bin", false},
        {"/docs", "docs/a.bin", true},
        {"/notes.txt", "notes.txt", true},
        {"/notes.txt", "sub/notes.txt", false},
        {"legacy/**", "legacy/x/y.bin", true},
        {"**/cache", "a/b/cache/x", true},
        {"**", "anything/at/all", true},
        {"*", "x", true},
        {"a?c", "abc", true},
        {"a?c", "a/c", false},
        {"[ab].bin", "b.bin", true},
        {"[ab].bin", "c.bin", false},
        {"pytorch_model.bin", "pytorch_model.bin.index.json", false},
        {"", "x", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *g = cases[i].glob;
        bool got = ms_path_excluded(cases[i].path, &g, 1);
        CHECK(got == cases[i].excluded);
        if (got != cases[i].excluded)
            fprintf(stderr, "  glob '%s' on '%s'\n", cases[i].glob, cases[i].path);
    }
    CHECK(!ms_path_excluded("a", NULL, 0));
}

void test_report(void)
{
    test_exclude_globs();
    ms_severity s;
    CHECK(ms_severity_parse("HIGH", &s) && s == MS_SEV_HIGH);
    CHECK(ms_severity_parse("informational", &s) && s == MS_SEV_INFORMATIONAL);
    CHECK(!ms_severity_parse("severe", &s));
    CHECK_STR(ms_severity_name(MS_SEV_CRITICAL), "Critical");

    /* every rule has a type, a trigger and a recommendation */
    size_t n;
    const ms_rule *rules = ms_rules(&n);
    CHECK(n >= 10);
    for (size_t i = 0; i < n; i++)
        CHECK(rules[i].type && rules[i].trigger && rules[i].recommendation &&
              ms_rule_find(rules[i].id) == &rules[i]);

    ms_report *r = ms_report_new("/tmp/some/model-dir/");
    CHECK_STR(r->model_name, "model-dir");
    CHECK(ms_report_add(r, "PROVENANCE-UNVERIFIED", "Model Repository", NULL, "p"));
    CHECK(ms_report_add(r, "PICKLE-UNKNOWN-GLOBAL", "b.pkl", NULL, "u"));
    CHECK(ms_report_add(r, "PICKLE-INSECURE-FORMAT", "b.pkl", NULL, "i"));
    CHECK(ms_report_add(r, "PICKLE-DANGEROUS-GLOBAL", "a.pkl", NULL, "d\x1b[2J"));
    ms_report_add_file(r, "b.pkl", 3, "pickle");
    ms_report_add_file(r, "a.pkl", 2, "pickle");
    ms_report_finish(r);
    CHECK_STR(r->findings[0].location, "a.pkl");
    CHECK_STR(r->findings[1].rule_id, "PICKLE-INSECURE-FORMAT");
    CHECK_STR(r->findings[2].rule_id, "PICKLE-UNKNOWN-GLOBAL");
    CHECK_STR(r->findings[3].rule_id, "PROVENANCE-UNVERIFIED");
    CHECK_STR(r->findings[0].description, "d?[2J"); /* no terminal escapes */
    CHECK_STR(r->files[0].path, "a.pkl");

    json_t *doc = ms_report_to_json(r);
    const char *keys[] = {"model_name", "scan_timestamp", "vulnerabilities", "warnings",
                          "scanner", "model_path", "summary", "files"};
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach(doc, key, val)
    {
        CHECK(k < 8 && strcmp(key, keys[k]) == 0);
        k++;
    }
    CHECK(k == 8);
    CHECK(json_array_size(json_object_get(doc, "vulnerabilities")) == 3);
    CHECK(json_array_size(json_object_get(doc, "warnings")) == 1);
    json_t *sum = json_object_get(doc, "summary");
    CHECK(json_integer_value(json_object_get(sum, "critical")) == 2);
    CHECK(json_integer_value(json_object_get(sum, "high")) == 1);
    const char *ts = json_string_value(json_object_get(doc, "scan_timestamp"));
    CHECK(ts && strlen(ts) == 20 && ts[10] == 'T' && ts[19] == 'Z');
    json_t *f0 = json_array_get(json_object_get(doc, "vulnerabilities"), 0);
    const char *fkeys[] = {"type", "severity", "description", "location", "recommendation",
                           "rule_id", "details"};
    k = 0;
    json_object_foreach(f0, key, val)
    {
        CHECK(k < 7 && strcmp(key, fkeys[k]) == 0);
        k++;
    }
    json_decref(doc);

    char *text = ms_report_to_text(r, false);
    CHECK(strstr(text, "Critical (2)") != NULL);
    CHECK(strstr(text, "\033[") == NULL);
    CHECK(strstr(text, "Summary: 2 critical, 1 high") != NULL);
    free(text);
    text = ms_report_to_text(r, true);
    CHECK(strstr(text, "\033[1;31m") != NULL);
    free(text);
    ms_report_free(r);
}
