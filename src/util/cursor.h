/*
 * cursor.h - one bounded reader for all untrusted binary input.
 *
 * A cursor is a base pointer, a length and an offset. Every read checks the
 * remaining length first; a short read returns zero/NULL and sets a sticky
 * error flag, so a parser can read a whole header and test `cur.error` once.
 * No struct is ever laid over file bytes.
 */
#ifndef MS_CURSOR_H
#define MS_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ms_cursor {
    const uint8_t *base;
    size_t len;
    size_t off;
    bool error;
} ms_cursor;

static inline ms_cursor ms_cursor_make(const uint8_t *base, size_t len)
{
    ms_cursor c = {base, len, 0, false};
    return c;
}

static inline size_t ms_cursor_left(const ms_cursor *c)
{
    return c->off <= c->len ? c->len - c->off : 0;
}

/* Returns a pointer to the next n bytes and advances, or NULL (sticky error). */
static inline const uint8_t *ms_cursor_take(ms_cursor *c, size_t n)
{
    if (c->error || n > ms_cursor_left(c)) {
        c->error = true;
        return NULL;
    }
    const uint8_t *p = c->base + c->off;
    c->off += n;
    return p;
}

static inline bool ms_cursor_skip(ms_cursor *c, uint64_t n)
{
    if (c->error || n > ms_cursor_left(c)) {
        c->error = true;
        return false;
    }
    c->off += (size_t)n;
    return true;
}

static inline uint8_t ms_cursor_u8(ms_cursor *c)
{
    const uint8_t *p = ms_cursor_take(c, 1);
    return p ? p[0] : 0;
}

static inline uint16_t ms_cursor_u16le(ms_cursor *c)
{
    const uint8_t *p = ms_cursor_take(c, 2);
    return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

static inline uint32_t ms_cursor_u32le(ms_cursor *c)
{
    const uint8_t *p = ms_cursor_take(c, 4);
    return p ? (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                   ((uint32_t)p[3] << 24)
             : 0;
}

static inline uint64_t ms_cursor_u64le(ms_cursor *c)
{
    const uint8_t *p = ms_cursor_take(c, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Reads up to and excluding the next '\n' (consumed); NULL when none. */
static inline const uint8_t *ms_cursor_line(ms_cursor *c, size_t *linelen)
{
    size_t left = ms_cursor_left(c);
    if (c->error || left == 0) {
        c->error = true;
        return NULL;
    }
    const uint8_t *p = c->base + c->off;
    const uint8_t *nl = memchr(p, '\n', left);
    if (!nl) {
        c->error = true;
        return NULL;
    }
    *linelen = (size_t)(nl - p);
    c->off += *linelen + 1;
    return p;
}

#endif
