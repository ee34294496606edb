/*
 * test_deps_e2e.c - runs repo_deps_scan (the core's entry point for the
 * dependency check) on every fixture repository listed in a manifest and
 * checks the findings, like tests/run_fixtures.py does for whole scans.
 *
 * usage: deps-e2e FIXTURE_DIR     (reads FIXTURE_DIR/expected.json)
 *
 * Manifest: { "<case>": { "repo": "<path>"?, "advisories": "<path>"?,
 * "must": [...], "must_not": [...] } }. The repository is "repo" or else
 * the case name, relative to FIXTURE_DIR. Each entry matches a finding on
 * any of type, severity, rule_id, description_contains, location, and (in
 * details) package, version and advisory (an id or alias that must be among
 * details.advisories); a "must" entry with "count" needs exactly that many
 * matching findings. Set DEPS_E2E_VERBOSE=1 to print every finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model_scanner.h"
#include "../../src/repo/deps.h"

static bool has_advisory(const json_t *finding, const char *id)
{
    const json_t *advs = json_object_get(json_object_get(finding, "details"), "advisories");
    size_t i;
    const json_t *a;
    json_array_foreach(advs, i, a)
    {
        const char *lists[] = {"ids", "aliases"};
        for (size_t l = 0; l < 2; l++) {
            size_t k;
            const json_t *s;
            json_array_foreach(json_object_get(a, lists[l]), k, s)
            {
                if (strcasecmp(json_string_value(s), id) == 0)
                    return true;
            }
        }
    }
    return false;
}

static bool field_is(const json_t *obj, const char *key, const json_t *want)
{
    const json_t *w = json_object_get(want, key);
    if (!w)
        return true;
    const char *have = json_string_value(json_object_get(obj, key));
    return have && strcmp(have, json_string_value(w)) == 0;
}

static bool matches(const json_t *f, const json_t *want)
{
    const json_t *details = json_object_get(f, "details");
    if (!field_is(f, "type", want) || !field_is(f, "severity", want) ||
        !field_is(f, "rule_id", want) || !field_is(f, "location", want) ||
        !field_is(details, "package", want) || !field_is(details, "version", want))
        return false;
    const char *sub = json_string_value(json_object_get(want, "description_contains"));
    if (sub && !strstr(json_string_value(json_object_get(f, "description")), sub))
        return false;
    const char *adv = json_string_value(json_object_get(want, "advisory"));
    if (adv && !has_advisory(f, adv))
        return false;
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: deps-e2e FIXTURE_DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/expected.json", argv[1]);
    json_error_t err;
    json_t *manifest = json_load_file(path, 0, &err);
    if (!manifest) {
        fprintf(stderr, "deps-e2e: %s: %s\n", path, err.text);
        return 2;
    }
    bool verbose = getenv("DEPS_E2E_VERBOSE") != NULL;
    ms_limits limits;
    ms_limits_default(&limits);
    int passed = 0, failed = 0;
    const char *name;
    json_t *c;
    json_object_foreach(manifest, name, c)
    {
        char repo[4096], adv[4096];
        const char *reporel = json_string_value(json_object_get(c, "repo"));
        snprintf(repo, sizeof(repo), "%s/%s", argv[1], reporel ? reporel : name);
        const char *advrel = json_string_value(json_object_get(c, "advisories"));
        if (advrel)
            snprintf(adv, sizeof(adv), "%s/%s", argv[1], advrel);
        ms_report *r = ms_report_new(repo);
        ms_status s = r ? repo_deps_scan(r, repo, NULL, &limits, advrel ? adv : NULL, NULL, 0) : MS_NOMEM;
        if (s != MS_OK) {
            printf("FAIL %s: repo_deps_scan returned %s\n", name, ms_status_name(s));
            failed++;
            ms_report_free(r);
            continue;
        }
        ms_report_finish(r);
        json_t *doc = ms_report_to_json(r);
        json_t *all = json_array();
        json_array_extend(all, json_object_get(doc, "vulnerabilities"));
        json_array_extend(all, json_object_get(doc, "warnings"));
        int problems = 0;
        size_t i;
        json_t *want;
        json_array_foreach(json_object_get(c, "must"), i, want)
        {
            json_int_t count = 0;
            for (size_t k = 0; k < json_array_size(all); k++)
                count += matches(json_array_get(all, k), want);
            const json_t *exact = json_object_get(want, "count");
            bool found = exact ? count == json_integer_value(exact) : count > 0;
            if (!found) {
                char *w = json_dumps(want, JSON_COMPACT);
                printf("FAIL %s: missing %s\n", name, w);
                free(w);
                problems++;
            }
        }
        json_array_foreach(json_object_get(c, "must_not"), i, want)
        {
            for (size_t k = 0; k < json_array_size(all); k++) {
                const json_t *f = json_array_get(all, k);
                if (matches(f, want)) {
                    char *w = json_dumps(want, JSON_COMPACT);
                    printf("FAIL %s: unexpected %s: %.300s\n", name, w,
                           json_string_value(json_object_get(f, "description")));
                    free(w);
                    problems++;
                }
            }
        }
        if (verbose || problems) {
            for (size_t k = 0; k < json_array_size(all); k++) {
                const json_t *f = json_array_get(all, k);
                printf("     got: %s %s @ %s: %s\n",
                       json_string_value(json_object_get(f, "severity")),
                       json_string_value(json_object_get(f, "rule_id")),
                       json_string_value(json_object_get(f, "location")),
                       json_string_value(json_object_get(f, "description")));
            }
        }
        if (problems) {
            failed++;
        } else {
            passed++;
            printf("ok   %s\n", name);
        }
        json_decref(all);
        json_decref(doc);
        ms_report_free(r);
    }
    json_decref(manifest);
    printf("%d passed, %d failed\n", passed, failed);
    return failed || passed == 0 ? 1 : 0;
}
