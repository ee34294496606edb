/*
 * fuzz_gguf.c - libFuzzer target for the GGUF parser: any input is given the
 * "GGUF" magic and scanned the way a file is (header, every key and value,
 * nested arrays, tensor infos, tensor data bounds, chat templates, report).
 * Aborts on an internal error; ASan/UBSan catch the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "model_scanner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = NULL;
    if (size < 4 || memcmp(data, "GGUF", 4) != 0) {
        buf = malloc(size + 4);
        if (!buf)
            return 0;
        memcpy(buf, "GGUF", 4);
        if (size)
            memcpy(buf + 4, data, size);
        data = buf;
        size += 4;
    }
    ms_limits limits;
    ms_limits_default(&limits);
    ms_report *r = ms_report_new("fuzz");
    if (r && ms_scan_buffer(r, &limits, "model.gguf", data, size) == MS_INTERNAL)
        abort();
    if (r) {
        ms_report_finish(r);
        json_decref(ms_report_to_json(r));
    }
    ms_report_free(r);
    free(buf);
    return 0;
}
