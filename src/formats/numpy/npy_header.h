/*
 * npy_header.h - the .npy header: magic, version, header length, and the
 * header text, a Python literal dict parsed by a small strict reader of
 * Python literals (never evaluated: no Python is involved).
 *
 * Two layers, both usable on their own (unit tests and the fuzz target call
 * them directly):
 *   npy_literal_parse  a Python literal (dict, list, tuple, str, bytes, int,
 *                      True/False/None) into a tree of nodes;
 *   npy_header_parse   a whole .npy prefix into the facts numpy.load acts on:
 *                      where the data starts, the dtype's item size, whether
 *                      the dtype holds objects (the data is then a pickle),
 *                      the shape and the byte size it implies.
 */
#ifndef MS_NPY_HEADER_H
#define MS_NPY_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_scanner.h"

enum {
    /* numpy.load refuses headers above 10 000 characters unless the caller
     * passes allow_pickle=True (which object arrays need anyway); 1 MiB is a
     * hundred times that, room for a structured dtype of ~30 000 fields. */
    NPY_MAX_HEADER_BYTES = 1 << 20,
    /* Nodes of the literal tree: a field ('name', '<f4') is three nodes. */
    NPY_MAX_NODES = 1 << 18,
    /* Literal nesting: the dict, then two levels per nested structured
     * dtype (list of tuples). Real files use 2 to 6. */
    NPY_MAX_DEPTH = 32,
    /* numpy 1.x allows 32 dimensions, numpy 2.x 64. */
    NPY_MAX_DIMS = 64,
    /* The rendering of the descr kept for the report. */
    NPY_DESCR_TEXT = 120,
};

typedef enum npy_kind {
    NPY_DICT, /* items: key, value, key, value ... (count = pairs) */
    NPY_LIST,
    NPY_TUPLE,
    NPY_STR,   /* text as UTF-8 in npy_literal.strings (may hold NUL) */
    NPY_BYTES, /* bytes in npy_literal.strings */
    NPY_INT,   /* value; `huge` when it does not fit in int64 */
    NPY_BOOL,  /* value 0 or 1 */
    NPY_NONE,
} npy_kind;

typedef struct npy_node {
    npy_kind kind;
    bool huge;
    uint32_t count; /* items of a list or tuple, pairs of a dict */
    int32_t first;  /* first item, -1 when empty */
    int32_t next;   /* next item of the parent, -1 at the end */
    int64_t value;
    size_t str_off, str_len; /* NPY_STR, NPY_BYTES */
    size_t src_start, src_end; /* span in the parsed text */
} npy_node;

typedef struct npy_literal {
    npy_node *nodes;
    size_t nnodes, nodes_cap;
    uint8_t *strings;
    size_t strings_len, strings_cap;
    int32_t root;
} npy_literal;

typedef enum npy_encoding {
    NPY_LATIN1, /* versions 1.0 and 2.0 */
    NPY_UTF8,   /* version 3.0 */
} npy_encoding;

/* The first problem met. `offset` is in the parsed text for the literal
 * parser and in the file for the header parser. */
typedef struct npy_error {
    ms_status status; /* MS_MALFORMED, MS_TRUNCATED, MS_LIMIT or MS_NOMEM */
    size_t offset;
    char what[256];
} npy_error;

/* Parses `text` (the whole of it must be one literal, with whitespace and
 * comments around it) into `lit`, which the caller frees with
 * npy_literal_free() whatever the result. `long_suffix` accepts Python 2's
 * `10L` (numpy strips it from version 1.0 and 2.0 headers). Returns MS_OK, or
 * the error's status with `err` filled. */
MS_WARN_UNUSED ms_status npy_literal_parse(const uint8_t *text, size_t len, npy_encoding enc,
                                           bool long_suffix, npy_literal *lit, npy_error *err);
void npy_literal_free(npy_literal *lit);
/* The node at index i (valid indices come from the tree), or NULL. */
const npy_node *npy_literal_node(const npy_literal *lit, int32_t i);

typedef struct npy_header {
    uint8_t major, minor;
    uint64_t header_len;  /* bytes of header text */
    uint64_t data_offset; /* where the array data starts */
    bool layout_known;    /* data_offset is within the file: the body can be examined */
    /* the dtype holds Python objects ('O' in it, outside padding fields that
     * numpy drops; also set when a refused dtype string names an object):
     * numpy.load unpickles the body */
    bool object;
    bool fortran_order;
    /* a key given twice; Python keeps the last value, and so does this parser */
    const char *duplicate_key;
    unsigned ndim;
    int64_t shape[NPY_MAX_DIMS];
    uint64_t itemsize;   /* bytes per element (8 for an object pointer) */
    uint64_t count;      /* elements: the product of the shape (1 for a 0-d array) */
    uint64_t data_bytes; /* count x itemsize: what numpy.load reads for a non-object dtype */
    char descr[NPY_DESCR_TEXT + 8]; /* the descr as written, printable ASCII, shortened */
} npy_header;

/* Parses the .npy prefix of data[0, len): magic, version, header length and
 * header. Fills `h` as far as it got (layout_known and object stay valid
 * after a failure past the header length). Returns MS_OK, or the status of
 * the first problem with `err` filled: MS_MALFORMED (not a valid header),
 * MS_TRUNCATED (the file ends inside the header), MS_LIMIT (a size or depth
 * bound) or MS_NOMEM. Comparing data_bytes with the file is the caller's. */
MS_WARN_UNUSED ms_status npy_header_parse(const uint8_t *data, size_t len, npy_header *h,
                                          npy_error *err);

/* The item size of a dtype string as numpy writes it ('<f4', '|b1', '<U10',
 * '|O', '<M8[ns]'); sets *object for 'O'. False when numpy would not write it. */
bool npy_dtype_string(const uint8_t *s, size_t n, uint64_t *itemsize, bool *object);

#endif
