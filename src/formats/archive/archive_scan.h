/*
 * archive_scan.h - containers other than ZIP: 7z and tar archives, and single
 * compressed streams (gzip, bzip2, xz, zstd, lz4 frames, raw zlib).
 *
 * Each probe looks at content only. Each scan function reads the container
 * from memory (never from or to the file system) and hands every member, or
 * the one decompressed stream, to ms_scan_member(). Members are read in
 * bounded chunks against the per-file budget, the per-member limit and the
 * decompression-ratio limit; a limit, a broken container, an encrypted
 * member or an unsafe member name is reported as a finding.
 */
#ifndef MS_ARCHIVE_SCAN_H
#define MS_ARCHIVE_SCAN_H

#include "../../core/scan_ctx.h"

/* The magic-number probes of 7z, tar, gzip, bzip2, xz, zstd and lz4 live in
 * src/formats/format_list.c. */

/* RFC 1950 header check, and the first bytes must inflate without error:
 * a 2-byte header alone matches about one binary file in a thousand. */
bool archive_probe_zlib(const uint8_t *data, size_t len);

/* Scan functions: findings go to ctx->report; the status is MS_OK unless
 * memory ran out (MS_NOMEM) or a limit stopped the whole container
 * (MS_LIMIT). Problems with the content are findings, not statuses. */
ms_status archive_scan_7z(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status archive_scan_tar(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status archive_scan_gzip(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status archive_scan_bzip2(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status archive_scan_xz(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status archive_scan_zstd(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status archive_scan_lz4(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status archive_scan_zlib(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
/* legacy "LZMA alone" streams (.lzma; joblib compress='lzma') */
bool archive_probe_lzma(const uint8_t *data, size_t len);
ms_status archive_scan_lzma(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

#endif
