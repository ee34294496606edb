/* tfgraph_scan.h - TensorFlow graphs: SavedModel (saved_model.pb), frozen
 * GraphDef (.pb), Keras' keras_metadata.pb and SavedModel fingerprints,
 * recognised from their content whatever their name. */
#ifndef MS_TFGRAPH_SCAN_H
#define MS_TFGRAPH_SCAN_H

#include "../../core/scan_ctx.h"

/* SavedModel: a well-formed message with a meta graph (field 2) holding a
 * graph_def (field 2) with at least one node that has a plausible op name,
 * or a function library. */
bool tf_savedmodel_probe(const uint8_t *data, size_t len);
ms_status tf_savedmodel_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* Bare GraphDef (a frozen graph): a well-formed message whose nodes (field 1)
 * are all messages and at least one has a plausible op name. */
bool tf_graphdef_probe(const uint8_t *data, size_t len);
ms_status tf_graphdef_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* keras_metadata.pb (SavedMetadata): only field 1 (SavedObject) entries, at
 * least one with a Keras identifier ("_tf_keras_..."). */
bool tf_keras_metadata_probe(const uint8_t *data, size_t len);
ms_status tf_keras_metadata_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* fingerprint.pb (FingerprintDef): hashes only, recognised so it is not
 * reported as an unknown binary. */
bool tf_fingerprint_probe(const uint8_t *data, size_t len);

/* Called for each SavedObject of a keras_metadata.pb: its identifier
 * ("_tf_keras_layer" ...), node path and metadata (a JSON text with the
 * layer's config), raw bytes. Return false to stop. */
typedef bool (*tf_keras_object_fn)(void *ud, const uint8_t *identifier, size_t identifier_len,
                                   const uint8_t *path, size_t path_len, const uint8_t *metadata,
                                   size_t metadata_len);

/* Hands every SavedObject of a keras_metadata.pb to fn (for the Keras config
 * checks). MS_OK, or MS_MALFORMED when the file cannot be fully parsed. */
ms_status tf_keras_metadata_foreach(const uint8_t *data, size_t len, tf_keras_object_fn fn,
                                    void *ud);

#endif
