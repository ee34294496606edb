/*
 * torch_eval.h - a restricted evaluator for the pickles of tensor checkpoints.
 *
 * It runs one pickle stream for real (unlike the symbolic VM in
 * src/codec/pickle_vm.h, which keeps only what a verdict needs) but knows
 * nothing beyond the vocabulary torch.save writes for a state dict:
 *
 *   torch._utils._rebuild_tensor{,_v2,_v3}, _rebuild_parameter{,_with_state}
 *   torch.<X>Storage, torch.UntypedStorage (persistent ids only, never called)
 *   torch.<dtype>, torch.Size, torch.device, collections.OrderedDict,
 *   builtins.set / frozenset, and the plain values: None, bool, int, float,
 *   str, bytes, tuple, list, dict.
 *
 * Any other global, call, BUILD target or opcode stops the run: the
 * evaluator never "looks up" anything, so there is nothing an attacker can
 * make it import or run. Values are plain data in an arena freed with the
 * evaluator; strings point into the input buffer, which must outlive it.
 */
#ifndef MS_TORCH_EVAL_H
#define MS_TORCH_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_scanner.h"

enum {
    TE_MAX_DIMS = 64, /* dimensions per tensor: more than torch's kernels handle (25) */
};

typedef enum te_kind {
    TE_UNSET = 0, /* empty memo slot */
    TE_NONE,
    TE_BOOL,   /* u.i */
    TE_INT,    /* u.i */
    TE_BIGINT, /* u.s: little-endian two's complement bytes longer than 8 */
    TE_FLOAT,  /* u.f */
    TE_STR,    /* u.s: bytes as the pickle holds them (UTF-8 expected) */
    TE_BYTES,  /* u.s */
    TE_TUPLE,  /* id: object */
    TE_LIST,   /* id: object */
    TE_DICT,   /* id: object */
    TE_SET,    /* id: object (set and frozenset) */
    TE_GLOBAL, /* id: te_global */
    TE_STORAGE, /* id: storage reference */
    TE_TENSOR,  /* id: tensor */
    TE_DEVICE,  /* a torch.device: nothing kept */
} te_kind;

typedef struct te_value {
    uint8_t kind;
    uint32_t id;
    union {
        int64_t i;
        double f;
        struct {
            const uint8_t *p;
            uint64_t n;
        } s;
    } u;
} te_value;

/* The element types: safetensors name, torch names, size and the unit a
 * big-endian source is byte-swapped in. */
typedef struct te_dtype {
    const char *safetensors;
    const char *torch_name;   /* torch.<name> as pickled */
    const char *torch_alias;  /* the other torch.<name>, or NULL */
    const char *storage_name; /* torch.<X>Storage of torch.save's typed storages, or NULL */
    uint8_t size;
    uint8_t swap;
} te_dtype;

const te_dtype *te_dtype_info(unsigned dtype);

/* A storage named by a persistent id: raw bytes the container holds. */
typedef struct te_storage {
    const uint8_t *key; /* points into the pickle */
    size_t key_len;
    unsigned dtype;
    uint64_t numel;  /* elements of dtype */
    uint64_t nbytes; /* numel * size */
    /* set by the container reader */
    uint64_t file_offset;
    bool located;
} te_storage;

typedef struct te_tensor {
    uint32_t storage; /* index of its te_storage */
    unsigned dtype;
    unsigned ndim;
    uint64_t byte_offset; /* of the first element within the storage */
    uint64_t numel;
    uint64_t *shape;  /* ndim sizes */
    uint64_t *stride; /* ndim strides, in elements */
    uint64_t dims[];  /* storage for shape and stride */
} te_tensor;

typedef enum te_mode {
    TE_MODE_PLAIN,  /* no persistent ids (legacy header pickles) */
    TE_MODE_ZIP,    /* ('storage', type, key, location, numel) */
    TE_MODE_LEGACY, /* ('storage', type, key, location, numel, view_metadata) */
} te_mode;

typedef struct te_eval te_eval;

/* A new evaluator (NULL when out of memory). Limits: the pickle limits of
 * `limits` (opcodes, stack, marks, memo). */
te_eval *te_new(const ms_limits *limits);
void te_free(te_eval *ev);

/* Runs the pickle stream at data[start]. On MS_OK *result is the value STOP
 * returned and *end the offset after STOP. Otherwise the status says why
 * (MS_UNSUPPORTED: outside the vocabulary; MS_MALFORMED / MS_TRUNCATED: a
 * broken stream; MS_LIMIT; MS_NOMEM) and te_error() explains it. Storages,
 * tensors and objects accumulate across runs. */
MS_WARN_UNUSED ms_status te_run(te_eval *ev, const uint8_t *data, size_t len, size_t start,
                                te_mode mode, te_value *result, size_t *end);

/* Why the last run stopped, with the offset of the opcode: static storage
 * of the evaluator, valid until the next run. */
const char *te_error(const te_eval *ev);
size_t te_error_offset(const te_eval *ev);

/* Containers: items of a tuple/list/set, or key/value pairs of a dict. */
size_t te_len(const te_eval *ev, const te_value *v);
const te_value *te_item(const te_eval *ev, const te_value *v, size_t i);
bool te_dict_pair(const te_eval *ev, const te_value *dict, size_t i, const te_value **key,
                  const te_value **value);

size_t te_storage_count(const te_eval *ev);
te_storage *te_storage_at(te_eval *ev, size_t i);
/* The index of the storage named `key`, or -1. */
int64_t te_storage_find(const te_eval *ev, const uint8_t *key, size_t key_len);
const te_tensor *te_tensor_at(const te_eval *ev, uint32_t id);

/* "int", "str", "dict", "torch.Tensor" ... for messages. */
const char *te_kind_name(const te_value *v);
/* True when v is the str (or bytes) `s`. */
bool te_is_str(const te_value *v, const char *s);

#endif
