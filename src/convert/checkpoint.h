/*
 * checkpoint.h - a PyTorch checkpoint read into a conversion plan: the
 * container (zip or legacy), the pickle through the restricted evaluator,
 * the state dict chosen, tensors that share storage resolved the way the
 * Hugging Face libraries do, and where every output tensor's bytes are.
 * Nothing is written here (src/convert/convert.c writes).
 */
#ifndef MS_CHECKPOINT_H
#define MS_CHECKPOINT_H

#include "ms_convert.h"
#include "torch_eval.h"

typedef struct cp_tensor {
    char *name;          /* owned: valid UTF-8, no NUL */
    const te_tensor *t;  /* owned by the evaluator */
    uint64_t nbytes;     /* numel * element size */
    uint64_t begin, end; /* byte extent within its storage */
    bool contiguous;     /* its bytes are [begin, end) in order */
    size_t kept_as;      /* SIZE_MAX, or the index of the tensor kept in its place */
    uint64_t out_offset; /* in the safetensors data area (kept tensors) */
} cp_tensor;

typedef struct cp_plan {
    te_eval *ev;
    const uint8_t *data; /* the whole file */
    size_t len;
    uint8_t *pickle_owned; /* a deflated data.pkl, inflated */
    char *member;          /* the pickle's member name in a zip, or NULL */
    bool zip;
    bool big_endian;
    cp_tensor *tensors; /* kept ones in output order, then the dropped ones */
    size_t ntensors, nkept;
    size_t nmaterialised;
    uint64_t data_bytes; /* size of the output's data area */
    ms_convert_note *tied;
    size_t ntied;
    ms_convert_note *dropped;
    size_t ndropped, capdropped;
    char *message; /* why not MS_CONVERT_DONE (owned) */
} cp_plan;

/* Reads data[0, len) (a whole checkpoint file). MS_CONVERT_DONE: the plan is
 * ready; MS_CONVERT_REFUSED: p->message says why; MS_CONVERT_FAILED: out of
 * memory. Free with cp_plan_free in every case. `data` must outlive the
 * plan. */
ms_convert_verdict cp_plan_build(cp_plan *p, const uint8_t *data, size_t len,
                                 const ms_convert_options *opts);
/* The same for one data.pkl stream, without looking for its storages. */
ms_convert_verdict cp_plan_pickle(cp_plan *p, const uint8_t *data, size_t len,
                                  const ms_convert_options *opts);
void cp_plan_free(cp_plan *p);

/* Frees `count` notes (their name and detail) and the array. */
void cp_notes_free(ms_convert_note *n, size_t count);

/* The first byte of a kept tensor's storage in the file. */
const uint8_t *cp_storage_base(const cp_plan *p, const cp_tensor *ct);

#endif
