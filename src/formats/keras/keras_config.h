/*
 * keras_config.h - the Keras model configuration analyser, shared by the
 * HDF5 scanner (the `model_config` / `training_config` attributes of a
 * Keras 2 `.h5` file) and the Keras v3 `.keras` archive (its `config.json`).
 */
#ifndef MS_KERAS_CONFIG_H
#define MS_KERAS_CONFIG_H

#include "../../core/scan_ctx.h"

/* Analyses `len` bytes of JSON text holding a Keras model configuration and
 * reports, at `location`: Lambda layers and `__lambda__` functions (with the
 * names their marshalled bytecode references), objects whose module lies
 * outside Keras, `enable_unsafe_deserialization`, `get_file`,
 * TorchModuleWrapper (its pickled module is scanned as a member of ctx,
 * named "<member>!TorchModuleWrapper") and TFSMLayer. Text that is not valid
 * JSON is reported as KERAS-CONFIG-MALFORMED, a config over the size or
 * depth limits as SCAN-LIMIT. `json` need not be NUL-terminated. Returns
 * MS_OK when the findings are complete, MS_NOMEM when memory ran out. */
MS_WARN_UNUSED ms_status keras_config_scan(ms_scan_ctx *ctx, const char *location, const char *json,
                                           size_t len);

/* The same, adding every key of `extra` (may be NULL; not taken) to the
 * details of each finding: the HDF5 scanner passes {"attribute":
 * "model_config", "keras_version": ..., "backend": ...}. */
MS_WARN_UNUSED ms_status keras_config_scan_ex(ms_scan_ctx *ctx, const char *location,
                                              const json_t *extra, const char *json, size_t len);

/* For the ZIP module: analyses member `member` (normally "config.json") of
 * the Keras v3 archive ctx is scanning, at location "<ctx->location>!<member>",
 * with details.attribute = member. */
MS_WARN_UNUSED ms_status keras_v3_scan_archive_config(ms_scan_ctx *ctx, const char *member,
                                                      const uint8_t *data, size_t len);

#endif
