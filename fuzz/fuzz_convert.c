/*
 * fuzz_convert.c - libFuzzer target for `convert`'s restricted evaluator:
 * the input as a zip checkpoint's data.pkl (the evaluator, the state dict
 * choice, shared storages), then as a whole checkpoint file (zip or legacy
 * container, storages located). Nothing is scanned or written. Aborts when
 * a verdict and its message disagree; ASan/UBSan catch the rest.
 */
#include <stdlib.h>

#include "ms_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_convert_options opts;
    ms_convert_options_default(&opts);
    opts.limits.pickle_max_opcodes = 1u << 20;
    opts.drop_non_tensors = size % 2; /* both policies */
    for (int whole = 0; whole < 2; whole++) {
        char *why = NULL;
        ms_convert_verdict v = whole ? ms_convert_check_buffer(data, size, &opts, &why)
                                     : ms_convert_check_pickle(data, size, &opts, &why);
        if ((v == MS_CONVERT_DONE) != (why == NULL))
            abort();
        free(why);
    }
    return 0;
}
