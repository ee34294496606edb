/*
 * format.h - the contract every format module implements: a content probe
 * and (optionally) a scan function. src/formats/format_list.c registers them;
 * the dispatcher is a loop over that table.
 */
#ifndef MS_FORMAT_H
#define MS_FORMAT_H

#include "../core/scan_ctx.h"

typedef struct ms_format {
    const char *name; /* as reported in the report's "files" */
    bool (*probe)(const uint8_t *data, size_t len);
    /* NULL when the format is only recognised, not analysed */
    ms_status (*scan)(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
    /* recognised but unanalysed formats that can carry code are reported */
    bool may_carry_code;
} ms_format;

/* The registered formats, in probe order. */
const ms_format *ms_formats(size_t *count);
/* The first format whose probe accepts the content (never NULL: the table
 * ends with catch-alls). */
const ms_format *ms_detect_format(const uint8_t *data, size_t len);

#endif
