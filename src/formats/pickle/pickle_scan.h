/* pickle_scan.h - the pickle analyser (raw pickle files and pickle members). */
#ifndef MS_PICKLE_SCAN_H
#define MS_PICKLE_SCAN_H

#include "../../core/scan_ctx.h"

/* Content probe: does a pickle stream start at data[start]? Protocol 2+
 * streams start with PROTO; protocol 0/1 streams are recognised by running
 * the VM for a bounded number of opcodes. */
bool pickle_looks_like_stream(const ms_limits *limits, const uint8_t *data, size_t len,
                              size_t start);
bool pickle_probe(const uint8_t *data, size_t len);

/* Analyses every pickle stream in data; findings go to ctx->report at
 * ctx->location, including the "Insecure Pickle Loading" finding. */
ms_status pickle_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

#endif
