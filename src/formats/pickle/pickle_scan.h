/* pickle_scan.h - the pickle analyser (raw pickle files and pickle members). */
#ifndef MS_PICKLE_SCAN_H
#define MS_PICKLE_SCAN_H

#include "../../core/scan_ctx.h"

/* Content probe: does a pickle stream start at data[start]? Protocol 2+
 * streams start with PROTO; protocol 0/1 streams are recognised by running
 * the VM for a bounded number of opcodes. */
bool pickle_looks_like_stream(const ms_limits *limits, const uint8_t *data, size_t len,
                              size_t start);
bool pickle_probe(const uint8_t *data, size_t len);

/* Analyses every pickle stream in data; findings go to ctx->report at
 * ctx->location, including the "Insecure Pickle Loading" finding. */
ms_status pickle_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* Pickle streams of one buffer analysed one at a time, for layouts that put
 * raw data between them (the members of a pre-1.0 torch tar): the caller
 * says where each stream starts. Imports and calls are collected over every
 * stream and reported by pickle_session_finish, at ctx->location, as
 * pickle_scan reports a file. */
typedef struct pickle_session pickle_session;
struct pickle_value;

/* NULL when memory ran out. `data` must outlive the session. */
pickle_session *pickle_session_new(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
/* Runs the stream at data[off]: returns the value its STOP returns (valid
 * until the next run) and sets *end past the STOP; NULL, after reporting it,
 * when the stream breaks or a limit (streams per file, opcodes ...) stops it. */
const struct pickle_value *pickle_session_run(pickle_session *s, size_t off, size_t *end);
/* The element size of a torch storage class (torch.FloatStorage -> 4) when
 * `v` is that global, else 0. */
unsigned pickle_session_storage_elsize(const pickle_session *s, const struct pickle_value *v);
/* Reports the globals seen and PICKLE-INSECURE-FORMAT. */
void pickle_session_finish(pickle_session *s);
/* Frees the session (NULL is fine); MS_NOMEM if memory ran out in it. */
ms_status pickle_session_free(pickle_session *s);

#endif
