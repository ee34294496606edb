/*
 * fuzz_policy.c - libFuzzer target for the policy file reader: any input is
 * parsed as a policy (YAML through libyaml, then every key checked); when it
 * loads, its limits, excludes and suppressions are applied to a small report.
 * A model can carry a policy (read with --model-policy), so it is untrusted.
 */
#include <stdlib.h>
#include <string.h>

#include "model_scanner.h"
#include "../src/core/scan_ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    ms_policy *p = ms_policy_parse((const char *)data, size, err, sizeof(err));
    if (!p) {
        if (!err[0])
            abort(); /* a refusal always says why */
        return 0;
    }
    ms_limits limits;
    ms_limits_default(&limits);
    ms_policy_apply_limits(p, &limits);
    size_t n;
    const char *const *globs = ms_policy_excludes(p, &n);
    (void)ms_path_excluded("docs/a/b.md", globs, n);
    ms_report *r = ms_report_new("fuzz");
    if (r) {
        ms_report_add(r, "PICKLE-INSECURE-FORMAT", "legacy/a.bin!archive/data.pkl", NULL, "x");
        ms_report_add(r, "SECRET-PERSONAL-DATA", "README.md:3", NULL, "y");
        ms_report_add(r, "PROVENANCE-UNVERIFIED", "Model Repository", NULL, "z");
        ms_policy_apply(p, r, 1800000000);
        ms_report_finish(r);
        json_decref(ms_report_to_json(r));
    }
    ms_report_free(r);
    ms_policy_free(p);
    return 0;
}
