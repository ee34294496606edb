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

/* The same over a read-only file mapping: scanned in 16 MiB blocks whose
 * pages are released behind, so memory does not grow with the file. */
ms_status secrets_scan_mapped(ms_report *report, const char *location, const uint8_t *data,
                              size_t len, const char *origin);

#endif
