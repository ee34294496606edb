/*
 * strbuf.h - a growable text buffer with a hard cap.
 *
 * Appends past the cap are dropped and `truncated` is set; the buffer stays
 * NUL-terminated. Allocation failure also sets `truncated` (and `nomem`), so
 * callers can build text without checking every call.
 */
#ifndef MS_STRBUF_H
#define MS_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_scanner.h"

typedef struct ms_strbuf {
    char *data;
    size_t len, cap, max;
    bool truncated;
    bool nomem;
} ms_strbuf;

void ms_strbuf_init(ms_strbuf *sb, size_t max);
void ms_strbuf_free(ms_strbuf *sb);
void ms_strbuf_append(ms_strbuf *sb, const char *s, size_t n);
void ms_strbuf_puts(ms_strbuf *sb, const char *s);
void ms_strbuf_printf(ms_strbuf *sb, const char *fmt, ...) MS_PRINTF(2, 3);
void ms_strbuf_vprintf(ms_strbuf *sb, const char *fmt, va_list ap) MS_PRINTF(2, 0);
/* Appends bytes as a Python-style quoted literal ('...' or b'...'), escaping
 * non-printables and shortening to `maxshow` bytes with an ellipsis. */
void ms_strbuf_quote(ms_strbuf *sb, const uint8_t *p, size_t n, bool bytes, size_t maxshow);
/* Returns the text (never NULL; "" on failure) and gives up ownership. */
char *ms_strbuf_take(ms_strbuf *sb);
/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid. */
size_t ms_utf8_seq_len(const uint8_t *p, size_t n);
/* Replaces control characters (except newline and tab) and invalid UTF-8
 * bytes with '?' in place, so text is safe for JSON and terminals. */
void ms_sanitize_text(char *s);
char *ms_strdup_printf(const char *fmt, ...) MS_PRINTF(1, 2);
/* The same from a va_list, at most `max` bytes (then truncated). */
char *ms_strdup_vprintf(size_t max, const char *fmt, va_list ap) MS_PRINTF(2, 0);

#endif
