/*
 * fuzz_keras_config.c - libFuzzer target for the Keras configuration
 * analyser: the input is config JSON (as in a .keras config.json or an HDF5
 * model_config), walked with every check, bytecode decoding and nested
 * TorchModuleWrapper pickles. Aborts on an internal error.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/formats/keras/keras_config.h"
#include "model_scanner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_limits limits;
    ms_limits_default(&limits);
    limits.pickle_max_opcodes = 1u << 20;
    limits.nested_max_bytes = 1u << 24;
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_report *r = ms_report_new("fuzz");
    if (!r)
        return 0;
    ms_scan_ctx ctx = {.report = r, .limits = &limits, .location = "m.keras", .budget = &budget};
    if (keras_v3_scan_archive_config(&ctx, "config.json", data, size) == MS_INTERNAL)
        abort();
    ms_report_finish(r);
    json_t *doc = ms_report_to_json(r);
    json_decref(doc);
    ms_report_free(r);
    return 0;
}
