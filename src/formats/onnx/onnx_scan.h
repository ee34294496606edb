/* onnx_scan.h - the ONNX analyser (ModelProto files, whatever their name). */
#ifndef MS_ONNX_SCAN_H
#define MS_ONNX_SCAN_H

#include "../../core/scan_ctx.h"

/* Content probe: the whole buffer is a sequence of well-formed protobuf
 * fields with ir_version (field 1) as a varint and a graph (field 7) or a
 * function (field 25) that is itself a well-formed message. */
bool onnx_probe(const uint8_t *data, size_t len);

/* Walks the model (graphs, subgraphs in attributes, functions, training
 * graphs, tensors) and reports custom-domain operators, external data
 * locations that leave the model folder and anything malformed. */
ms_status onnx_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* Called for each model-level metadata_props entry (ModelProto field 14), in
 * file order; key and value are the raw bytes (not NUL-terminated). Return
 * false to stop. */
typedef bool (*onnx_metadata_fn)(void *ud, const uint8_t *key, size_t key_len, const uint8_t *value,
                                 size_t value_len);

/* Hands every metadata_props entry of the model in `data` to fn (for the
 * secrets and provenance checks). Returns MS_OK, or MS_MALFORMED when the
 * model or an entry cannot be parsed (entries before the break were seen). */
ms_status onnx_metadata_foreach(const uint8_t *data, size_t len, onnx_metadata_fn fn, void *ud);

/* Why an external-data location leaves the folder of the model that names
 * it ("an absolute path", "climbs out of the model folder" ...), or NULL
 * when it stays inside. Exposed for the unit tests. */
const char *onnx_location_escapes(const uint8_t *loc, size_t len);

#endif
