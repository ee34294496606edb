/*
 * fuzz_archive.c - libFuzzer target for the container readers: 7z, tar,
 * gzip, bzip2, xz, zstd, lz4 and raw zlib (through format detection, so
 * members are dispatched to every other analyser too). Limits are lowered
 * so a bomb costs megabytes, not gigabytes. Aborts on an internal error;
 * ASan/UBSan catch the rest.
 */
#include <stdlib.h>

#include "model_scanner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_limits limits;
    ms_limits_default(&limits);
    limits.archive_max_member = 8u << 20;
    limits.archive_max_expanded = 32u << 20;
    limits.archive_max_members = 4096;
    limits.pickle_max_opcodes = 1u << 20;
    limits.nested_max_bytes = 1u << 24;
    limits.scan_max_seconds = 20;
    ms_report *r = ms_report_new("fuzz");
    if (!r)
        return 0;
    if (ms_scan_buffer(r, &limits, "input", data, size) == MS_INTERNAL)
        abort();
    ms_report_finish(r);
    json_t *doc = ms_report_to_json(r);
    json_decref(doc);
    ms_report_free(r);
    return 0;
}
