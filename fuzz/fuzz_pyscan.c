/*
 * fuzz_pyscan.c - libFuzzer target for the Python tokenizer and analyser:
 * the content probe, the whole walk of a file (decoders, exec payloads,
 * f-strings), and, when the input is JSON, the notebook walk and the
 * auto_map/trust_remote_code search. Aborts on an internal error;
 * ASan/UBSan catch the rest.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/core/scan_ctx.h"
#include "../src/repo/pyscan.h"
#include "../src/repo/remote_code.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_limits limits;
    ms_limits_default(&limits);
    limits.nested_max_bytes = 1u << 22;
    ms_report *r = ms_report_new("fuzz");
    if (!r)
        return 0;
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_scan_ctx ctx = {.report = r, .limits = &limits, .location = "input.py", .budget = &budget};
    (void)pyscan_probe(data, size);
    if (pyscan_file(&ctx, data, size) == MS_INTERNAL)
        abort();
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (doc) {
        ctx.location = "input.ipynb";
        if (notebook_probe_json(doc) && notebook_scan(&ctx, doc) == MS_INTERNAL)
            abort();
        if (remote_code_scan_json(&ctx, doc, NULL) == MS_INTERNAL)
            abort();
        json_decref(doc);
    }
    ms_report_finish(r);
    json_decref(ms_report_to_json(r));
    ms_report_free(r);
    return 0;
}
