/* torchscript.h - facts about the code a TorchScript archive carries. */
#ifndef MS_TORCHSCRIPT_H
#define MS_TORCHSCRIPT_H

#include "../../core/scan_ctx.h"

typedef struct torchscript_code {
    json_t *files;      /* code file names, in archive order (capped) */
    json_t *calls;      /* object used as a set of the distinct names called (capped) */
    uint64_t nfiles;    /* code files seen */
    uint64_t dangerous; /* dangerous call sites seen */
    uint64_t dangerous_reported;
} torchscript_code;

void torchscript_code_init(torchscript_code *tc);
void torchscript_code_free(torchscript_code *tc);

/* Reads one TorchScript source file (`member`, a code/ member of the archive
 * at ctx->location) line by line: records the names it calls and reports
 * each call site of a custom operator namespace, a custom C++ class, open(),
 * os., subprocess, eval, exec or __import__ as TORCHSCRIPT-DANGEROUS-CALL at
 * "<ctx->location>!<member>:<line>". */
void torchscript_scan_source(ms_scan_ctx *ctx, torchscript_code *tc, const char *member,
                             const uint8_t *src, size_t len);

/* The TORCHSCRIPT-CODE finding for the archive (when it has code files). */
void torchscript_report(ms_scan_ctx *ctx, torchscript_code *tc);

#endif
