/*
 * format_list.c - every format the scanner recognises, in probe order.
 * Formats are detected from content only (magic bytes and structure), never
 * from the file name. Specific magics come first, structural probes next,
 * text and binary catch-alls last.
 */
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "archive/archive_scan.h"
#include "gguf/gguf_scan.h"
#include "json/json_scan.h"
#include "safetensors/safetensors_scan.h"
#include "../repo/integrity.h"
#include "../repo/pyscan.h"
#include "joblib/zfile.h"
#include "keras/hdf5_scan.h"
#include "numpy/numpy_scan.h"
#include "onnx/onnx_scan.h"
#include "pickle/pickle_scan.h"
#include "tfgraph/tfgraph_scan.h"
#include "zip/zip_scan.h"
#include "../util/strbuf.h"

static bool has_prefix(const uint8_t *d, size_t n, const void *magic, size_t m)
{
    return n >= m && memcmp(d, magic, m) == 0;
}

static bool probe_zip(const uint8_t *d, size_t n)
{
    if (has_prefix(d, n, "PK\x03\x04", 4) || has_prefix(d, n, "PK\x05\x06", 4))
        return true;
    /* polyglots: data before the first member; look for the end record */
    size_t tail = n < 65557 ? n : 65557;
    for (size_t i = n >= 22 ? n - 22 : 0; n >= 22 && i + 1 > n - tail; i--) {
        if (d[i] == 'P' && memcmp(d + i, "PK\x05\x06", 4) == 0)
            return true;
        if (i == 0)
            break;
    }
    return false;
}

static bool probe_gzip(const uint8_t *d, size_t n) { return has_prefix(d, n, "\x1f\x8b", 2); }
static bool probe_bzip2(const uint8_t *d, size_t n)
{
    return n >= 4 && memcmp(d, "BZh", 3) == 0 && d[3] >= '1' && d[3] <= '9';
}
static bool probe_xz(const uint8_t *d, size_t n)
{
    return has_prefix(d, n, "\xfd" "7zXZ\x00", 6);
}
static bool probe_zstd(const uint8_t *d, size_t n)
{
    return has_prefix(d, n, "\x28\xb5\x2f\xfd", 4);
}
static bool probe_lz4(const uint8_t *d, size_t n)
{
    return has_prefix(d, n, "\x04\x22\x4d\x18", 4);
}
static bool probe_7z(const uint8_t *d, size_t n)
{
    return has_prefix(d, n, "7z\xbc\xaf\x27\x1c", 6);
}
static bool probe_tar(const uint8_t *d, size_t n)
{
    return n >= 262 && memcmp(d + 257, "ustar", 5) == 0;
}
static bool probe_hdf5(const uint8_t *d, size_t n)
{
    /* the superblock may sit at 0, 512, 1024, 2048 ... */
    for (size_t off = 0; off < n && off <= (1u << 20); off = off ? off * 2 : 512)
        if (has_prefix(d + off, n - off, "\x89HDF\r\n\x1a\n", 8))
            return true;
    return false;
}
static bool probe_gguf(const uint8_t *d, size_t n) { return has_prefix(d, n, "GGUF", 4); }

static bool probe_json(const uint8_t *d, size_t n)
{
    size_t i = 0;
    if (n >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
        i++;
    return i < n && (d[i] == '{' || d[i] == '[') && memchr(d, 0, n < 4096 ? n : 4096) == NULL;
}

static bool probe_text(const uint8_t *d, size_t n)
{
    size_t look = n < 8192 ? n : 8192;
    if (memchr(d, 0, look))
        return false;
    size_t i = 0;
    while (i < look) {
        if (d[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = ms_utf8_seq_len(d + i, look - i);
        if (k == 0)
            return look - i < 4 && look < n; /* a sequence cut by the window */
        i += k;
    }
    return true;
}

static bool probe_empty(const uint8_t *d, size_t n)
{
    (void)d;
    return n == 0;
}

static bool probe_any(const uint8_t *d, size_t n)
{
    (void)d;
    (void)n;
    return true;
}

/* No analyser recognised the content: say so rather than pass it silently.
 * (A loader with its own format, an encrypted or obfuscated payload, or
 * weights in a format this version does not know.) */
static ms_status binary_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    char head[16 * 3 + 1];
    size_t n = len < 16 ? len : 16;
    for (size_t i = 0; i < n; i++)
        snprintf(head + 3 * i, 4, "%02x ", data[i]);
    head[n ? 3 * n - 1 : 0] = '\0';
    ms_report_add(ctx->report, "FORMAT-UNRECOGNISED", ctx->location,
                  json_pack("{s:s, s:I}", "first_bytes", head, "size", (json_int_t)len),
                  "The content is binary data in no format the scanner recognises (first "
                  "bytes: %s); it was not analysed.",
                  head);
    return MS_OK;
}

static ms_status python_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return pyscan_file(ctx, data, len);
}

static const ms_format formats[] = {
    {"empty", probe_empty, NULL, false},
    {"zip", probe_zip, zip_scan, true},
    {"7z", probe_7z, archive_scan_7z, true},
    {"gzip", probe_gzip, archive_scan_gzip, true},
    {"bzip2", probe_bzip2, archive_scan_bzip2, true},
    {"xz", probe_xz, archive_scan_xz, true},
    {"zstd", probe_zstd, archive_scan_zstd, true},
    {"lz4", probe_lz4, archive_scan_lz4, true},
    {"tar", probe_tar, archive_scan_tar, true},
    {"numpy", numpy_probe, numpy_scan, true},
    {"hdf5", probe_hdf5, hdf5_scan, true},
    {"gguf", probe_gguf, gguf_scan, true},
    {"safetensors", safetensors_probe, safetensors_scan, false},
    {"git-lfs-pointer", lfs_pointer_probe, lfs_pointer_scan, false},
    {"joblib-zfile", zfile_probe, zfile_scan, true},
    {"pickle", pickle_probe, pickle_scan, true},
    /* after pickle: a 2-byte header that protocol-0 pickles can resemble */
    {"zlib", archive_probe_zlib, archive_scan_zlib, true},
    {"lzma", archive_probe_lzma, archive_scan_lzma, true},
    /* protobuf has no magic: whole-buffer structural probes */
    {"onnx", onnx_probe, onnx_scan, true},
    {"tf-savedmodel", tf_savedmodel_probe, tf_savedmodel_scan, true},
    {"tf-keras-metadata", tf_keras_metadata_probe, tf_keras_metadata_scan, true},
    {"tf-graphdef", tf_graphdef_probe, tf_graphdef_scan, true},
    {"tf-fingerprint", tf_fingerprint_probe, NULL, false},
    {"json", probe_json, jsonfile_scan, false},
    {"python", pyscan_probe, python_scan, false},
    {"text", probe_text, template_text_scan, false},
    {"binary", probe_any, binary_scan, false},
};

const ms_format *ms_formats(size_t *count)
{
    *count = sizeof(formats) / sizeof(formats[0]);
    return formats;
}

const ms_format *ms_detect_format(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (formats[i].probe(data, len))
            return &formats[i];
    return &formats[sizeof(formats) / sizeof(formats[0]) - 1];
}
