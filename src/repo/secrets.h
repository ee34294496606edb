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

/* Scratch space kept across many small scans (the metadata values of one
 * file), so each does not allocate its own. NULL when memory ran out (the
 * scans then allocate as usual); secrets_scratch_free accepts NULL. */
typedef struct secrets_scratch secrets_scratch;
secrets_scratch *secrets_scratch_new(void);
void secrets_scratch_free(secrets_scratch *s);

/* The same for one metadata value of a model file (a GGUF key's string or
 * strings): `key` goes to details.key; `vocabulary` says the value is a
 * tokenizer vocabulary, in which only credentials are reported. `scratch`
 * may be NULL. */
ms_status secrets_scan_metadata(ms_report *report, const char *location, const char *key,
                                const uint8_t *data, size_t len, const char *origin,
                                bool vocabulary, secrets_scratch *scratch);

#endif
