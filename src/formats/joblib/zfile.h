/* zfile.h - joblib's old zlib "zfile" layout (see zfile.c). */
#ifndef MS_ZFILE_H
#define MS_ZFILE_H

#include "../../core/scan_ctx.h"

bool zfile_probe(const uint8_t *data, size_t len);
ms_status zfile_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

#endif
