/*
 * fuzz_zip.c - libFuzzer target for the ZIP reader (every entry and issue it
 * returns must point inside the input), then the ZIP format module on the
 * same bytes (members dispatched, inflated under small limits, TorchScript
 * code read, report built). Aborts on an inconsistent result or an internal
 * error; ASan/UBSan catch the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/codec/zip.h"
#include "../src/core/scan_ctx.h"
#include "../src/formats/zip/torchscript.h"
#include "../src/formats/zip/zip_scan.h"
#include "model_scanner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zip_archive za;
    if (zip_open(&za, data, size, 4096) == MS_INTERNAL)
        abort();
    for (size_t i = 0; i < za.nentries; i++) {
        const zip_entry *e = &za.entries[i];
        if ((e->data_ok && (e->data_offset > size || e->comp_size > size - e->data_offset)) ||
            (e->local_ok && e->local_offset >= size) ||
            (e->same_data_as != ZIP_NONE && e->same_data_as >= i))
            abort();
    }
    for (size_t i = 0; i < za.nissues; i++)
        if ((za.issues[i].entry != ZIP_NONE && za.issues[i].entry >= za.nentries) ||
            (za.issues[i].other != ZIP_NONE && za.issues[i].other >= za.nentries))
            abort();
    zip_close(&za);

    ms_limits limits;
    ms_limits_default(&limits);
    limits.pickle_max_opcodes = 1u << 20;
    limits.archive_max_member = 1u << 22; /* no multi-GB inflates in a fuzzer */
    limits.archive_max_expanded = 1u << 24;
    limits.archive_max_members = 4096;
    ms_report *r = ms_report_new("fuzz");
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_scan_ctx ctx = {.report = r, .limits = &limits, .location = "input.zip", .budget = &budget};
    if (!r || zip_scan(&ctx, data, size) == MS_INTERNAL)
        abort();
    torchscript_code tc;
    torchscript_code_init(&tc);
    torchscript_scan_source(&ctx, &tc, "code/x.py", data, size);
    torchscript_report(&ctx, &tc);
    torchscript_code_free(&tc);
    ms_report_finish(r);
    json_decref(ms_report_to_json(r));
    ms_report_free(r);
    return 0;
}
