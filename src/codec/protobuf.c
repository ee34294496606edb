/*
 * protobuf.c - the bounded protobuf wire-format reader (see protobuf.h).
 *
 * Every length is compared with what is left of the enclosing message before
 * anything is skipped; groups (wire types 3 and 4, which neither ONNX nor
 * TensorFlow use, but which the protobuf library skips in unknown fields) are
 * skipped with an explicit stack of field numbers capped at PB_MAX_DEPTH, so
 * nothing here recurses on input.
 */
#include "protobuf.h"

#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"

enum { PB_MAX_FIELD = (1 << 29) - 1 };

void pb_reader_init(pb_reader *r, const uint8_t *data, size_t len, size_t origin)
{
    r->cur = ms_cursor_make(data, len);
    r->origin = origin;
    r->error = NULL;
    r->error_offset = 0;
}

void pb_reader_sub(pb_reader *sub, const pb_field *f)
{
    pb_reader_init(sub, f->data, f->len, f->data_offset);
}

const char *pb_wire_name(pb_wire wire)
{
    switch (wire) {
    case PB_VARINT:
        return "varint";
    case PB_I64:
        return "fixed64";
    case PB_LEN:
        return "length-delimited";
    case PB_SGROUP:
        return "group";
    case PB_EGROUP:
        return "end-group";
    case PB_I32:
        return "fixed32";
    }
    return "invalid";
}

bool pb_read_varint(ms_cursor *c, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        const uint8_t *p = ms_cursor_take(c, 1);
        if (!p)
            return false;
        if (i < 9)
            v |= (uint64_t)(p[0] & 0x7f) << (7 * i);
        else
            v |= (uint64_t)(p[0] & 0x01) << 63;
        if (!(p[0] & 0x80)) {
            *out = v;
            return true;
        }
    }
    c->error = true; /* an eleventh byte would follow */
    return false;
}

static bool fail(pb_reader *r, size_t at, const char *why)
{
    if (!r->error) {
        r->error = why;
        r->error_offset = r->origin + at;
    }
    r->cur.error = true;
    return false;
}

/* Reads one tag: field number and wire type. */
static bool read_tag(pb_reader *r, uint32_t *number, pb_wire *wire)
{
    size_t at = r->cur.off;
    uint64_t tag;
    if (!pb_read_varint(&r->cur, &tag))
        return fail(r, at, "truncated or over-long field tag");
    if (tag > UINT32_MAX || (tag >> 3) == 0 || (tag >> 3) > PB_MAX_FIELD)
        return fail(r, at, "field number out of range (0 or above 2^29-1)");
    if ((tag & 7) > 5)
        return fail(r, at, "invalid wire type (6 or 7)");
    *number = (uint32_t)(tag >> 3);
    *wire = (pb_wire)(tag & 7);
    return true;
}

/* Reads the payload of a non-group field. */
static bool read_payload(pb_reader *r, pb_wire wire, pb_field *f)
{
    size_t at = r->cur.off;
    switch (wire) {
    case PB_VARINT:
        if (!pb_read_varint(&r->cur, &f->value))
            return fail(r, at, "truncated or over-long varint");
        return true;
    case PB_I64:
        f->value = ms_cursor_u64le(&r->cur);
        return r->cur.error ? fail(r, at, "truncated fixed64") : true;
    case PB_I32:
        f->value = ms_cursor_u32le(&r->cur);
        return r->cur.error ? fail(r, at, "truncated fixed32") : true;
    case PB_LEN: {
        uint64_t n;
        if (!pb_read_varint(&r->cur, &n))
            return fail(r, at, "truncated or over-long length");
        if (n > PB_MAX_LENGTH)
            return fail(r, at, "length above 2 GiB (the protobuf limit)");
        if (n > ms_cursor_left(&r->cur))
            return fail(r, at, "length beyond the end of the enclosing message");
        f->data_offset = r->origin + r->cur.off;
        f->data = ms_cursor_take(&r->cur, (size_t)n);
        f->len = (size_t)n;
        return true;
    }
    default:
        return fail(r, at, "unexpected wire type");
    }
}

/* Skips a group whose start tag (field `number`) was just read: every field
 * up to the matching end tag, nested groups included. */
static bool skip_group(pb_reader *r, uint32_t number, pb_field *f)
{
    uint32_t stack[PB_MAX_DEPTH];
    unsigned depth = 0;
    stack[depth++] = number;
    size_t start = r->cur.off;
    f->data_offset = r->origin + start;
    while (depth > 0) {
        size_t at = r->cur.off;
        uint32_t n;
        pb_wire w;
        if (!read_tag(r, &n, &w))
            return false;
        if (w == PB_SGROUP) {
            if (depth >= PB_MAX_DEPTH)
                return fail(r, at, "groups nested too deeply");
            stack[depth++] = n;
            continue;
        }
        if (w == PB_EGROUP) {
            if (stack[depth - 1] != n)
                return fail(r, at, "end-group tag does not match its start");
            depth--;
            if (depth == 0) {
                f->data = r->cur.base + start;
                f->len = at - start;
            }
            continue;
        }
        pb_field scratch;
        if (!read_payload(r, w, &scratch))
            return false;
    }
    return true;
}

bool pb_next(pb_reader *r, pb_field *f)
{
    if (r->error || r->cur.error || ms_cursor_left(&r->cur) == 0)
        return false;
    memset(f, 0, sizeof(*f));
    f->offset = r->origin + r->cur.off;
    size_t at = r->cur.off;
    if (!read_tag(r, &f->number, &f->wire))
        return false;
    if (f->wire == PB_EGROUP)
        return fail(r, at, "end-group tag without a start-group");
    if (f->wire == PB_SGROUP)
        return skip_group(r, f->number, f);
    return read_payload(r, f->wire, f);
}

bool pb_message_valid(const uint8_t *data, size_t len)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
    }
    return r.error == NULL;
}

bool pb_find_len(const uint8_t *data, size_t len, uint32_t number, const uint8_t **p, size_t *n)
{
    pb_reader r;
    pb_field f;
    pb_reader_init(&r, data, len, 0);
    while (pb_next(&r, &f)) {
        if (f.number == number && f.wire == PB_LEN) {
            *p = f.data;
            *n = f.len;
            return true;
        }
    }
    return false;
}

/* ---- name sets ---------------------------------------------------------- */

static uint64_t name_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

void pb_nameset_init(pb_nameset *s, size_t max, size_t max_bytes)
{
    memset(s, 0, sizeof(*s));
    s->max = max;
    s->max_bytes = max_bytes;
}

void pb_nameset_free(pb_nameset *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->names[i].p);
    free(s->names);
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

/* The slot holding the name, or the empty slot where it would go. */
static size_t slot_for(const pb_nameset *s, const uint8_t *p, size_t n, bool *found)
{
    size_t mask = s->nslots - 1;
    size_t i = (size_t)name_hash(p, n) & mask;
    for (;;) {
        size_t k = s->slots[i];
        if (k == 0) {
            *found = false;
            return i;
        }
        const pb_name *e = &s->names[k - 1];
        if (e->n == n && memcmp(e->p, p, n) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

/* Doubles the table (kept at most half full) and the name array with it. */
static bool nameset_grow(pb_nameset *s)
{
    size_t nslots = s->nslots ? s->nslots * 2 : 64;
    size_t *slots = calloc(nslots, sizeof(*slots));
    pb_name *names = slots ? realloc(s->names, (nslots / 2) * sizeof(*names)) : NULL;
    if (!slots || !names) {
        free(slots);
        s->nomem = true;
        return false;
    }
    s->names = names;
    free(s->slots);
    s->slots = slots;
    s->nslots = nslots;
    for (size_t k = 0; k < s->count; k++) {
        bool found;
        size_t i = slot_for(s, (const uint8_t *)s->names[k].p, s->names[k].n, &found);
        s->slots[i] = k + 1;
    }
    return true;
}

bool pb_nameset_find(const pb_nameset *s, const uint8_t *p, size_t n, size_t *index)
{
    if (s->count == 0)
        return false;
    bool found;
    size_t i = slot_for(s, p, n, &found);
    if (found && index)
        *index = s->slots[i] - 1;
    return found;
}

bool pb_nameset_add(pb_nameset *s, const uint8_t *p, size_t n, size_t *index)
{
    if (pb_nameset_find(s, p, n, index))
        return true;
    if (s->count >= s->max || n > s->max_bytes - s->bytes) {
        s->full = true;
        return false;
    }
    if ((s->count + 1) * 2 > s->nslots && !nameset_grow(s))
        return false;
    char *copy = malloc(n + 1);
    if (!copy) {
        s->nomem = true;
        return false;
    }
    if (n)
        memcpy(copy, p, n);
    copy[n] = '\0';
    bool found;
    size_t i = slot_for(s, p, n, &found);
    s->names[s->count].p = copy;
    s->names[s->count].n = n;
    s->slots[i] = s->count + 1;
    if (index)
        *index = s->count;
    s->count++;
    s->bytes += n;
    return true;
}

char *pb_text(const uint8_t *p, size_t n, size_t max)
{
    size_t show = n > max ? max : n;
    char *out = malloc(show + 4);
    if (!out)
        return NULL;
    for (size_t i = 0; i < show; i++)
        out[i] = p[i] ? (char)p[i] : '?';
    out[show] = '\0';
    ms_sanitize_text(out);
    if (show < n)
        memcpy(out + show, "...", 4);
    return out;
}
