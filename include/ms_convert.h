/*
 * ms_convert.h - convert PyTorch pickle checkpoints to safetensors without
 * running them.
 *
 * A checkpoint (torch.save's zip format or its legacy format, any file name)
 * or a model folder is converted in three gates, and nothing is written
 * unless all of them pass:
 *
 *   1. the scanner's own analysis of the file (ms_scan_buffer): any finding
 *      other than the plain "Insecure Pickle Loading" one (rule
 *      PICKLE-INSECURE-FORMAT) refuses the file, with the scan's findings;
 *   2. a restricted evaluator (src/convert/torch_eval.c) that knows only the
 *      vocabulary of tensor checkpoints and refuses everything else;
 *   3. the output is checked by the scanner's safetensors analysis before it
 *      replaces anything.
 *
 * Tensor bytes are copied from the file mapping in bounded chunks, so memory
 * does not grow with the size of the weights. The library never prints; the
 * command line (tools/convert_cmd.c) owns all output.
 */
#ifndef MS_CONVERT_H
#define MS_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_scanner.h"

typedef struct ms_convert_options {
    bool force;            /* replace existing outputs */
    bool drop_non_tensors; /* drop (and list) entries that are not tensors instead of refusing */
    ms_limits limits;      /* for the scan of each input and for the evaluator */
} ms_convert_options;

void ms_convert_options_default(ms_convert_options *opts);

typedef enum ms_convert_verdict {
    MS_CONVERT_DONE = 0,    /* every output written and checked */
    MS_CONVERT_REFUSED = 1, /* unsafe or unsupported content: nothing written */
    MS_CONVERT_FAILED = 2,  /* could not run: arguments, I/O, an existing output */
} ms_convert_verdict;

/* A name and what became of it. */
typedef struct ms_convert_note {
    char *name;   /* a tensor or entry name, owned */
    char *detail; /* tied: the name kept in its place; dropped: its type (owned) */
} ms_convert_note;

/* One input file and its output. */
typedef struct ms_convert_item {
    char *input;     /* owned */
    char *output;    /* owned */
    char sha256[65]; /* of the input */
    const char *container; /* "pytorch-zip" or "pytorch-legacy" (static) */
    size_t ntensors;        /* written */
    uint64_t tensor_bytes;  /* written */
    size_t nmaterialised;   /* views and strided tensors written contiguously */
    bool big_endian;        /* the source stored big-endian bytes (swapped) */
    ms_convert_note *tied;  /* tensors sharing storage: dropped name -> kept name */
    size_t ntied;
    ms_convert_note *dropped; /* non-tensor entries dropped (--drop-non-tensors) */
    size_t ndropped;
} ms_convert_item;

typedef struct ms_convert_result {
    ms_convert_verdict verdict;
    char *message;  /* why refused or failed (owned); NULL when done */
    char *location; /* the file (and member) concerned, or NULL (owned) */
    /* refused by the scanner's analysis: that scan's report (its findings
     * are what a scan of the file reports), else NULL */
    ms_report *findings;
    ms_convert_item *items;
    size_t nitems;
    char *index_output; /* model.safetensors.index.json written, or NULL */
} ms_convert_result;

/* Converts `input` (a file or a model folder). `output` names the output
 * file for a file input (NULL: beside the input, see docs/sanitize.md) and
 * must be NULL for a folder. Returns MS_NOMEM only when no result could be
 * built; otherwise MS_OK with *out holding the verdict (free it with
 * ms_convert_result_free). */
MS_WARN_UNUSED ms_status ms_convert(const char *input, const char *output,
                                    const ms_convert_options *opts, ms_convert_result **out);
void ms_convert_result_free(ms_convert_result *result);

/* The checks of gate 2 on an in-memory checkpoint (zip or legacy), without
 * the scan and without writing: for fuzzing and tests. Returns the verdict;
 * *message (owned, may be NULL) says why it is not MS_CONVERT_DONE. */
ms_convert_verdict ms_convert_check_buffer(const uint8_t *data, size_t len,
                                           const ms_convert_options *opts, char **message);

/* Gate 2 on one pickle stream alone, as a zip checkpoint's data.pkl (its
 * storages are not looked for): for fuzzing the evaluator. */
ms_convert_verdict ms_convert_check_pickle(const uint8_t *data, size_t len,
                                           const ms_convert_options *opts, char **message);

#endif
