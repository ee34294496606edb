/* safetensors_scan.h - the safetensors analyser: header validation. */
#ifndef MS_SAFETENSORS_SCAN_H
#define MS_SAFETENSORS_SCAN_H

#include "../../core/scan_ctx.h"

/* The reference loader refuses headers longer than this (100 MB). */
#define SAFETENSORS_MAX_HEADER 100000000ULL

/* Content probe: an 8-byte little-endian header length whose top two bytes
 * are zero, followed by '{'. The length is not compared with the file size
 * here, so a header that claims more than the file holds is still
 * recognised - and reported - as a broken safetensors file. */
bool safetensors_probe(const uint8_t *data, size_t len);

/* Validates the header the way the reference loader does, and stricter;
 * reports SAFETENSORS-MALFORMED naming the first problem. Reads only the
 * header: the time taken does not depend on the size of the weights. */
ms_status safetensors_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* The header's "__metadata__" object (a new reference: string keys to
 * string values only), or NULL when the file has no header that parses as
 * strict JSON or no valid metadata. For checks of what the metadata says
 * (secrets, provenance); reads only the header. */
json_t *safetensors_metadata(const uint8_t *data, size_t len);

#endif
