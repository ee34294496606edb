/*
 * pymarshal.c - list the names a marshalled CPython code object references.
 *
 * Format (CPython Python/marshal.c, "marshal" module docs:
 * https://docs.python.org/3/library/marshal.html; the format is an
 * implementation detail, versioned by CPython release):
 *
 *   object   := type-byte payload          type-byte = code | FLAG_REF (0x80)
 *   'N' 'T' 'F' 'S' '.'                     None True False StopIteration ...
 *   'i' int32 | 'I' int64 | 'g' double | 'y' 2 doubles
 *   'f' u8 n, n chars | 'x' twice that      (old text floats / complex)
 *   'l' int32 n, |n| x uint16 digits        (long)
 *   's' int32 n, n bytes                    (bytes; str in Python 2)
 *   'u' 't' 'a' 'A' int32 n, n bytes        (str: utf-8, interned, ascii)
 *   'z' 'Z' u8 n, n bytes                   (short ascii str)
 *   '(' '[' '<' '>' int32 n, n objects      (tuple, list, set, frozenset)
 *   ')' u8 n, n objects                     (small tuple)
 *   '{' (key value)* '0'                    (dict)
 *   'r' uint32 index                        (back-reference to the index-th
 *                                            object that carried FLAG_REF)
 *   'R' uint32 index                        (Python 2 interned string ref)
 *   ':' 3 objects                           (slice, 3.14)
 *   'c' code object:
 *       3.11+    5 x int32, code consts names localsplusnames localspluskinds
 *                filename name qualname, int32 firstlineno, linetable
 *                exceptiontable
 *       3.8-3.10 6 x int32, code consts names varnames freevars cellvars
 *                filename name, int32 firstlineno, lnotab
 *       3.0-3.7  5 x int32, (as 3.8), int32, lnotab
 *       2.x      4 x int32, (as 3.8), int32, lnotab
 *
 * The version that wrote the bytes is not recorded, so each code layout is
 * tried in turn and the one that reads the whole input exactly (with bytes
 * for co_code and tuples for co_consts and co_names) wins.
 *
 * Parsed by hand: the only other reader is CPython's marshal.loads, which
 * builds live code objects; this reader only walks bytes through ms_cursor,
 * with caps on nesting, object count and references, and keeps nothing but
 * copies of the strings it lists.
 */
#include "pymarshal.h"

#include <stdlib.h>
#include <string.h>

#include "../../util/cursor.h"
#include "../../util/strbuf.h"

enum {
    MAX_DEPTH = 64,         /* CPython allows 2000; real lambdas nest a few levels */
    MAX_OBJECTS = 1u << 18, /* a lambda's code has hundreds of objects */
    FLAG_REF = 0x80,
};

typedef enum mkind { MV_OTHER = 0, MV_TEXT, MV_BYTES, MV_SEQ, MV_CODE } mkind;

typedef struct mval {
    uint8_t kind;
    const uint8_t *s; /* MV_TEXT, MV_BYTES: the bytes inside the input */
    uint32_t len;
    uint32_t first, count; /* MV_SEQ: items pool[first .. first+count) */
} mval;

typedef struct code_layout {
    const char *name;
    unsigned ints_before; /* int32 fields before co_code */
    unsigned name_index;  /* of the 8 objects after them: co_name ... */
    unsigned file_index;  /* ... and co_filename */
    unsigned tail;        /* objects after firstlineno */
} code_layout;

static const code_layout layouts[] = {
    {"CPython 3.11 or later", 5, 6, 5, 2},
    {"CPython 3.8 to 3.10", 6, 7, 6, 1},
    {"CPython 3.0 to 3.7", 5, 7, 6, 1},
    {"CPython 2", 4, 7, 6, 1},
};

typedef struct reader {
    ms_cursor cur;
    const code_layout *lay;
    mval *refs; /* objects that carried FLAG_REF, in order */
    size_t nrefs, refs_cap;
    mval *interned; /* Python 2 'R' targets */
    size_t ninterned, interned_cap;
    mval *pool; /* items of every sequence */
    size_t npool, pool_cap;
    size_t objects;
    ms_status status;
    const char *error;
    pymarshal_names *out;
} reader;

static bool fail(reader *r, ms_status st, const char *why)
{
    if (r->status == MS_OK) {
        r->status = st;
        r->error = why;
    }
    return false;
}

static bool grow(reader *r, mval **arr, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    if (need > MAX_OBJECTS)
        return fail(r, MS_LIMIT, "more than 262144 objects");
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    mval *p = realloc(*arr, n * sizeof(*p));
    if (!p)
        return fail(r, MS_NOMEM, "out of memory");
    *arr = p;
    *cap = n;
    return true;
}

static void list_add(pymarshal_names *out, char **list, size_t *n, const mval *v)
{
    size_t len = v->len > PYMARSHAL_MAX_TEXT ? PYMARSHAL_MAX_TEXT : v->len;
    for (size_t i = 0; i < *n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], v->s, len) == 0)
            return;
    if (*n >= PYMARSHAL_MAX_LISTED) {
        out->lists_truncated = true;
        return;
    }
    char *s = malloc(len + 1);
    if (!s)
        return;
    memcpy(s, v->s, len);
    s[len] = '\0';
    ms_sanitize_text(s);
    list[(*n)++] = s;
}

static char *text_copy(const mval *v)
{
    if (v->kind != MV_TEXT && v->kind != MV_BYTES)
        return NULL;
    size_t len = v->len > PYMARSHAL_MAX_TEXT ? PYMARSHAL_MAX_TEXT : v->len;
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    memcpy(s, v->s, len);
    s[len] = '\0';
    ms_sanitize_text(s);
    return s;
}

static bool read_object(reader *r, unsigned depth, mval *v);

static bool read_len32(reader *r, uint32_t *n)
{
    uint32_t raw = ms_cursor_u32le(&r->cur);
    if (r->cur.error)
        return fail(r, MS_TRUNCATED, "the data ends inside a length");
    if (raw > INT32_MAX)
        return fail(r, MS_MALFORMED, "a negative length");
    *n = raw;
    return true;
}

static bool read_bytes(reader *r, uint32_t n, uint8_t kind, mval *v)
{
    const uint8_t *p = ms_cursor_take(&r->cur, n);
    if (!p)
        return fail(r, MS_TRUNCATED, "a string runs past the end of the data");
    v->kind = kind;
    v->s = p;
    v->len = n;
    return true;
}

/* n items into pool slots reserved up front, so nested sequences can append
 * their own items behind them. */
static bool read_seq(reader *r, unsigned depth, uint32_t n, mval *v)
{
    if (n > ms_cursor_left(&r->cur)) /* every item takes at least one byte */
        return fail(r, MS_TRUNCATED, "a sequence declares more items than bytes remain");
    size_t first = r->npool;
    if (!grow(r, &r->pool, &r->pool_cap, first + n))
        return false;
    r->npool += n;
    for (uint32_t i = 0; i < n; i++) {
        mval item;
        if (!read_object(r, depth + 1, &item))
            return false;
        r->pool[first + i] = item;
    }
    v->kind = MV_SEQ;
    v->first = (uint32_t)first;
    v->count = n;
    return true;
}

static void collect(reader *r, const mval *seq, bool names)
{
    if (seq->kind != MV_SEQ)
        return;
    pymarshal_names *o = r->out;
    for (uint32_t i = 0; i < seq->count; i++) {
        const mval *it = &r->pool[seq->first + i];
        if (it->kind != MV_TEXT && it->kind != MV_BYTES)
            continue;
        if (names)
            list_add(o, o->names, &o->nnames, it);
        else
            list_add(o, o->strings, &o->nstrings, it);
    }
}

static bool read_code(reader *r, unsigned depth, mval *v)
{
    const code_layout *lay = r->lay;
    for (unsigned i = 0; i < lay->ints_before; i++)
        (void)ms_cursor_u32le(&r->cur);
    if (r->cur.error)
        return fail(r, MS_TRUNCATED, "the data ends inside a code object header");
    mval f[8];
    for (unsigned i = 0; i < 8; i++)
        if (!read_object(r, depth + 1, &f[i]))
            return false;
    (void)ms_cursor_u32le(&r->cur); /* co_firstlineno */
    if (r->cur.error)
        return fail(r, MS_TRUNCATED, "the data ends inside a code object");
    for (unsigned i = 0; i < lay->tail; i++) {
        mval t;
        if (!read_object(r, depth + 1, &t))
            return false;
    }
    if (f[0].kind != MV_BYTES)
        return fail(r, MS_MALFORMED, "co_code is not a bytes object");
    if (f[1].kind != MV_SEQ || f[2].kind != MV_SEQ)
        return fail(r, MS_MALFORMED, "co_consts or co_names is not a tuple");
    r->out->code_objects++;
    collect(r, &f[2], true);
    collect(r, &f[1], false);
    if (depth == 0) {
        r->out->code_name = text_copy(&f[lay->name_index]);
        r->out->filename = text_copy(&f[lay->file_index]);
    }
    v->kind = MV_CODE;
    return true;
}

static bool read_object(reader *r, unsigned depth, mval *v)
{
    memset(v, 0, sizeof(*v));
    if (depth > MAX_DEPTH)
        return fail(r, MS_LIMIT, "objects nested more than 64 deep");
    if (++r->objects > MAX_OBJECTS)
        return fail(r, MS_LIMIT, "more than 262144 objects");
    uint8_t code = ms_cursor_u8(&r->cur);
    if (r->cur.error)
        return fail(r, MS_TRUNCATED, "the data ends where an object should start");
    uint8_t type = code & (uint8_t)~FLAG_REF;
    size_t slot = SIZE_MAX;
    if (code & FLAG_REF) {
        /* CPython numbers references in the order objects start */
        if (!grow(r, &r->refs, &r->refs_cap, r->nrefs + 1))
            return false;
        slot = r->nrefs++;
        memset(&r->refs[slot], 0, sizeof(r->refs[slot]));
    }
    uint32_t n = 0;
    bool ok = true;
    switch (type) {
    case 'N':
    case 'T':
    case 'F':
    case 'S':
    case '.':
        break;
    case 'i':
        ok = ms_cursor_skip(&r->cur, 4) || fail(r, MS_TRUNCATED, "the data ends inside an int");
        break;
    case 'I':
    case 'g':
        ok = ms_cursor_skip(&r->cur, 8) || fail(r, MS_TRUNCATED, "the data ends inside a number");
        break;
    case 'y':
        ok = ms_cursor_skip(&r->cur, 16) || fail(r, MS_TRUNCATED, "the data ends inside a complex");
        break;
    case 'f':
    case 'x':
        for (int k = 0; k < (type == 'x' ? 2 : 1) && ok; k++) {
            uint8_t flen = ms_cursor_u8(&r->cur);
            ok = (!r->cur.error && ms_cursor_skip(&r->cur, flen)) ||
                 fail(r, MS_TRUNCATED, "the data ends inside a float");
        }
        break;
    case 'l': {
        uint32_t raw = ms_cursor_u32le(&r->cur);
        uint64_t digits = raw > INT32_MAX ? (uint64_t)(0x100000000ULL - raw) : raw;
        ok = (!r->cur.error && digits <= ms_cursor_left(&r->cur) / 2 &&
              ms_cursor_skip(&r->cur, digits * 2)) ||
             fail(r, MS_TRUNCATED, "a long integer runs past the end of the data");
        break;
    }
    case 's':
        ok = read_len32(r, &n) && read_bytes(r, n, MV_BYTES, v);
        break;
    case 't':
    case 'u':
    case 'a':
    case 'A':
        ok = read_len32(r, &n) &&
             read_bytes(r, n, type == 't' && r->lay->ints_before == 4 ? MV_BYTES : MV_TEXT, v);
        if (ok && type == 't') {
            ok = grow(r, &r->interned, &r->interned_cap, r->ninterned + 1);
            if (ok)
                r->interned[r->ninterned++] = *v;
        }
        break;
    case 'z':
    case 'Z':
        n = ms_cursor_u8(&r->cur);
        ok = (!r->cur.error || fail(r, MS_TRUNCATED, "the data ends inside a string")) &&
             read_bytes(r, n, MV_TEXT, v);
        break;
    case 'R': {
        uint32_t idx = ms_cursor_u32le(&r->cur);
        if (r->cur.error || idx >= r->ninterned)
            ok = fail(r, MS_MALFORMED, "a string reference to an unknown index");
        else
            *v = r->interned[idx];
        break;
    }
    case 'r': {
        uint32_t idx = ms_cursor_u32le(&r->cur);
        if (r->cur.error || idx >= r->nrefs)
            ok = fail(r, MS_MALFORMED, "a reference to an object not read yet");
        else
            *v = r->refs[idx]; /* an unfinished container reads as "other" */
        break;
    }
    case '(':
    case '[':
    case '<':
    case '>':
        ok = read_len32(r, &n) && read_seq(r, depth, n, v);
        break;
    case ')':
        n = ms_cursor_u8(&r->cur);
        ok = (!r->cur.error || fail(r, MS_TRUNCATED, "the data ends inside a tuple")) &&
             read_seq(r, depth, n, v);
        break;
    case '{':
        for (;;) {
            const uint8_t *p = ms_cursor_take(&r->cur, 1);
            if (!p) {
                ok = fail(r, MS_TRUNCATED, "the data ends inside a dict");
                break;
            }
            if (*p == '0')
                break;
            r->cur.off--;
            mval key, val;
            if (!read_object(r, depth + 1, &key) || !read_object(r, depth + 1, &val)) {
                ok = false;
                break;
            }
        }
        break;
    case ':':
        for (int k = 0; k < 3 && ok; k++) {
            mval part;
            ok = read_object(r, depth + 1, &part);
        }
        break;
    case 'c':
        ok = read_code(r, depth, v);
        break;
    default:
        ok = fail(r, MS_MALFORMED, "an unknown or invalid type code");
        break;
    }
    if (ok && slot != SIZE_MAX)
        r->refs[slot] = *v;
    return ok;
}

void pymarshal_names_free(pymarshal_names *names)
{
    if (!names)
        return;
    for (size_t i = 0; i < names->nnames; i++)
        free(names->names[i]);
    for (size_t i = 0; i < names->nstrings; i++)
        free(names->strings[i]);
    free(names->code_name);
    free(names->filename);
    memset(names, 0, sizeof(*names));
}

ms_status pymarshal_read_names(const uint8_t *data, size_t len, pymarshal_names *out,
                               const char **error)
{
    memset(out, 0, sizeof(*out));
    *error = NULL;
    if (len == 0 || (data[0] & (uint8_t)~FLAG_REF) != 'c') {
        *error = "the marshalled object is not a code object";
        return MS_UNSUPPORTED;
    }
    ms_status best_status = MS_MALFORMED;
    const char *best_error = "no known code object layout fits";
    size_t best_off = 0;
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        reader r;
        memset(&r, 0, sizeof(r));
        r.cur = ms_cursor_make(data, len);
        r.lay = &layouts[i];
        r.out = out;
        mval top;
        bool ok = read_object(&r, 0, &top);
        if (ok && ms_cursor_left(&r.cur) != 0)
            ok = fail(&r, MS_MALFORMED, "bytes follow the code object");
        free(r.refs);
        free(r.interned);
        free(r.pool);
        if (ok) {
            out->layout = layouts[i].name;
            return MS_OK;
        }
        if (r.status == MS_NOMEM || r.status == MS_LIMIT) {
            *error = r.error;
            return r.status;
        }
        if (i == 0 || r.cur.off > best_off) {
            best_off = r.cur.off;
            best_status = r.status;
            best_error = r.error;
        }
        pymarshal_names_free(out);
    }
    *error = best_error;
    return best_status;
}
