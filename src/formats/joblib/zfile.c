/*
 * zfile.c - joblib's old "zfile" layout (joblib < 0.10, still read by
 * joblib.load through numpy_pickle_compat.read_zfile):
 *
 *   offset 0   "ZF"
 *   offset 2   the uncompressed length as hex text ("0x1f4"), left-justified
 *              and padded with spaces to 19 bytes (len(hex(2**64)))
 *   offset 21  an optional extra space (files from joblib <= 0.8.4)
 *   then       a zlib stream holding a pickle
 *
 * Parsed by hand (it is 21 bytes of header); inflated with zlib into a buffer
 * reserved against the budget first, then dispatched by content like any
 * container member.
 */
#include "zfile.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { ZF_HEADER = 2 + 19 };

bool zfile_probe(const uint8_t *data, size_t len)
{
    return len > ZF_HEADER && memcmp(data, "ZF0x", 4) == 0;
}

static void malformed(ms_scan_ctx *ctx, const char *why)
{
    ms_report_add(ctx->report, "JOBLIB-ZFILE-MALFORMED", ctx->location,
                  json_pack("{s:s}", "error", why),
                  "The file has the header of a joblib zfile (a zlib-compressed pickle) but %s; "
                  "its content could not be analysed.",
                  why);
}

ms_status zfile_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    uint64_t declared = 0;
    size_t i = 4;
    for (; i < ZF_HEADER && data[i] != ' '; i++) {
        uint8_t c = data[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0 || declared > (UINT64_MAX >> 4)) {
            malformed(ctx, "its length field is not a hexadecimal number");
            return MS_OK;
        }
        declared = declared * 16 + (uint64_t)d;
    }
    for (; i < ZF_HEADER; i++) {
        if (data[i] != ' ') {
            malformed(ctx, "its length field is not padded with spaces");
            return MS_OK;
        }
    }
    size_t start = ZF_HEADER;
    if (start < len && data[start] == ' ')
        start++;
    ctx->format_detail = "joblib-zfile";
    if (!ms_budget_expand(ctx, declared, "the joblib zfile"))
        return MS_LIMIT;
    uint8_t *out = malloc(declared ? (size_t)declared : 1);
    if (!out)
        return MS_NOMEM;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK) {
        free(out);
        return MS_NOMEM;
    }
    zs.next_in = (Bytef *)(data + start);
    zs.next_out = out;
    size_t in_left = len - start;
    uint64_t out_left = declared;
    int rc = Z_OK;
    /* feed in chunks that fit zlib's 32-bit counters */
    while (rc == Z_OK) {
        zs.avail_in = (uInt)(in_left > (1u << 30) ? (1u << 30) : in_left);
        zs.avail_out = (uInt)(out_left > (1u << 30) ? (1u << 30) : out_left);
        uInt ain = zs.avail_in, aout = zs.avail_out;
        rc = inflate(&zs, Z_NO_FLUSH);
        in_left -= ain - zs.avail_in;
        out_left -= aout - zs.avail_out;
        if (rc == Z_OK && zs.avail_out > 0 && zs.avail_in > 0)
            continue;
        if (rc == Z_OK && out_left == 0 && in_left > 0) {
            /* more output than declared: check whether the stream ends */
            uint8_t probe;
            zs.next_out = &probe;
            zs.avail_out = 1;
            zs.avail_in = (uInt)(in_left > (1u << 30) ? (1u << 30) : in_left);
            rc = inflate(&zs, Z_NO_FLUSH);
            if (zs.avail_out == 0)
                rc = Z_DATA_ERROR; /* it does not: longer than declared */
            break;
        }
        if (rc == Z_OK && (in_left == 0 || out_left == 0))
            rc = Z_BUF_ERROR;
    }
    inflateEnd(&zs);
    size_t produced = (size_t)(declared - out_left);
    if (rc != Z_STREAM_END || produced != declared)
        malformed(ctx, rc == Z_STREAM_END ? "the stream is shorter than its declared length"
                                          : "its zlib stream is broken or longer than declared");
    /* whatever was inflated is analysed: a loader would have run it */
    ms_status st = ms_scan_member(ctx, "<decompressed>", out, produced);
    free(out);
    return st;
}
