/*
 * fuzz_pickle.c - libFuzzer target for the pickle analyser: the whole path a
 * file takes (format probe, VM over every stream, policy, nested pickles,
 * report). Aborts on an internal error; ASan/UBSan catch the rest.
 */
#include <stdlib.h>

#include "model_scanner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_limits limits;
    ms_limits_default(&limits);
    limits.pickle_max_opcodes = 1u << 20;
    limits.nested_max_bytes = 1u << 24;
    ms_report *r = ms_report_new("fuzz");
    if (!r)
        return 0;
    if (ms_scan_buffer(r, &limits, "input", data, size) == MS_INTERNAL)
        abort();
    ms_report_finish(r);
    json_t *doc = ms_report_to_json(r);
    json_decref(doc);
    char *text = ms_report_to_text(r, false);
    free(text);
    char *ex = ms_pickle_explain(data, size, &limits);
    free(ex);
    ms_report_free(r);
    return 0;
}
