/*
 * protobuf.h - a bounded reader for the protobuf wire format: no schema, no
 * generated code, no allocation. Format modules (ONNX, TensorFlow) walk their
 * messages with it field by field and decide what each field number means.
 *
 *   message := field*
 *   field   := tag(varint: number << 3 | wire) payload
 *   wire 0  varint   (1..10 bytes, 7 bits each, low group first)
 *   wire 1  fixed64  (8 bytes little-endian)
 *   wire 2  length-delimited: varint length, then that many bytes
 *           (a string, bytes, a sub-message or a packed repeated scalar)
 *   wire 3/4 start/end group (deprecated; skipped, bounded by depth)
 *   wire 5  fixed32  (4 bytes little-endian)
 *
 * Specification: https://protobuf.dev/programming-guides/encoding/
 *
 * Like the cursor it is built on, a reader has a sticky error: pb_next()
 * returns false at the end of the message or at the first malformed field,
 * and `error` (a static string) says which. Offsets are absolute (from the
 * start of the file), so sub-readers report positions a person can find.
 */
#ifndef MS_PROTOBUF_H
#define MS_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/limits.h"
#include "../util/cursor.h"

/* Message nesting a format walker accepts (see limits.h for the reason). */
#define PB_MAX_DEPTH MS_DEFAULT_PROTOBUF_MAX_DEPTH

/* The protobuf library caps a message (and so any length) at 2 GiB. */
#define PB_MAX_LENGTH 0x7fffffffu

typedef enum pb_wire {
    PB_VARINT = 0,
    PB_I64 = 1,
    PB_LEN = 2,
    PB_SGROUP = 3,
    PB_EGROUP = 4,
    PB_I32 = 5,
} pb_wire;

typedef struct pb_field {
    uint32_t number;
    pb_wire wire;        /* PB_SGROUP for a whole group (skipped); never PB_EGROUP */
    uint64_t value;      /* PB_VARINT, PB_I64, PB_I32 */
    const uint8_t *data; /* PB_LEN and PB_SGROUP: the payload, inside the reader's buffer */
    size_t len;
    size_t offset;      /* absolute offset of the tag */
    size_t data_offset; /* absolute offset of the payload */
} pb_field;

typedef struct pb_reader {
    ms_cursor cur;
    size_t origin;       /* absolute offset of cur.base */
    const char *error;   /* why reading stopped early; NULL at a clean end */
    size_t error_offset; /* absolute offset of the bad field */
} pb_reader;

/* A reader over a whole message; `origin` is its absolute offset. */
void pb_reader_init(pb_reader *r, const uint8_t *data, size_t len, size_t origin);

/* A reader over the payload of a PB_LEN field (a sub-message). */
void pb_reader_sub(pb_reader *sub, const pb_field *f);

/* Reads the next field into *f. Returns false at the end of the message
 * (r->error == NULL) or on a malformed field (r->error set, sticky): a bad
 * tag (field number 0 or above 2^29-1, wire type 6 or 7), a varint longer
 * than 10 bytes, a length beyond the end of the message or above 2 GiB, an
 * end-group tag without its start, a group nested deeper than PB_MAX_DEPTH. */
bool pb_next(pb_reader *r, pb_field *f);

/* Reads one varint (at most 10 bytes; bits beyond 64 are dropped, as the
 * protobuf library does). False, with c->error set, when truncated or longer. */
bool pb_read_varint(ms_cursor *c, uint64_t *out);

/* True when [data, len) is a sequence of well-formed fields (one level:
 * sub-messages are not looked into). */
bool pb_message_valid(const uint8_t *data, size_t len);

/* The first PB_LEN field `number` of a message, or false (also when the
 * message is malformed before it). A cheap pre-pass for fields a walker must
 * know before the rest (a graph's name, a function's signature). */
bool pb_find_len(const uint8_t *data, size_t len, uint32_t number, const uint8_t **p, size_t *n);

/* The name of a wire type, for messages. */
const char *pb_wire_name(pb_wire wire);

/* A set of byte strings (op names, function names), compared exactly (length
 * and bytes, NULs included), with caps on entries and on bytes stored. */
typedef struct pb_name {
    char *p; /* NUL-terminated copy (a NUL inside is kept: use n) */
    size_t n;
} pb_name;

typedef struct pb_nameset {
    size_t *slots; /* open addressing: 0 = empty, else index + 1 */
    size_t nslots;
    pb_name *names; /* insertion order */
    size_t count;
    size_t bytes;
    size_t max, max_bytes;
    bool full;  /* an add was refused because of a cap */
    bool nomem; /* an allocation failed */
} pb_nameset;

void pb_nameset_init(pb_nameset *s, size_t max, size_t max_bytes);
void pb_nameset_free(pb_nameset *s);
/* Adds the name (if new) and returns its index (insertion order) in *index
 * (may be NULL). False when a cap or memory refused it (s->full/s->nomem). */
bool pb_nameset_add(pb_nameset *s, const uint8_t *p, size_t n, size_t *index);
/* True when present; *index (may be NULL) gets its insertion index. */
bool pb_nameset_find(const pb_nameset *s, const uint8_t *p, size_t n, size_t *index);

/* A NUL-terminated, printable copy of file bytes for reports and JSON: at
 * most `max` bytes, NULs, control characters and invalid UTF-8 replaced by
 * '?', "..." appended when cut. Never NULL unless memory ran out. */
char *pb_text(const uint8_t *p, size_t n, size_t max);

#endif
