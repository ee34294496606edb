/*
 * integrity.h - file integrity checks: permissions, Git LFS pointers left in
 * place of content, Hugging Face cache blobs against their names, and a
 * user-supplied sha256sum manifest.
 */
#ifndef MS_INTEGRITY_H
#define MS_INTEGRITY_H

#include <sys/types.h>

#include "../core/scan_ctx.h"

/* Format module for Git LFS pointer files ("Missing Model Content"). */
bool lfs_pointer_probe(const uint8_t *data, size_t len);
ms_status lfs_pointer_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* Executable or set-id bits on a file whose detected format is model data. */
void integrity_check_mode(ms_report *report, const char *rel, mode_t mode, const char *format);

/* Git's object id of a blob: sha1("blob <len>\0" + data), hex. */
void integrity_git_blob_sha1(const uint8_t *data, size_t len, char out[41]);

/* A Hugging Face cache blob (blobs/<name>) checked against its name: the
 * sha256 of the content for LFS files (64 hex digits), the git blob sha1
 * otherwise (40). `sha256` may be empty when hashing was off. */
void integrity_check_blob(ms_report *report, const char *rel, const char *blob_name,
                          const uint8_t *data, size_t len, const char *sha256);

/* A sha256sum-format manifest ("<64 hex>  path" or "<64 hex> *path"). */
typedef struct ms_manifest ms_manifest;
/* Loads the manifest; on a read or syntax error returns NULL and sets *error
 * to a static message and *line to the line number (0 when not a line). */
ms_manifest *manifest_load(const char *path, const char **error, size_t *line);
void manifest_free(ms_manifest *m);
/* Compares every file of the report with the manifest: mismatches, files the
 * manifest lists that are missing, and files it does not list. */
void manifest_check(ms_report *report, const ms_manifest *m);
size_t manifest_count(const ms_manifest *m);

#endif
