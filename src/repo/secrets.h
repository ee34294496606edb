/*
 * secrets.h - credentials and personal data in text (Hyperscan).
 */
#ifndef MS_SECRETS_H
#define MS_SECRETS_H

#include "../core/scan_ctx.h"

/* Compiles the pattern database once; returns NULL or why it failed. */
const char *secrets_init(void);

/* Scans `data` (text, or the string-bearing bytes of a model file) and
 * reports one finding per kind of secret found, with redacted excerpts.
 * `origin` says where the text came from ("file content", "safetensors
 * __metadata__", "pickle string constants" ...). */
ms_status secrets_scan(ms_report *report, const char *location, const uint8_t *data,
                       size_t len, const char *origin);

#endif
