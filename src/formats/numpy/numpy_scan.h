/* numpy_scan.h - the NumPy .npy analyser (see numpy_scan.c). */
#ifndef MS_NUMPY_SCAN_H
#define MS_NUMPY_SCAN_H

#include "../../core/scan_ctx.h"

/* Content probe: the .npy magic "\x93NUMPY" at offset 0. */
bool numpy_probe(const uint8_t *data, size_t len);

/* Checks the header and the data size; an object array's data (a pickle) is
 * handed to the pickle analyser at ctx->location. Findings go to
 * ctx->report; returns MS_NOMEM when memory ran out, MS_OK otherwise. */
ms_status numpy_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

#endif
