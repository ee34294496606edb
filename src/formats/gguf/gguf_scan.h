/* gguf_scan.h - the GGUF analyser (GGML model files, versions 1 to 3). */
#ifndef MS_GGUF_SCAN_H
#define MS_GGUF_SCAN_H

#include "../../core/scan_ctx.h"

/* Walks the whole header - every metadata key and value, nested arrays,
 * every tensor info - checking each count and length against the bytes
 * left before using it, and the tensors' data against the file. Reports
 * GGUF-MALFORMED for the first problem; hands tokenizer.chat_template and
 * tokenizer.chat_template.* values to the chat template analyser. Tensor
 * data is never read. */
ms_status gguf_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

#endif
