/*
 * pymarshal.h - a bounded reader that lists the names a marshalled CPython
 * code object references, without ever executing or unmarshalling it.
 *
 * Keras Lambda layers store their function as base64(marshal.dumps(code)).
 * This reader walks that serialisation and collects, for the code object and
 * every code object nested in its constants, the co_names (globals and
 * attributes it uses: `os`, `system`, `exec`) and the string constants.
 */
#ifndef MS_PYMARSHAL_H
#define MS_PYMARSHAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_scanner.h"

enum {
    PYMARSHAL_MAX_LISTED = 128, /* names and strings kept per list */
    PYMARSHAL_MAX_TEXT = 200,   /* bytes kept of one string */
};

typedef struct pymarshal_names {
    char *names[PYMARSHAL_MAX_LISTED]; /* co_names, first seen first, no duplicates */
    size_t nnames;
    char *strings[PYMARSHAL_MAX_LISTED]; /* str and bytes constants, no duplicates */
    size_t nstrings;
    bool lists_truncated;  /* more names or strings than were kept */
    unsigned code_objects; /* code objects read (the function and nested ones) */
    char *code_name;       /* co_name of the outer code object ("<lambda>") or NULL */
    char *filename;        /* co_filename of the outer code object or NULL */
    const char *layout;    /* static: the CPython versions whose layout matched */
} pymarshal_names;

/* Reads `data` as the marshal serialisation of one code object. On MS_OK the
 * whole input was consumed and `out` lists its names (the caller frees them
 * with pymarshal_names_free, also after an error). Otherwise the status is
 * MS_UNSUPPORTED (not a code object), MS_MALFORMED, MS_TRUNCATED, MS_LIMIT
 * or MS_NOMEM, and *error (static text) says why. Never executes anything. */
MS_WARN_UNUSED ms_status pymarshal_read_names(const uint8_t *data, size_t len, pymarshal_names *out,
                                              const char **error);
void pymarshal_names_free(pymarshal_names *names);

#endif
