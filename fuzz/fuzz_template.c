/*
 * fuzz_template.c - libFuzzer target for the chat template analyser: the
 * token-level analysis with its invariants, the report of a declared
 * template, and the scans of the "json" and "text" formats that feed it
 * (called directly, so the fuzzer's time goes to them). Aborts on a broken
 * invariant or an internal error; ASan/UBSan catch the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "model_scanner.h"
#include "../src/formats/json/json_scan.h"
#include "../src/policy/template_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    template_result res;
    template_analyse(data, size, &res);
    if (res.count > TEMPLATE_MAX_CONSTRUCTS || res.total < res.count)
        abort();
    for (size_t i = 0; i < res.count; i++)
        if (!res.items[i].kind || !res.items[i].name || !res.items[i].snippet ||
            res.items[i].offset > size || res.items[i].line == 0)
            abort();
    template_result_free(&res);
    ms_limits limits;
    ms_limits_default(&limits);
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_report *r = ms_report_new("fuzz");
    if (!r)
        return 0;
    ms_scan_ctx ctx = {.report = r, .limits = &limits, .location = "tokenizer_config.json", .budget = &budget};
    template_check(&ctx, "chat_template", data, size, TEMPLATE_DECLARED);
    if (jsonfile_scan(&ctx, data, size) == MS_INTERNAL ||
        template_text_scan(&ctx, data, size) == MS_INTERNAL)
        abort();
    ms_report_finish(r);
    json_decref(ms_report_to_json(r));
    ms_report_free(r);
    return 0;
}
