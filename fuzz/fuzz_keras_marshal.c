/*
 * fuzz_keras_marshal.c - libFuzzer target for the bounded CPython marshal
 * reader that lists the names a Keras Lambda's bytecode references. The
 * input is raw marshal bytes (as base64-decoded from a Lambda config).
 */
#include <stdlib.h>
#include <string.h>

#include "../src/formats/keras/pymarshal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pymarshal_names names;
    const char *error = NULL;
    ms_status st = pymarshal_read_names(data, size, &names, &error);
    if (st == MS_INTERNAL || (st != MS_OK && !error))
        abort();
    for (size_t i = 0; i < names.nnames; i++)
        if (!names.names[i] || strlen(names.names[i]) > PYMARSHAL_MAX_TEXT)
            abort();
    pymarshal_names_free(&names);
    return 0;
}
