/*
 * npy_header.c - the .npy header parser and the Python literal reader it
 * uses (see npy_header.h and the format map in numpy_scan.c).
 *
 * numpy.load reads the header with ast.literal_eval. This reader accepts the
 * subset of Python literal syntax a header can legitimately use and refuses
 * the rest, so a header it accepts means to it what it means to numpy:
 *
 *   value   := dict | list | tuple | '(' value ')' | string+ | int | True | False | None
 *   dict    := '{' [value ':' value (',' value ':' value)* [',']] '}'
 *   list    := '[' [value (',' value)* [',']] ']'
 *   tuple   := '(' ')' | '(' value ',' [value (',' value)* [',']] ')'
 *   string  := [u|r|b|br|rb] quote ... quote      one or three ' or ", escapes as
 *                                                   Python 3 (\N{...} refused);
 *                                                   adjacent strings concatenate
 *   int     := ['+'|'-'] (decimal | 0x.. | 0o.. | 0b..) with '_' separators,
 *              and Python 2's 'L' suffix in version 1.0/2.0 headers (numpy strips it)
 *   spaces, tabs, form feeds, newlines and '#' comments between tokens
 *
 * Refused (a finding, never a guess): floats, complex numbers, sets, names
 * other than True/False/None, expressions, NUL bytes (Python refuses them in
 * source), invalid UTF-8 in a version 3.0 header. Every count, length and
 * depth is bounded (npy_header.h).
 *
 * The dtype is then read as numpy.lib.format.descr_to_dtype and numpy.dtype()
 * read it (padding fields, (type, shape) tuples, the C-int size bound), so
 * the item size and whether the data is a pickle are numpy's. Dtype strings
 * are accepted in the forms numpy writes only; a refused one that names an
 * object ('object', '2O') still marks the data as a pickle. A differential
 * run against numpy 1.24 on generated and mutated headers found no header
 * read differently (tests/unit/test_npy.c keeps the cases it taught).
 */
#include "npy_header.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/checked.h"
#include "../../util/cursor.h"
#include "../../util/strbuf.h"

static const uint8_t npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

typedef struct parser {
    ms_cursor cur; /* over the header text */
    npy_encoding enc;
    bool long_suffix;
    npy_literal *lit;
    npy_error *err;
} parser;

static void error_set(npy_error *err, ms_status st, size_t offset, const char *fmt, ...)
    MS_PRINTF(4, 5);

/* Records the first problem only: later ones are consequences. */
static void error_set(npy_error *err, ms_status st, size_t offset, const char *fmt, ...)
{
    if (err->status != MS_OK)
        return;
    err->status = st;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->what, sizeof(err->what), fmt, ap);
    va_end(ap);
}

/* Printable ASCII for messages and reports: other bytes as \xNN, shortened
 * with "..." to fit `cap` (which must be at least 8). */
static void render_text(char *out, size_t cap, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        size_t need = (c >= 0x20 && c < 0x7f) ? 1 : 4;
        if (o + need + 4 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* ---------------------------------------------------------------------------
 * the literal reader
 * ------------------------------------------------------------------------- */

static int peek(const parser *ps, size_t k)
{
    if (k >= ms_cursor_left(&ps->cur))
        return -1;
    return ps->cur.base[ps->cur.off + k];
}

static void advance(parser *ps, size_t n)
{
    (void)ms_cursor_skip(&ps->cur, n);
}

static int32_t fail(parser *ps, ms_status st, const char *fmt, ...) MS_PRINTF(3, 4);

static int32_t fail(parser *ps, ms_status st, const char *fmt, ...)
{
    if (ps->err->status == MS_OK) {
        ps->err->status = st;
        ps->err->offset = ps->cur.off;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err->what, sizeof(ps->err->what), fmt, ap);
        va_end(ap);
    }
    return -1;
}

static npy_node *node_at(parser *ps, int32_t i)
{
    return &ps->lit->nodes[i];
}

static int32_t new_node(parser *ps, npy_kind kind, size_t start)
{
    npy_literal *lit = ps->lit;
    if (lit->nnodes >= NPY_MAX_NODES)
        return fail(ps, MS_LIMIT, "more than %d values in the header", NPY_MAX_NODES);
    if (lit->nnodes == lit->nodes_cap) {
        size_t cap = lit->nodes_cap ? lit->nodes_cap * 2 : 16;
        npy_node *n = realloc(lit->nodes, cap * sizeof(*n));
        if (!n)
            return fail(ps, MS_NOMEM, "out of memory");
        lit->nodes = n;
        lit->nodes_cap = cap;
    }
    npy_node *n = &lit->nodes[lit->nnodes];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->first = n->next = -1;
    n->src_start = n->src_end = start;
    return (int32_t)lit->nnodes++;
}

/* Appends a parsed item to container `parent`; `*last` is its last item. */
static void link_item(parser *ps, int32_t parent, int32_t *last, int32_t item)
{
    if (*last < 0)
        node_at(ps, parent)->first = item;
    else
        node_at(ps, *last)->next = item;
    *last = item;
}

static bool put_bytes(parser *ps, const uint8_t *p, size_t n)
{
    npy_literal *lit = ps->lit;
    uint64_t want;
    if (!ms_add_u64(lit->strings_len, n, &want)) {
        fail(ps, MS_LIMIT, "string data too large");
        return false;
    }
    if (want > lit->strings_cap) {
        /* decoded text is at most 2 bytes per source byte (latin-1 to UTF-8,
         * and no escape expands more), and the source is bounded */
        if (want > 4u * NPY_MAX_HEADER_BYTES) {
            fail(ps, MS_LIMIT, "string data too large");
            return false;
        }
        size_t cap = lit->strings_cap ? lit->strings_cap : 64;
        while (cap < want)
            cap *= 2;
        uint8_t *s = realloc(lit->strings, cap);
        if (!s) {
            fail(ps, MS_NOMEM, "out of memory");
            return false;
        }
        lit->strings = s;
        lit->strings_cap = cap;
    }
    memcpy(lit->strings + lit->strings_len, p, n);
    lit->strings_len += n;
    return true;
}

/* UTF-8 of a code point; lone surrogates (which Python allows in str) are
 * kept in the same 3-byte form, the text is only compared, never printed raw. */
static bool put_codepoint(parser *ps, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return put_bytes(ps, b, n);
}

static void skip_space(parser *ps)
{
    for (;;) {
        int c = peek(ps, 0);
        if (c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\n') {
            advance(ps, 1);
        } else if (c == '#') {
            while ((c = peek(ps, 0)) >= 0 && c != '\n' && c != '\r')
                advance(ps, 1);
        } else {
            return;
        }
    }
}

static bool is_name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(int c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Does a string literal start here? Sets the prefix length and kind. */
static bool string_start(const parser *ps, size_t *prefix, bool *raw, bool *bytes)
{
    bool r = false, b = false, u = false;
    for (size_t k = 0; k < 3; k++) {
        int c = peek(ps, k);
        if (c == '\'' || c == '"') {
            *prefix = k;
            *raw = r;
            *bytes = b;
            return true;
        }
        if (k == 2)
            return false;
        if ((c == 'r' || c == 'R') && !r && !u)
            r = true;
        else if ((c == 'b' || c == 'B') && !b && !u)
            b = true;
        else if ((c == 'u' || c == 'U') && k == 0)
            u = true;
        else
            return false;
    }
    return false;
}

/* One source character of a string body, copied as UTF-8 (str) or as a
 * byte (bytes, ASCII only as in Python). */
static bool put_source_char(parser *ps, bool bytes)
{
    int c = peek(ps, 0);
    if (c < 0x80) {
        uint8_t b = (uint8_t)c;
        advance(ps, 1);
        return put_bytes(ps, &b, 1);
    }
    if (bytes) {
        fail(ps, MS_MALFORMED, "a bytes literal holds a non-ASCII character");
        return false;
    }
    if (ps->enc == NPY_LATIN1) {
        advance(ps, 1);
        return put_codepoint(ps, (uint32_t)c);
    }
    /* the whole text was checked to be valid UTF-8 */
    size_t k = ms_utf8_seq_len(ps->cur.base + ps->cur.off, ms_cursor_left(&ps->cur));
    const uint8_t *p = ms_cursor_take(&ps->cur, k ? k : 1);
    return p && put_bytes(ps, p, k ? k : 1);
}

/* A backslash escape of a non-raw string; the cursor is on the backslash. */
static bool put_escape(parser *ps, bool bytes)
{
    int d = peek(ps, 1);
    static const char simple_in[] = "\\'\"abfnrtv";
    static const char simple_out[] = "\\'\"\a\b\f\n\r\t\v";
    if (d < 0) {
        fail(ps, MS_MALFORMED, "unterminated string");
        return false;
    }
    if (d == '\n') { /* line continuation inside the string */
        advance(ps, 2);
        return true;
    }
    if (d == '\r') {
        advance(ps, 2);
        if (peek(ps, 0) == '\n')
            advance(ps, 1);
        return true;
    }
    const char *s = d ? strchr(simple_in, d) : NULL;
    if (s) {
        uint8_t b = (uint8_t)simple_out[s - simple_in];
        advance(ps, 2);
        return put_bytes(ps, &b, 1);
    }
    if (d >= '0' && d <= '7') {
        uint32_t v = 0;
        advance(ps, 1);
        for (int i = 0; i < 3 && peek(ps, 0) >= '0' && peek(ps, 0) <= '7'; i++) {
            v = v * 8 + (uint32_t)(peek(ps, 0) - '0');
            advance(ps, 1);
        }
        if (bytes) {
            uint8_t b = (uint8_t)(v & 0xff); /* as Python: b'\777' == b'\xff' */
            return put_bytes(ps, &b, 1);
        }
        return put_codepoint(ps, v);
    }
    int digits = d == 'x' ? 2 : (!bytes && d == 'u') ? 4 : (!bytes && d == 'U') ? 8 : 0;
    if (digits) {
        uint32_t v = 0;
        for (int i = 0; i < digits; i++) {
            int h = hex_value(peek(ps, 2 + (size_t)i));
            if (h < 0) {
                fail(ps, MS_MALFORMED, "truncated \\%c escape in a string", d);
                return false;
            }
            v = v * 16 + (uint32_t)h;
        }
        advance(ps, 2 + (size_t)digits);
        if (v > 0x10ffff) {
            fail(ps, MS_MALFORMED, "\\U escape beyond U+10FFFF in a string");
            return false;
        }
        if (bytes) {
            uint8_t b = (uint8_t)v;
            return put_bytes(ps, &b, 1);
        }
        return put_codepoint(ps, v);
    }
    if (d == 'N' && !bytes) {
        fail(ps, MS_MALFORMED, "\\N{...} escapes are not supported in a .npy header");
        return false;
    }
    /* unknown escape: Python keeps the backslash and the character */
    uint8_t bs = '\\';
    advance(ps, 1);
    return put_bytes(ps, &bs, 1);
}

/* One quoted part of a string literal; the cursor is on the opening quote. */
static bool parse_string_part(parser *ps, bool raw, bool bytes)
{
    int q = peek(ps, 0);
    advance(ps, 1);
    bool triple = peek(ps, 0) == q && peek(ps, 1) == q;
    if (triple)
        advance(ps, 2);
    for (;;) {
        int c = peek(ps, 0);
        if (c < 0) {
            fail(ps, MS_MALFORMED, "unterminated string");
            return false;
        }
        if (c == q) {
            if (!triple) {
                advance(ps, 1);
                return true;
            }
            if (peek(ps, 1) == q && peek(ps, 2) == q) {
                advance(ps, 3);
                return true;
            }
        }
        if ((c == '\n' || c == '\r') && !triple) {
            fail(ps, MS_MALFORMED, "unterminated string (a newline inside quotes)");
            return false;
        }
        if (c == '\\') {
            if (!raw) {
                if (!put_escape(ps, bytes))
                    return false;
                continue;
            }
            /* raw: the backslash stays, and the next character cannot end
             * the string */
            uint8_t bs = '\\';
            advance(ps, 1);
            if (!put_bytes(ps, &bs, 1))
                return false;
            if (peek(ps, 0) < 0) {
                fail(ps, MS_MALFORMED, "unterminated string");
                return false;
            }
        }
        if (!put_source_char(ps, bytes))
            return false;
    }
}

/* A string literal, adjacent literals concatenated as Python does. */
static int32_t parse_string(parser *ps, size_t start)
{
    size_t prefix;
    bool raw, bytes;
    if (!string_start(ps, &prefix, &raw, &bytes))
        return fail(ps, MS_MALFORMED, "expected a string");
    int32_t idx = new_node(ps, bytes ? NPY_BYTES : NPY_STR, start);
    if (idx < 0)
        return -1;
    size_t str_off = ps->lit->strings_len;
    for (;;) {
        bool part_bytes = bytes;
        if (!string_start(ps, &prefix, &raw, &part_bytes))
            break;
        if (part_bytes != bytes)
            return fail(ps, MS_MALFORMED, "bytes and str literals cannot be concatenated");
        advance(ps, prefix);
        if (!parse_string_part(ps, raw, bytes))
            return -1;
        node_at(ps, idx)->src_end = ps->cur.off;
        skip_space(ps);
    }
    npy_node *n = node_at(ps, idx);
    n->str_off = str_off;
    n->str_len = ps->lit->strings_len - str_off;
    return idx;
}

static int32_t parse_int(parser *ps, size_t start)
{
    bool neg = false;
    int c = peek(ps, 0);
    if (c == '+' || c == '-') {
        neg = c == '-';
        advance(ps, 1);
        skip_space(ps);
        c = peek(ps, 0);
    }
    if (c < '0' || c > '9')
        return fail(ps, MS_MALFORMED, "expected a number after the sign");
    unsigned base = 10;
    if (c == '0') {
        int x = peek(ps, 1);
        base = (x == 'x' || x == 'X') ? 16 : (x == 'o' || x == 'O') ? 8 : (x == 'b' || x == 'B') ? 2 : 10;
        if (base != 10)
            advance(ps, 2);
    }
    bool leading_zero = base == 10 && c == '0';
    bool prev_underscore = false, huge = false;
    size_t ndigits = 0;
    uint64_t mag = 0;
    for (;;) {
        c = peek(ps, 0);
        if (c == '_') {
            if (prev_underscore || (ndigits == 0 && base == 10))
                return fail(ps, MS_MALFORMED, "invalid number (misplaced '_')");
            prev_underscore = true;
            advance(ps, 1);
            continue;
        }
        int d = hex_value(c);
        if (d < 0 || (unsigned)d >= base)
            break;
        if (leading_zero && d != 0)
            return fail(ps, MS_MALFORMED, "leading zeros in a decimal number");
        if (!ms_mul_u64(mag, base, &mag) || !ms_add_u64(mag, (uint64_t)d, &mag)) {
            huge = true;
            mag = UINT64_MAX;
        }
        ndigits++;
        prev_underscore = false;
        advance(ps, 1);
    }
    if (ndigits == 0 || prev_underscore)
        return fail(ps, MS_MALFORMED, "invalid number");
    if (peek(ps, 0) == 'L' && ps->long_suffix)
        advance(ps, 1);
    c = peek(ps, 0);
    if (is_name_char(c) || c == '.')
        return fail(ps, MS_MALFORMED,
                    "not an integer (floats, complex numbers and other numeric forms have no "
                    "place in a .npy header)");
    int32_t idx = new_node(ps, NPY_INT, start);
    if (idx < 0)
        return -1;
    npy_node *n = node_at(ps, idx);
    if (huge || mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        n->huge = true;
        n->value = neg ? INT64_MIN : INT64_MAX;
    } else if (neg) {
        n->value = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    } else {
        n->value = (int64_t)mag;
    }
    n->src_end = ps->cur.off;
    return idx;
}

static int32_t parse_name(parser *ps, size_t start)
{
    size_t n = 0;
    while (is_name_char(peek(ps, n)) && n < 16)
        n++;
    const uint8_t *p = ps->cur.base + ps->cur.off;
    npy_kind kind = NPY_NONE;
    int64_t value = 0;
    if (n == 4 && !is_name_char(peek(ps, 4)) && memcmp(p, "True", 4) == 0) {
        kind = NPY_BOOL;
        value = 1;
    } else if (n == 5 && !is_name_char(peek(ps, 5)) && memcmp(p, "False", 5) == 0) {
        kind = NPY_BOOL;
    } else if (!(n == 4 && !is_name_char(peek(ps, 4)) && memcmp(p, "None", 4) == 0)) {
        char shown[40];
        render_text(shown, sizeof(shown), p, n);
        return fail(ps, MS_MALFORMED, "'%s' is not a literal (only True, False and None are)",
                    shown);
    }
    int32_t idx = new_node(ps, kind, start);
    if (idx < 0)
        return -1;
    advance(ps, n);
    node_at(ps, idx)->value = value;
    node_at(ps, idx)->src_end = ps->cur.off;
    return idx;
}

static int32_t parse_value(parser *ps, unsigned depth);

/* dict and list: the cursor is on the opening bracket */
static int32_t parse_items(parser *ps, npy_kind kind, size_t start, unsigned depth)
{
    int close = kind == NPY_DICT ? '}' : ']';
    int32_t idx = new_node(ps, kind, start);
    if (idx < 0)
        return -1;
    advance(ps, 1);
    int32_t last = -1;
    uint32_t count = 0;
    for (;;) {
        skip_space(ps);
        if (peek(ps, 0) == close) {
            advance(ps, 1);
            break;
        }
        int32_t item = parse_value(ps, depth + 1);
        if (item < 0)
            return -1;
        if (kind == NPY_DICT) {
            npy_kind kk = node_at(ps, item)->kind;
            if (kk == NPY_DICT || kk == NPY_LIST)
                return fail(ps, MS_MALFORMED, "a dict key is unhashable (a list or a dict)");
            link_item(ps, idx, &last, item);
            skip_space(ps);
            int c = peek(ps, 0);
            if (c != ':')
                return fail(ps, MS_MALFORMED,
                            c == ',' || c == '}' ? "a set literal has no place in a .npy header"
                                                 : "expected ':' after a dict key");
            advance(ps, 1);
            item = parse_value(ps, depth + 1);
            if (item < 0)
                return -1;
        }
        link_item(ps, idx, &last, item);
        count++;
        skip_space(ps);
        int c = peek(ps, 0);
        if (c == ',') {
            advance(ps, 1);
            continue;
        }
        if (c == close) {
            advance(ps, 1);
            break;
        }
        return fail(ps, MS_MALFORMED, c < 0 ? "the text ends inside a %s" : "expected ',' or "
                                                                           "the end of the %s",
                    kind == NPY_DICT ? "dict" : "list");
    }
    node_at(ps, idx)->count = count;
    node_at(ps, idx)->src_end = ps->cur.off;
    return idx;
}

/* tuple or parenthesised value: the cursor is on '(' */
static int32_t parse_paren(parser *ps, size_t start, unsigned depth)
{
    advance(ps, 1);
    skip_space(ps);
    if (peek(ps, 0) == ')') {
        advance(ps, 1);
        int32_t idx = new_node(ps, NPY_TUPLE, start);
        if (idx >= 0)
            node_at(ps, idx)->src_end = ps->cur.off;
        return idx;
    }
    int32_t first = parse_value(ps, depth + 1);
    if (first < 0)
        return -1;
    skip_space(ps);
    int c = peek(ps, 0);
    if (c == ')') { /* (x) is x */
        advance(ps, 1);
        return first;
    }
    if (c != ',')
        return fail(ps, MS_MALFORMED, c < 0 ? "the text ends inside a tuple"
                                            : "expected ',' or the end of the tuple");
    int32_t idx = new_node(ps, NPY_TUPLE, start);
    if (idx < 0)
        return -1;
    int32_t last = -1;
    uint32_t count = 1;
    link_item(ps, idx, &last, first);
    for (;;) {
        advance(ps, 1); /* the comma */
        skip_space(ps);
        if (peek(ps, 0) == ')') {
            advance(ps, 1);
            break;
        }
        int32_t item = parse_value(ps, depth + 1);
        if (item < 0)
            return -1;
        link_item(ps, idx, &last, item);
        count++;
        skip_space(ps);
        c = peek(ps, 0);
        if (c == ',')
            continue;
        if (c == ')') {
            advance(ps, 1);
            break;
        }
        return fail(ps, MS_MALFORMED, c < 0 ? "the text ends inside a tuple"
                                            : "expected ',' or the end of the tuple");
    }
    node_at(ps, idx)->count = count;
    node_at(ps, idx)->src_end = ps->cur.off;
    return idx;
}

static int32_t parse_value(parser *ps, unsigned depth)
{
    if (depth > NPY_MAX_DEPTH)
        return fail(ps, MS_LIMIT, "values nest deeper than %d levels", NPY_MAX_DEPTH);
    skip_space(ps);
    size_t start = ps->cur.off;
    size_t prefix;
    bool raw, bytes;
    int c = peek(ps, 0);
    if (c < 0)
        return fail(ps, MS_MALFORMED, "the text ends where a value is expected");
    if (c == '{')
        return parse_items(ps, NPY_DICT, start, depth);
    if (c == '[')
        return parse_items(ps, NPY_LIST, start, depth);
    if (c == '(')
        return parse_paren(ps, start, depth);
    if (string_start(ps, &prefix, &raw, &bytes))
        return parse_string(ps, start);
    if (c == '+' || c == '-' || (c >= '0' && c <= '9'))
        return parse_int(ps, start);
    if (is_name_start(c))
        return parse_name(ps, start);
    if (c >= 0x20 && c < 0x7f)
        return fail(ps, MS_MALFORMED, "unexpected '%c' where a value is expected", c);
    return fail(ps, MS_MALFORMED, "unexpected byte 0x%02x where a value is expected", c);
}

ms_status npy_literal_parse(const uint8_t *text, size_t len, npy_encoding enc, bool long_suffix,
                            npy_literal *lit, npy_error *err)
{
    memset(lit, 0, sizeof(*lit));
    lit->root = -1;
    memset(err, 0, sizeof(*err));
    err->status = MS_OK;
    if (len > NPY_MAX_HEADER_BYTES) {
        error_set(err, MS_LIMIT, 0, "the text is %zu bytes, above the %d-byte limit", len,
                  NPY_MAX_HEADER_BYTES);
        return err->status;
    }
    const uint8_t *nul = len ? memchr(text, 0, len) : NULL;
    if (nul) {
        error_set(err, MS_MALFORMED, (size_t)(nul - text),
                  "a NUL byte (Python refuses it in source text)");
        return err->status;
    }
    if (enc == NPY_UTF8) {
        for (size_t i = 0; i < len;) {
            size_t k = text[i] < 0x80 ? 1 : ms_utf8_seq_len(text + i, len - i);
            if (k == 0) {
                error_set(err, MS_MALFORMED, i, "invalid UTF-8 in a version 3.0 header");
                return err->status;
            }
            i += k;
        }
    }
    parser ps = {ms_cursor_make(text, len), enc, long_suffix, lit, err};
    int32_t root = parse_value(&ps, 1);
    if (root < 0)
        return err->status;
    skip_space(&ps);
    if (ms_cursor_left(&ps.cur) > 0) {
        fail(&ps, MS_MALFORMED, "unexpected text after the value");
        return err->status;
    }
    lit->root = root;
    return MS_OK;
}

void npy_literal_free(npy_literal *lit)
{
    if (!lit)
        return;
    free(lit->nodes);
    free(lit->strings);
    memset(lit, 0, sizeof(*lit));
    lit->root = -1;
}

const npy_node *npy_literal_node(const npy_literal *lit, int32_t i)
{
    if (i < 0 || (size_t)i >= lit->nnodes)
        return NULL;
    return &lit->nodes[i];
}

/* ---------------------------------------------------------------------------
 * dtypes
 * ------------------------------------------------------------------------- */

static bool datetime_unit(const uint8_t *s, size_t n)
{
    static const char *const units[] = {"Y",  "M",  "W",  "D",  "h",  "m",      "s",
                                        "ms", "us", "ns", "ps", "fs", "as", "generic"};
    size_t i = 0;
    while (i < n && i < 9 && s[i] >= '0' && s[i] <= '9')
        i++;
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++)
        if (n - i == strlen(units[u]) && memcmp(s + i, units[u], n - i) == 0)
            return !(i > 0 && u == sizeof(units) / sizeof(units[0]) - 1);
    return false;
}

/* A dtype string: sets *itemsize, *kind (the type letter) and, for 'O',
 * *object. numpy keeps item sizes in a C int. */
static bool dtype_string(const uint8_t *s, size_t n, uint64_t *itemsize, bool *object,
                         uint8_t *kind_out)
{
    size_t i = 0;
    if (i < n && (s[i] == '<' || s[i] == '>' || s[i] == '|' || s[i] == '='))
        i++;
    if (i >= n)
        return false;
    uint8_t kind = s[i++];
    uint64_t size = 0;
    size_t nd = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (++nd > 12)
            return false; /* a terabyte-wide item is no real dtype; also keeps size small */
        size = size * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    bool ok;
    switch (kind) {
    case 'b': ok = nd && size == 1; break;
    case 'i':
    case 'u': ok = nd && (size == 1 || size == 2 || size == 4 || size == 8); break;
    case 'f': ok = nd && (size == 2 || size == 4 || size == 8 || size == 12 || size == 16); break;
    case 'c': ok = nd && (size == 8 || size == 16 || size == 24 || size == 32); break;
    case 'S':
    case 'a':
    case 'V': ok = nd > 0; break;
    case 'U':
        ok = nd > 0;
        size *= 4; /* UCS-4 code units; at most 4 x 10^12, no overflow */
        break;
    case 'O':
        ok = nd == 0 || size == 4 || size == 8;
        size = 8;
        if (ok)
            *object = true;
        break;
    case 'M':
    case 'm':
        ok = nd && size == 8;
        if (ok && i < n) {
            if (s[i] != '[' || s[n - 1] != ']' || n - i < 3)
                return false;
            ok = datetime_unit(s + i + 1, n - i - 2);
            i = n;
        }
        break;
    default: return false;
    }
    if (!ok || i != n || size > INT32_MAX)
        return false;
    *itemsize = size;
    *kind_out = kind;
    return true;
}

bool npy_dtype_string(const uint8_t *s, size_t n, uint64_t *itemsize, bool *object)
{
    uint8_t kind;
    return dtype_string(s, n, itemsize, object, &kind);
}

typedef struct header_walk {
    const npy_literal *lit;
    npy_error *err;
    size_t base; /* file offset of the header text */
} header_walk;

static bool walk_fail(header_walk *hw, const npy_node *at, const char *what)
{
    error_set(hw->err, MS_MALFORMED, hw->base + (at ? at->src_start : 0), "%s", what);
    return false;
}

/* What numpy.dtype() makes of a descr, as far as the file layout and the
 * pickle question go. */
typedef struct dtype_info {
    uint64_t size;
    bool object;     /* holds Python objects: the data is a pickle */
    bool unsized;    /* size 0 and no fields: numpy reads (it, n) as "size n" */
    bool unicode;    /* a 'U' string: (it, n) means n characters */
    bool plain_void; /* type void without fields ('|V3', a subarray) */
} dtype_info;

static bool dims_product(header_walk *hw, const npy_node *s, uint64_t *product)
{
    *product = 1;
    if (s->kind == NPY_INT) {
        if (s->huge || s->value < 0)
            return walk_fail(hw, s, "a subarray dimension is negative or too large");
        *product = (uint64_t)s->value;
        return true;
    }
    if (s->kind != NPY_TUPLE || s->count > NPY_MAX_DIMS)
        return walk_fail(hw, s, "a subarray shape is not an int or a tuple of at most 64 ints");
    for (const npy_node *d = npy_literal_node(hw->lit, s->first); d;
         d = npy_literal_node(hw->lit, d->next)) {
        if (d->kind != NPY_INT || d->huge || d->value < 0)
            return walk_fail(hw, d, "a subarray dimension is not a non-negative int");
        if (!ms_mul_u64(*product, (uint64_t)d->value, product))
            return walk_fail(hw, s, "a subarray's size overflows 64 bits");
    }
    return true;
}

/* numpy.dtype((base, shape)), following numpy's _convert_from_tuple: an
 * unsized base takes an int as its item size; otherwise shape 1 or ()
 * leaves the base alone and anything else makes a subarray, whose size must
 * fit in a C int. */
static bool apply_shape(header_walk *hw, const npy_node *shape, dtype_info *t)
{
    if (t->unsized) {
        if (shape->kind != NPY_INT || shape->huge || shape->value < 0 ||
            shape->value > INT32_MAX / 4)
            return walk_fail(hw, shape, "invalid item size for a zero-size type");
        t->size = (uint64_t)shape->value * (t->unicode ? 4u : 1u);
        t->unsized = t->size == 0;
        return true;
    }
    if ((shape->kind == NPY_INT && shape->value == 1 && !shape->huge) ||
        (shape->kind == NPY_TUPLE && shape->count == 0))
        return true;
    uint64_t items;
    if (!dims_product(hw, shape, &items))
        return false;
    if (!ms_mul_u64(t->size, items, &t->size) || t->size > INT32_MAX || items > INT32_MAX)
        return walk_fail(hw, shape, "a subarray's size does not fit numpy's 2 GiB bound");
    t->unsized = t->size == 0;
    t->unicode = false;
    t->plain_void = true;
    return true;
}

static bool str_is(const npy_literal *lit, const npy_node *n, const char *s)
{
    size_t m = strlen(s);
    return n->kind == NPY_STR && n->str_len == m && memcmp(lit->strings + n->str_off, s, m) == 0;
}

typedef struct field_key {
    const uint8_t *p;
    size_t n;
    const npy_node *at;
} field_key;

static int field_key_cmp(const void *a, const void *b)
{
    const field_key *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return x->n ? memcmp(x->p, y->p, x->n) : 0;
}

static bool descr_info(header_walk *hw, const npy_node *d, dtype_info *t);

/* A structured dtype as numpy.lib.format.descr_to_dtype builds it from a
 * list of (name | (title, name), descr[, shape]): padding fields (an empty
 * name and a plain void type) are dropped but their bytes count; names and
 * titles share one namespace, used once each. */
static bool fields_info(header_walk *hw, const npy_node *d, dtype_info *t)
{
    const npy_literal *lit = hw->lit;
    field_key *keys = d->count ? calloc((size_t)d->count * 2, sizeof(*keys)) : NULL;
    size_t nkeys = 0;
    bool ok = false;
    memset(t, 0, sizeof(*t));
    if (d->count && !keys) {
        error_set(hw->err, MS_NOMEM, hw->base + d->src_start, "out of memory");
        return false;
    }
    for (const npy_node *f = npy_literal_node(lit, d->first); f;
         f = npy_literal_node(lit, f->next)) {
        if ((f->kind != NPY_TUPLE && f->kind != NPY_LIST) || f->count < 2 || f->count > 3) {
            walk_fail(hw, f, "a field is not a (name, descr[, shape]) tuple");
            goto out;
        }
        const npy_node *name = npy_literal_node(lit, f->first);
        const npy_node *fd = npy_literal_node(lit, name->next);
        const npy_node *title = NULL;
        if (name->kind == NPY_TUPLE && name->count == 2) { /* (title, name) */
            title = npy_literal_node(lit, name->first);
            name = npy_literal_node(lit, title->next);
            if (title->kind != NPY_STR || name->kind != NPY_STR) {
                walk_fail(hw, f, "a field's (title, name) is not two strings");
                goto out;
            }
        } else if (name->kind != NPY_STR) {
            walk_fail(hw, name, "a field name is not a string");
            goto out;
        }
        dtype_info ft;
        if (!descr_info(hw, fd, &ft) ||
            (f->count == 3 && !apply_shape(hw, npy_literal_node(lit, fd->next), &ft))) {
            t->object |= ft.object; /* the caller fails closed on it */
            goto out;
        }
        if (!ms_add_u64(t->size, ft.size, &t->size) || t->size > INT32_MAX) {
            walk_fail(hw, f, "the structured dtype's size does not fit numpy's 2 GiB bound");
            goto out;
        }
        bool padding = !title && name->str_len == 0 && ft.plain_void;
        if (padding)
            continue;
        t->object |= ft.object;
        keys[nkeys++] = (field_key){lit->strings + name->str_off, name->str_len, name};
        if (title)
            keys[nkeys++] = (field_key){lit->strings + title->str_off, title->str_len, title};
    }
    if (nkeys > 1)
        qsort(keys, nkeys, sizeof(*keys), field_key_cmp);
    for (size_t i = 1; i < nkeys; i++) {
        if (field_key_cmp(&keys[i - 1], &keys[i]) == 0) {
            char shown[48], what[128];
            render_text(shown, sizeof(shown), keys[i].p, keys[i].n);
            snprintf(what, sizeof(what),
                     "the field name or title '%s' is used twice in a structured dtype", shown);
            walk_fail(hw, keys[i].at, what);
            goto out;
        }
    }
    ok = true;
out:
    free(keys);
    return ok;
}

/* What numpy.lib.format.descr_to_dtype makes of a descr: a dtype string, a
 * (descr, shape) subarray or a list of fields, recursively. Recursion
 * follows the literal tree, whose depth is bounded. */
static bool descr_info(header_walk *hw, const npy_node *d, dtype_info *t)
{
    const npy_literal *lit = hw->lit;
    memset(t, 0, sizeof(*t));
    switch (d->kind) {
    case NPY_STR: {
        const uint8_t *p = lit->strings + d->str_off;
        uint8_t kind = 0;
        if (!dtype_string(p, d->str_len, &t->size, &t->object, &kind)) {
            /* numpy.dtype() reads more spellings than numpy writes ('O4',
             * '2O', 'object', 'f4,O'...): refused here, but if one of them
             * names an object the data is treated as the pickle it may be */
            for (size_t i = 0; i < d->str_len; i++)
                if (p[i] == 'O' || (d->str_len - i >= 6 && memcmp(p + i, "object", 6) == 0))
                    t->object = true;
            char shown[48], what[96];
            render_text(shown, sizeof(shown), p, d->str_len);
            snprintf(what, sizeof(what), "'%s' is not a dtype string numpy writes", shown);
            return walk_fail(hw, d, what);
        }
        t->unsized = t->size == 0; /* 'S0', 'U0', 'V0' */
        t->unicode = kind == 'U';
        t->plain_void = kind == 'V';
        return true;
    }
    case NPY_TUPLE: {
        if (d->count != 2)
            return walk_fail(hw, d, "a subarray descr is not a (descr, shape) pair");
        const npy_node *base = npy_literal_node(lit, d->first);
        return descr_info(hw, base, t) && apply_shape(hw, npy_literal_node(lit, base->next), t);
    }
    case NPY_LIST: return fields_info(hw, d, t);
    default:
        return walk_fail(hw, d, "the descr is neither a dtype string, a subarray nor a list of "
                                "fields");
    }
}

/* ---------------------------------------------------------------------------
 * the header
 * ------------------------------------------------------------------------- */

static ms_status header_fields(const npy_literal *lit, npy_header *h, npy_error *err,
                               const uint8_t *text, size_t base)
{
    header_walk hw = {lit, err, base};
    const npy_node *root = npy_literal_node(lit, lit->root);
    if (!root || root->kind != NPY_DICT) {
        walk_fail(&hw, root, "the header is not a dict");
        return err->status;
    }
    static const char *const names[3] = {"descr", "fortran_order", "shape"};
    const npy_node *slot[3] = {NULL, NULL, NULL};
    for (const npy_node *k = npy_literal_node(lit, root->first); k;) {
        const npy_node *v = npy_literal_node(lit, k->next);
        int which = -1;
        for (int i = 0; i < 3; i++)
            if (str_is(lit, k, names[i]))
                which = i;
        if (which < 0) {
            char shown[48], what[200];
            if (k->kind == NPY_STR)
                render_text(shown, sizeof(shown), lit->strings + k->str_off, k->str_len);
            else
                render_text(shown, sizeof(shown), text + k->src_start, k->src_end - k->src_start);
            snprintf(what, sizeof(what),
                     "unexpected key %s%s%s (numpy.load accepts exactly 'descr', "
                     "'fortran_order' and 'shape')",
                     k->kind == NPY_STR ? "'" : "", shown, k->kind == NPY_STR ? "'" : "");
            walk_fail(&hw, k, what);
            return err->status;
        }
        if (slot[which] && !h->duplicate_key)
            h->duplicate_key = names[which];
        slot[which] = v; /* the last one wins, as in a Python dict */
        k = npy_literal_node(lit, v->next);
    }
    for (int i = 0; i < 3; i++) {
        if (!slot[i]) {
            char what[64];
            snprintf(what, sizeof(what), "the header has no '%s' key", names[i]);
            walk_fail(&hw, root, what);
            return err->status;
        }
    }
    const npy_node *descr = slot[0], *fortran = slot[1], *shape = slot[2];
    render_text(h->descr, NPY_DESCR_TEXT, text + descr->src_start,
                descr->src_end - descr->src_start);
    /* the descr first: whether the data is a pickle matters even when the
     * rest of the header is broken */
    dtype_info t;
    bool ok = descr_info(&hw, descr, &t);
    h->object = t.object;
    if (!ok)
        return err->status;
    h->itemsize = t.size;
    if (fortran->kind != NPY_BOOL) {
        walk_fail(&hw, fortran, "'fortran_order' is not True or False");
        return err->status;
    }
    h->fortran_order = fortran->value != 0;
    if (shape->kind != NPY_TUPLE) {
        walk_fail(&hw, shape, "'shape' is not a tuple");
        return err->status;
    }
    if (shape->count > NPY_MAX_DIMS) {
        walk_fail(&hw, shape, "'shape' has more than 64 dimensions");
        return err->status;
    }
    h->count = 1;
    bool overflow = false;
    for (const npy_node *d = npy_literal_node(lit, shape->first); d;
         d = npy_literal_node(lit, d->next)) {
        if (d->kind != NPY_INT) {
            walk_fail(&hw, d, "a dimension of 'shape' is not an int");
            return err->status;
        }
        if (d->huge || d->value < 0) {
            walk_fail(&hw, d,
                      d->huge ? "a dimension of 'shape' does not fit in 64 bits"
                              : "a dimension of 'shape' is negative");
            return err->status;
        }
        h->shape[h->ndim++] = d->value;
        if (!ms_mul_u64(h->count, (uint64_t)d->value, &h->count))
            overflow = true;
    }
    if (overflow || !ms_mul_u64(h->count, h->itemsize, &h->data_bytes)) {
        walk_fail(&hw, shape, "the shape times the item size overflows 64 bits");
        return err->status;
    }
    return MS_OK;
}

ms_status npy_header_parse(const uint8_t *data, size_t len, npy_header *h, npy_error *err)
{
    memset(h, 0, sizeof(*h));
    memset(err, 0, sizeof(*err));
    err->status = MS_OK;
    ms_cursor cur = ms_cursor_make(data, len);
    const uint8_t *magic = ms_cursor_take(&cur, sizeof(npy_magic));
    if (!magic || memcmp(magic, npy_magic, sizeof(npy_magic)) != 0) {
        error_set(err, magic ? MS_MALFORMED : MS_TRUNCATED, 0,
                  "the file does not start with the .npy magic \\x93NUMPY");
        return err->status;
    }
    h->major = ms_cursor_u8(&cur);
    h->minor = ms_cursor_u8(&cur);
    if (cur.error) {
        error_set(err, MS_TRUNCATED, 6, "the file ends inside the format version");
        return err->status;
    }
    if (h->major < 1 || h->major > 3 || h->minor != 0) {
        error_set(err, MS_MALFORMED, 6,
                  "format version %u.%u is not one numpy reads (1.0, 2.0, 3.0)", h->major,
                  h->minor);
        return err->status;
    }
    size_t len_at = cur.off;
    uint64_t hlen = h->major == 1 ? ms_cursor_u16le(&cur) : ms_cursor_u32le(&cur);
    if (cur.error) {
        error_set(err, MS_TRUNCATED, len_at, "the file ends inside the header length");
        return err->status;
    }
    size_t text_at = cur.off;
    h->header_len = hlen;
    h->data_offset = text_at + hlen; /* at most 12 + 2^32 - 1 */
    if (h->data_offset > len) {
        error_set(err, MS_TRUNCATED, len_at,
                  "the header length (%llu bytes) reaches past the end of the file (%zu bytes)",
                  (unsigned long long)hlen, len);
        return err->status;
    }
    h->layout_known = true;
    if (hlen > NPY_MAX_HEADER_BYTES) {
        error_set(err, MS_LIMIT, len_at, "the header is %llu bytes, above the %d-byte limit",
                  (unsigned long long)hlen, NPY_MAX_HEADER_BYTES);
        return err->status;
    }
    const uint8_t *text = ms_cursor_take(&cur, (size_t)hlen);
    if (!text || hlen == 0 || text[hlen - 1] != '\n') {
        error_set(err, MS_MALFORMED, text_at, "the header does not end with a newline");
        return err->status;
    }
    npy_literal lit;
    ms_status st = npy_literal_parse(text, (size_t)hlen, h->major == 3 ? NPY_UTF8 : NPY_LATIN1,
                                     h->major < 3, &lit, err);
    if (st != MS_OK) {
        err->offset += text_at;
    } else {
        st = header_fields(&lit, h, err, text, text_at);
    }
    npy_literal_free(&lit);
    return st;
}
