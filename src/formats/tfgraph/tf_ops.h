/* tf_ops.h - what a TensorFlow op does, for the graph analyser (the policy
 * half of src/formats/tfgraph: the walker reports facts, this table decides). */
#ifndef MS_TF_OPS_H
#define MS_TF_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tf_op_class {
    TF_OP_UNKNOWN = 0, /* not on any list: custom or unusual (default deny, Low) */
    TF_OP_SAFE,        /* computes on tensors; no file, process or network access */
    TF_OP_PYTHON,      /* calls a Python function of the loading process */
    TF_OP_FILE,        /* reads, writes, lists or deletes files */
    TF_OP_SAVER,       /* checkpoint I/O every SavedModel's saver uses */
} tf_op_class;

/* The class of the op named by these bytes (exact, case-sensitive). */
tf_op_class tf_op_classify(const uint8_t *name, size_t len);

/* True for a library function TensorFlow generates for a SavedModel's own
 * checkpoint saving and restoring: "__inference__traced_save_<n>",
 * "__inference__traced_restore_<n>", "__inference_save_fn_<n>",
 * "__inference_restore_fn_<n>" (n: decimal digits only). */
bool tf_is_saver_function(const uint8_t *name, size_t len);

/* True for a node of TF1's Saver subgraph in a main graph: a name under the
 * "save/" or "save_<n>/" scope. */
bool tf_is_saver_scope(const uint8_t *name, size_t len);

/* For the unit tests: the table is sorted by bytes, without duplicates. */
bool tf_ops_table_sorted(void);

#endif
