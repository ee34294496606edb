/*
 * hdf5_scan.h - the HDF5 scanner: reads a file's root attributes with
 * libhdf5 in a sandboxed child process and analyses the Keras configuration
 * they hold (model_config, training_config).
 */
#ifndef MS_HDF5_SCAN_H
#define MS_HDF5_SCAN_H

#include "../../core/scan_ctx.h"

/* Analyses an HDF5 file (the format table's probe found the signature).
 * A file without model_config (weights only) yields no finding; a file
 * libhdf5 cannot read, or a reader that crashes or hangs, yields
 * HDF5-PARSER-FAILURE. The reader is the running program started again
 * (/proc/self/exe), so it works in any executable this library is linked
 * into (the scanner, tests, fuzzers), not in one that merely loads it from
 * another language runtime: there the child fails and the file is reported
 * as unreadable, never passed. */
ms_status hdf5_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* ---- for tests: the child process and its protocol -------------------- */

/* What runs in the child: reads `data` and writes records to `fd`. */
typedef void (*hdf5_child_fn)(int fd, const uint8_t *data, size_t len);

/* The real child: libhdf5 over an in-memory image of `data`. */
void hdf5_child_read_attributes(int fd, const uint8_t *data, size_t len);

/* One record on the pipe: tag, uint32 name length, name, uint64 value
 * length, value (little-endian). Tags: 'A' attribute value, 'X' attribute
 * present but unreadable (value = reason), 'E' file not readable (value =
 * reason), 'D' done. Returns false when the write failed. */
bool hdf5_child_record(int fd, char tag, const char *name, const void *value, size_t len);

/* The child runs a mode by name: "attributes" is the real reader. A test
 * program may define this table (NULL-terminated) to add modes of its own;
 * the child process is the same executable, so it finds them too. */
typedef struct hdf5_child_mode {
    const char *name;
    hdf5_child_fn fn;
} hdf5_child_mode;
extern const hdf5_child_mode hdf5_test_child_modes[] __attribute__((weak));

/* hdf5_scan with another child mode and a time limit in seconds (0: the
 * default, bounded by the time left for the file). */
ms_status hdf5_scan_with(ms_scan_ctx *ctx, const uint8_t *data, size_t len, const char *mode,
                         unsigned seconds);

#endif
