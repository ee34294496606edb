/*
 * fuzz_npy.c - libFuzzer target for the .npy header parser and its Python
 * literal reader, then the whole path a file takes (probe, header, data size,
 * pickle analysis of object arrays, trailing-data member, report). Aborts on
 * an internal error or an inconsistent result; ASan/UBSan catch the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "model_scanner.h"
#include "../src/formats/numpy/npy_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    npy_header h;
    npy_error err;
    ms_status st = npy_header_parse(data, size, &h, &err);
    if ((st == MS_OK && (!h.layout_known || h.data_offset > size)) ||
        (st != MS_OK && err.status != st) || st == MS_INTERNAL)
        abort();
    npy_literal lit; /* the same bytes as header text, both encodings */
    if (npy_literal_parse(data, size, size && (data[0] & 1) ? NPY_UTF8 : NPY_LATIN1, true, &lit,
                          &err) == MS_OK &&
        !npy_literal_node(&lit, lit.root))
        abort();
    npy_literal_free(&lit);
    if (size < 6 || memcmp(data, "\x93NUMPY", 6) != 0)
        return 0; /* other formats have their own targets */
    ms_limits limits;
    ms_limits_default(&limits);
    limits.pickle_max_opcodes = 1u << 20;
    limits.nested_max_bytes = 1u << 24;
    ms_report *r = ms_report_new("fuzz");
    if (!r)
        return 0;
    if (ms_scan_buffer(r, &limits, "input.npy", data, size) == MS_INTERNAL)
        abort();
    ms_report_finish(r);
    json_decref(ms_report_to_json(r));
    ms_report_free(r);
    return 0;
}
