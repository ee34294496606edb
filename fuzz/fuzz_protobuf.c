/*
 * fuzz_protobuf.c - libFuzzer target for the protobuf wire reader and the
 * ONNX and TensorFlow walkers built on it. Every walker runs on every input,
 * whatever the probes say (a probe is a filter, not a guard), then the whole
 * path a file takes (probes, scan, report). Aborts on an internal error;
 * ASan/UBSan catch the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/codec/protobuf.h"
#include "../src/formats/onnx/onnx_scan.h"
#include "../src/formats/tfgraph/tfgraph_scan.h"
#include "model_scanner.h"

/* non-empty '/'-separated segments, none of them "." or ".." */
static bool clean_relative(const char *p)
{
    for (;;) {
        size_t k = strcspn(p, "/");
        if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!p[k])
            return true;
        p += k + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count_md(void *ud, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
    *(size_t *)ud += kn + vn + (k != NULL) + (v != NULL);
    return true;
}

static bool count_keras(void *ud, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                        const uint8_t *c, size_t cn)
{
    *(size_t *)ud += an + bn + cn + (a && b && c);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pb_reader r;
    pb_field f;
    pb_nameset names;
    pb_nameset_init(&names, 64, 4096);
    pb_reader_init(&r, data, size, 0);
    while (pb_next(&r, &f)) {
        if (f.wire != PB_LEN)
            continue;
        if (f.data < data || f.len > size || f.data + f.len > data + size)
            abort(); /* a payload outside the input */
        size_t i, j;
        if (pb_nameset_add(&names, f.data, f.len, &i) &&
            (!pb_nameset_find(&names, f.data, f.len, &j) || i != j))
            abort();
    }
    if (!r.error != pb_message_valid(data, size))
        abort();
    pb_nameset_free(&names);

    size_t seen = 0;
    (void)onnx_metadata_foreach(data, size, count_md, &seen);
    (void)tf_keras_metadata_foreach(data, size, count_keras, &seen);
    /* the whole path only for what the probes claim: other formats have
     * their own targets (and text costs the secrets scan) */
    bool claimed = onnx_probe(data, size) || tf_savedmodel_probe(data, size) ||
                   tf_keras_metadata_probe(data, size) || tf_graphdef_probe(data, size) ||
                   tf_fingerprint_probe(data, size);

    ms_limits limits;
    ms_limits_default(&limits);
    ms_report *rep = ms_report_new("fuzz");
    if (!rep)
        return 0;
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    /* a model on disk in a subfolder, so that external data locations are
     * resolved and recorded as companions */
    ms_scan_ctx ctx = {.report = rep,
                       .limits = &limits,
                       .location = "onnx/input",
                       .budget = &budget,
                       .root = "/nonexistent/model"};
    ms_status (*const scans[])(ms_scan_ctx *, const uint8_t *, size_t) = {
        onnx_scan, tf_savedmodel_scan, tf_graphdef_scan, tf_keras_metadata_scan};
    for (size_t i = 0; i < sizeof(scans) / sizeof(scans[0]); i++)
        if (scans[i](&ctx, data, size) == MS_INTERNAL)
            abort();
    if (claimed && ms_scan_buffer(rep, &limits, "input.pb", data, size) == MS_INTERNAL)
        abort();
    /* every recorded companion is a path inside the model folder */
    for (size_t i = 0; i < json_array_size(rep->companions); i++) {
        const char *p =
            json_string_value(json_object_get(json_array_get(rep->companions, i), "path"));
        if (!p || !clean_relative(p))
            abort();
        ms_report_add_file(rep, p, 0, "binary");
    }
    ms_report_resolve_companions(rep);
    ms_report_finish(rep);
    json_t *doc = ms_report_to_json(rep);
    if (!doc)
        abort();
    char *text = json_dumps(doc, 0); /* every string in the details is valid UTF-8 */
    if (!text)
        abort();
    free(text);
    json_decref(doc);
    ms_report_free(rep);
    return 0;
}
