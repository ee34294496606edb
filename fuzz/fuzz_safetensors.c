/*
 * fuzz_safetensors.c - libFuzzer target for the safetensors header check:
 * the metadata accessor on any bytes, then the whole path a file takes
 * (probe, header, layout, report). Aborts on an internal error or metadata
 * that is not string to string; ASan/UBSan catch the rest.
 */
#include <stdlib.h>

#include "model_scanner.h"
#include "../src/formats/safetensors/safetensors_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *meta = safetensors_metadata(data, size);
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v) {
        if (!json_is_string(v))
            abort();
    }
    json_decref(meta);
    if (!safetensors_probe(data, size))
        return 0; /* other formats have their own targets */
    ms_limits limits;
    ms_limits_default(&limits);
    ms_report *r = ms_report_new("fuzz");
    if (!r)
        return 0;
    if (ms_scan_buffer(r, &limits, "model.safetensors", data, size) == MS_INTERNAL)
        abort();
    ms_report_finish(r);
    json_decref(ms_report_to_json(r));
    ms_report_free(r);
    return 0;
}
