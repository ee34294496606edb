/* strbuf.c - capped growable text buffer (see strbuf.h). */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ms_strbuf_init(ms_strbuf *sb, size_t max)
{
    memset(sb, 0, sizeof(*sb));
    sb->max = max ? max : 1;
}

void ms_strbuf_free(ms_strbuf *sb)
{
    free(sb->data);
    memset(sb, 0, sizeof(*sb));
}

static bool strbuf_reserve(ms_strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap)
        return true;
    size_t want = sb->cap ? sb->cap : 64;
    while (want < sb->len + extra + 1)
        want *= 2;
    if (want > sb->max + 1)
        want = sb->max + 1;
    char *p = realloc(sb->data, want);
    if (!p) {
        sb->nomem = sb->truncated = true;
        return false;
    }
    sb->data = p;
    sb->cap = want;
    return true;
}

void ms_strbuf_append(ms_strbuf *sb, const char *s, size_t n)
{
    if (sb->len + n > sb->max) {
        n = sb->max - sb->len;
        sb->truncated = true;
    }
    if (n == 0 && sb->data)
        return;
    if (!strbuf_reserve(sb, n))
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void ms_strbuf_puts(ms_strbuf *sb, const char *s)
{
    ms_strbuf_append(sb, s, strlen(s));
}

void ms_strbuf_vprintf(ms_strbuf *sb, const char *fmt, va_list ap)
{
    char small[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof(small), fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        ms_strbuf_append(sb, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        sb->nomem = sb->truncated = true;
        return;
    }
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    ms_strbuf_append(sb, big, (size_t)n);
    free(big);
}

void ms_strbuf_printf(ms_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ms_strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

size_t ms_utf8_seq_len(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    uint8_t c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void ms_strbuf_quote(ms_strbuf *sb, const uint8_t *p, size_t n, bool bytes, size_t maxshow)
{
    static const char hex[] = "0123456789abcdef";
    size_t show = n > maxshow ? maxshow : n;
    if (bytes)
        ms_strbuf_puts(sb, "b");
    ms_strbuf_puts(sb, "'");
    for (size_t i = 0; i < show; i++) {
        uint8_t c = p[i];
        char esc[5];
        if (c == '\\' || c == '\'') {
            esc[0] = '\\';
            esc[1] = (char)c;
            ms_strbuf_append(sb, esc, 2);
        } else if (c == '\n') {
            ms_strbuf_append(sb, "\\n", 2);
        } else if (c >= 0x20 && c < 0x7f) {
            esc[0] = (char)c;
            ms_strbuf_append(sb, esc, 1);
        } else if (c >= 0x80 && !bytes && ms_utf8_seq_len(p + i, show - i) > 0) {
            /* keep valid UTF-8 text readable; anything else is escaped */
            size_t k = ms_utf8_seq_len(p + i, show - i);
            ms_strbuf_append(sb, (const char *)p + i, k);
            i += k - 1;
        } else {
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            ms_strbuf_append(sb, esc, 4);
        }
    }
    ms_strbuf_puts(sb, "'");
    if (show < n)
        ms_strbuf_printf(sb, "...(%zu bytes)", n);
}

char *ms_strbuf_take(ms_strbuf *sb)
{
    char *s = sb->data;
    if (!s)
        s = calloc(1, 1);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    return s;
}

char *ms_strdup_vprintf(size_t max, const char *fmt, va_list ap)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, max);
    ms_strbuf_vprintf(&sb, fmt, ap);
    return ms_strbuf_take(&sb);
}

char *ms_strdup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ms_strdup_vprintf((size_t)1 << 20, fmt, ap);
    va_end(ap);
    return s;
}

void ms_sanitize_text(char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                s[i] = '?';
            i++;
            continue;
        }
        size_t k = ms_utf8_seq_len((const uint8_t *)s + i, n - i);
        if (k == 0) {
            s[i++] = '?';
            continue;
        }
        i += k;
    }
}
