/* zip_scan.h - the ZIP analyser: PyTorch zip checkpoints, TorchScript
 * archives, NumPy .npz, Keras v3 .keras and any other ZIP archive. */
#ifndef MS_ZIP_SCAN_H
#define MS_ZIP_SCAN_H

#include "../../core/scan_ctx.h"

/* Reports the archive's structural problems (tampering, unsafe names,
 * malformation), dispatches every member a loader could read through
 * ms_scan_member (PyTorch storages are checked structurally only) and sets
 * ctx->format_detail ("pytorch-zip", "torchscript", "npz", "keras-v3").
 * Returns MS_NOMEM when memory ran out, MS_OK otherwise. */
ms_status zip_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

#endif
