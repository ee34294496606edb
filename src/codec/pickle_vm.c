/*
 * pickle_vm.c - symbolic pickle machine (see pickle_vm.h).
 *
 * Written by hand rather than taken from a library because the scanner must
 * see the raw opcode stream exactly as Python's Unpickler does (Modules/
 * _pickle.c, Lib/pickle.py, Lib/pickletools.py): every opcode, the MARK
 * frames, the memo semantics of PUT/MEMOIZE, and the error behaviour, so that
 * a stream is read the way the loader reads it and not the way a scanner
 * would like it to be.
 *
 *   stream := PROTO? FRAME? op* STOP
 *   op     := opcode byte, then its argument: fixed-size little-endian
 *             integers, length-prefixed strings, or '\n'-terminated text
 *
 * Every argument is read through ms_cursor; a declared length larger than the
 * rest of the input is an error and is never allocated.
 */
#include "pickle_vm.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/cursor.h"

enum {
    OP_MARK = '(', OP_STOP = '.', OP_POP = '0', OP_POP_MARK = '1', OP_DUP = '2',
    OP_FLOAT = 'F', OP_INT = 'I', OP_BININT = 'J', OP_BININT1 = 'K', OP_LONG = 'L',
    OP_BININT2 = 'M', OP_NONE = 'N', OP_PERSID = 'P', OP_BINPERSID = 'Q', OP_REDUCE = 'R',
    OP_STRING = 'S', OP_BINSTRING = 'T', OP_SHORT_BINSTRING = 'U', OP_UNICODE = 'V',
    OP_BINUNICODE = 'X', OP_APPEND = 'a', OP_BUILD = 'b', OP_GLOBAL = 'c', OP_DICT = 'd',
    OP_EMPTY_DICT = '}', OP_APPENDS = 'e', OP_GET = 'g', OP_BINGET = 'h', OP_INST = 'i',
    OP_LONG_BINGET = 'j', OP_LIST = 'l', OP_EMPTY_LIST = ']', OP_OBJ = 'o', OP_PUT = 'p',
    OP_BINPUT = 'q', OP_LONG_BINPUT = 'r', OP_SETITEM = 's', OP_TUPLE = 't',
    OP_EMPTY_TUPLE = ')', OP_SETITEMS = 'u', OP_BINFLOAT = 'G', OP_BINBYTES = 'B',
    OP_SHORT_BINBYTES = 'C', OP_PROTO = 0x80, OP_NEWOBJ = 0x81, OP_EXT1 = 0x82,
    OP_EXT2 = 0x83, OP_EXT4 = 0x84, OP_TUPLE1 = 0x85, OP_TUPLE2 = 0x86, OP_TUPLE3 = 0x87,
    OP_NEWTRUE = 0x88, OP_NEWFALSE = 0x89, OP_LONG1 = 0x8a, OP_LONG4 = 0x8b,
    OP_SHORT_BINUNICODE = 0x8c, OP_BINUNICODE8 = 0x8d, OP_BINBYTES8 = 0x8e,
    OP_EMPTY_SET = 0x8f, OP_ADDITEMS = 0x90, OP_FROZENSET = 0x91, OP_NEWOBJ_EX = 0x92,
    OP_STACK_GLOBAL = 0x93, OP_MEMOIZE = 0x94, OP_FRAME = 0x95, OP_BYTEARRAY8 = 0x96,
    OP_NEXT_BUFFER = 0x97, OP_READONLY_BUFFER = 0x98,
};

const char *pickle_opcode_name(uint8_t op)
{
    switch (op) {
    case OP_MARK: return "MARK";
    case OP_STOP: return "STOP";
    case OP_POP: return "POP";
    case OP_POP_MARK: return "POP_MARK";
    case OP_DUP: return "DUP";
    case OP_FLOAT: return "FLOAT";
    case OP_INT: return "INT";
    case OP_BININT: return "BININT";
    case OP_BININT1: return "BININT1";
    case OP_LONG: return "LONG";
    case OP_BININT2: return "BININT2";
    case OP_NONE: return "NONE";
    case OP_PERSID: return "PERSID";
    case OP_BINPERSID: return "BINPERSID";
    case OP_REDUCE: return "REDUCE";
    case OP_STRING: return "STRING";
    case OP_BINSTRING: return "BINSTRING";
    case OP_SHORT_BINSTRING: return "SHORT_BINSTRING";
    case OP_UNICODE: return "UNICODE";
    case OP_BINUNICODE: return "BINUNICODE";
    case OP_APPEND: return "APPEND";
    case OP_BUILD: return "BUILD";
    case OP_GLOBAL: return "GLOBAL";
    case OP_DICT: return "DICT";
    case OP_EMPTY_DICT: return "EMPTY_DICT";
    case OP_APPENDS: return "APPENDS";
    case OP_GET: return "GET";
    case OP_BINGET: return "BINGET";
    case OP_INST: return "INST";
    case OP_LONG_BINGET: return "LONG_BINGET";
    case OP_LIST: return "LIST";
    case OP_EMPTY_LIST: return "EMPTY_LIST";
    case OP_OBJ: return "OBJ";
    case OP_PUT: return "PUT";
    case OP_BINPUT: return "BINPUT";
    case OP_LONG_BINPUT: return "LONG_BINPUT";
    case OP_SETITEM: return "SETITEM";
    case OP_TUPLE: return "TUPLE";
    case OP_EMPTY_TUPLE: return "EMPTY_TUPLE";
    case OP_SETITEMS: return "SETITEMS";
    case OP_BINFLOAT: return "BINFLOAT";
    case OP_BINBYTES: return "BINBYTES";
    case OP_SHORT_BINBYTES: return "SHORT_BINBYTES";
    case OP_PROTO: return "PROTO";
    case OP_NEWOBJ: return "NEWOBJ";
    case OP_EXT1: return "EXT1";
    case OP_EXT2: return "EXT2";
    case OP_EXT4: return "EXT4";
    case OP_TUPLE1: return "TUPLE1";
    case OP_TUPLE2: return "TUPLE2";
    case OP_TUPLE3: return "TUPLE3";
    case OP_NEWTRUE: return "NEWTRUE";
    case OP_NEWFALSE: return "NEWFALSE";
    case OP_LONG1: return "LONG1";
    case OP_LONG4: return "LONG4";
    case OP_SHORT_BINUNICODE: return "SHORT_BINUNICODE";
    case OP_BINUNICODE8: return "BINUNICODE8";
    case OP_BINBYTES8: return "BINBYTES8";
    case OP_EMPTY_SET: return "EMPTY_SET";
    case OP_ADDITEMS: return "ADDITEMS";
    case OP_FROZENSET: return "FROZENSET";
    case OP_NEWOBJ_EX: return "NEWOBJ_EX";
    case OP_STACK_GLOBAL: return "STACK_GLOBAL";
    case OP_MEMOIZE: return "MEMOIZE";
    case OP_FRAME: return "FRAME";
    case OP_BYTEARRAY8: return "BYTEARRAY8";
    case OP_NEXT_BUFFER: return "NEXT_BUFFER";
    case OP_READONLY_BUFFER: return "READONLY_BUFFER";
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* global table: open addressing on (module, name)                    */

typedef struct global_key {
    char *raw;     /* module bytes, NUL, name bytes, as the pickle gave them */
    size_t mlen, nlen;
    uint64_t hash;
} global_key;

typedef struct global_table {
    pickle_global *items;
    global_key *keys;
    uint32_t count, cap;
    uint32_t *slots; /* index+1, 0 = empty */
    uint32_t nslots;
} global_table;

typedef struct slab {
    struct slab *next;
} slab;

enum {
    SLAB_FIRST = 1 << 16, /* slabs grow from 64 KiB ... */
    SLAB_MAX = 2 << 20,   /* ... to 2 MiB */
    PROGRESS_BYTES = 16 << 20,
    DICT_CACHE = 4,
    DICT_KEEP = 32,
};

/* Dicts are values (a count and an id), not objects: most pickles build
 * millions of them. The items of the few most recently built dicts are kept
 * here (the first DICT_KEEP/2 pairs), which is what a BUILD state (joblib's
 * array wrapper) needs. */
typedef struct dict_cache_entry {
    uint64_t id;
    uint32_t n;
    pickle_value items[DICT_KEEP]; /* key, value, key, value ... */
} dict_cache_entry;

struct pickle_vm {
    ms_limits limits;
    pickle_hooks hooks;
    pickle_value *stack;
    uint32_t sp, stack_cap;
    uint32_t *marks;
    uint32_t nmarks, marks_cap;
    pickle_value *memo;
    uint32_t memo_cap;   /* allocated slots */
    uint32_t memo_hwm;   /* slots below this are initialised (set or PK_EMPTY) */
    uint32_t memo_count; /* distinct entries set (MEMOIZE uses it) */
    uint64_t owned_live; /* owned string buffers alive (freed individually) */
    pickle_obj *free_objs[PICKLE_KEEP + 1]; /* per capacity */
    struct slab *slabs;
    size_t slab_bytes; /* size of the next slab */
    uint8_t *slab_next, *slab_end;
    global_table globals;
    const char *limit_hit;
    ms_strbuf opbuf; /* argument text for on_op */
    uint64_t next_dict_id;
    dict_cache_entry dicts[DICT_CACHE];
    unsigned dict_next_slot;
    uint64_t pending_skip; /* bytes a hook asked to skip after this opcode */
    bool skip_requested;
    size_t cur_offset;     /* offset after the current opcode (for hooks) */
};

static uint64_t hash_raw(const char *m, size_t mlen, const char *n, size_t nlen, uint8_t tag)
{
    uint64_t h = 1469598103934665603ULL ^ tag;
    for (size_t i = 0; i < mlen; i++)
        h = (h ^ (uint8_t)m[i]) * 1099511628211ULL;
    h = (h ^ 0x100) * 1099511628211ULL;
    for (size_t i = 0; i < nlen; i++)
        h = (h ^ (uint8_t)n[i]) * 1099511628211ULL;
    return h;
}

static bool globals_rehash(global_table *t, uint32_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return false;
    for (uint32_t i = 0; i < t->count; i++) {
        uint32_t s = (uint32_t)(t->keys[i].hash & (nslots - 1));
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return true;
}

/* A NUL-terminated copy of a module or name fit for printing: control bytes
 * and invalid UTF-8 cannot name a real module and are replaced. */
static char *display_copy(const char *p, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, p, n);
    c[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!c[i])
            c[i] = '?';
    ms_sanitize_text(c);
    return c;
}

/* Returns the id of (module, name) as raw bytes, adding it on first sight;
 * UINT32_MAX on failure or when the limit is reached. A repeated import
 * (the common case) allocates nothing. */
static uint32_t globals_intern(pickle_vm *vm, const char *module, size_t mlen, const char *name,
                               size_t nlen, size_t offset, uint8_t opcode, bool dynamic,
                               bool extension, int32_t ext_code)
{
    global_table *t = &vm->globals;
    uint8_t tag = (uint8_t)(dynamic | (extension << 1));
    uint64_t h = hash_raw(module, mlen, name, nlen, tag) ^ (uint64_t)(uint32_t)ext_code;
    if (t->nslots == 0 && !globals_rehash(t, 64))
        return UINT32_MAX;
    uint32_t s = (uint32_t)(h & (t->nslots - 1));
    while (t->slots[s]) {
        uint32_t id = t->slots[s] - 1;
        const global_key *k = &t->keys[id];
        const pickle_global *g = &t->items[id];
        if (k->hash == h && k->mlen == mlen && k->nlen == nlen && g->dynamic == dynamic &&
            g->extension == extension && g->ext_code == ext_code &&
            memcmp(k->raw, module, mlen) == 0 && memcmp(k->raw + mlen + 1, name, nlen) == 0) {
            t->items[id].imports++;
            return id;
        }
        s = (s + 1) & (t->nslots - 1);
    }
    if (t->count >= vm->limits.pickle_max_globals) {
        vm->limit_hit = "distinct globals per stream";
        return UINT32_MAX;
    }
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        pickle_global *items = realloc(t->items, cap * sizeof(*items));
        if (!items)
            return UINT32_MAX;
        t->items = items;
        global_key *keys = realloc(t->keys, cap * sizeof(*keys));
        if (!keys)
            return UINT32_MAX;
        t->keys = keys;
        t->cap = cap;
    }
    char *raw = malloc(mlen + nlen + 2);
    char *m = display_copy(module, mlen), *n = display_copy(name, nlen);
    if (!raw || !m || !n) {
        free(raw);
        free(m);
        free(n);
        return UINT32_MAX;
    }
    memcpy(raw, module, mlen);
    raw[mlen] = '\0';
    memcpy(raw + mlen + 1, name, nlen);
    raw[mlen + 1 + nlen] = '\0';
    uint32_t id = t->count;
    t->keys[id] = (global_key){raw, mlen, nlen, h};
    pickle_global *g = &t->items[id];
    memset(g, 0, sizeof(*g));
    g->module = m;
    g->name = n;
    g->offset = offset;
    g->opcode = opcode;
    g->dynamic = dynamic;
    g->extension = extension;
    g->ext_code = ext_code;
    g->imports = 1;
    t->slots[s] = id + 1;
    t->count++;
    if (t->count * 2 > t->nslots && !globals_rehash(t, t->nslots * 2)) {
        /* keep the entry; the table is still valid at its old size */
    }
    return id;
}

const pickle_global *pickle_vm_global(const pickle_vm *vm, uint32_t gid)
{
    return gid < vm->globals.count ? &vm->globals.items[gid] : NULL;
}

uint32_t pickle_vm_global_count(const pickle_vm *vm)
{
    return vm->globals.count;
}

const char *pickle_vm_limit_hit(const pickle_vm *vm)
{
    return vm->limit_hit;
}

/* ------------------------------------------------------------------ */
/* values                                                             */

static inline bool has_obj(const pickle_value *v)
{
    return (v->flags & PV_OBJ) != 0;
}

static void obj_release(pickle_vm *vm, pickle_obj *o);

static inline void val_incref(pickle_value v)
{
    if (has_obj(&v))
        v.u.o->refs++;
}

static inline void val_decref(pickle_vm *vm, pickle_value v)
{
    if (has_obj(&v) && --v.u.o->refs == 0)
        obj_release(vm, v.u.o);
}

void pickle_value_incref(pickle_value v)
{
    val_incref(v);
}

void pickle_value_decref(pickle_vm *vm, pickle_value v)
{
    val_decref(vm, v);
}

enum { CAP_STR = 2, CAP_CALL = 2 }; /* item slots that hold a string/call body */

_Static_assert(sizeof(((pickle_obj *)0)->u.call) <= CAP_CALL * sizeof(pickle_value),
               "a call fits its size class");
_Static_assert(sizeof(((pickle_obj *)0)->u.str) <= CAP_STR * sizeof(pickle_value),
               "a string object fits its size class");

static size_t obj_bytes(unsigned cap)
{
    return offsetof(pickle_obj, u) + (size_t)cap * sizeof(pickle_value);
}

/* A new object with room for `cap` items (refs 1, empty). Objects are carved
 * from 256 KiB slabs and recycled through per-capacity free lists. */
static pickle_obj *obj_new(pickle_vm *vm, unsigned cap, uint8_t kind, uint8_t vflags)
{
    pickle_obj *o = vm->free_objs[cap];
    if (o) {
        vm->free_objs[cap] = *(pickle_obj **)(void *)o;
    } else {
        size_t need = obj_bytes(cap);
        if ((size_t)(vm->slab_end - vm->slab_next) < need) {
            size_t bytes = vm->slab_bytes ? vm->slab_bytes : SLAB_FIRST;
            slab *sl = malloc(bytes);
            if (!sl)
                return NULL;
            sl->next = vm->slabs;
            vm->slabs = sl;
            vm->slab_next = (uint8_t *)sl + 16;
            vm->slab_end = (uint8_t *)sl + bytes;
            vm->slab_bytes = bytes < SLAB_MAX ? bytes * 2 : SLAB_MAX;
        }
        o = (pickle_obj *)(void *)vm->slab_next;
        vm->slab_next += need;
    }
    memset(o, 0, obj_bytes(cap));
    o->refs = 1;
    o->cap = (uint8_t)cap;
    o->kind = kind;
    o->vflags = vflags;
    return o;
}

/* Dead objects waiting for their children to be released are chained
 * through the 8 bytes at offset 8 (count and opcode, no longer needed), so
 * releasing a million nested tuples takes no stack. */
static inline pickle_obj *pending_next(pickle_obj *o)
{
    pickle_obj *next;
    memcpy(&next, (char *)o + 8, sizeof(next));
    return next;
}

static inline void pending_push(pickle_obj **list, pickle_obj *o)
{
    memcpy((char *)o + 8, list, sizeof(*list));
    *list = o;
}

static inline void release_child(pickle_obj **pending, pickle_value v)
{
    if (has_obj(&v) && --v.u.o->refs == 0)
        pending_push(pending, v.u.o);
}

static void obj_release(pickle_vm *vm, pickle_obj *first)
{
    pickle_obj *pending = NULL;
    pending_push(&pending, first);
    while (pending) {
        pickle_obj *o = pending;
        pending = pending_next(o);
        if (o->vflags & PV_HEAPSTR) {
            if (o->u.str.owned) {
                free((void *)o->u.str.data);
                vm->owned_live--;
            }
        } else if (o->kind == PK_CALL) {
            release_child(&pending, o->u.call.callable);
            release_child(&pending, o->u.call.args);
        } else {
            for (unsigned i = 0; i < o->nkept; i++)
                release_child(&pending, o->u.items[i]);
        }
        unsigned cap = o->cap; /* read before the link overwrites the header */
        *(pickle_obj **)(void *)o = vm->free_objs[cap];
        vm->free_objs[cap] = o;
    }
}

/* Values are built as two 64-bit words rather than field by field, so they
 * travel in registers: byte stores followed by a 16-byte load would stall
 * store forwarding on every opcode. Field order: kind, flags, spare, n. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mkval assumes a little-endian target"
#endif
_Static_assert(sizeof(pickle_value) == 16, "pickle_value is two words");
_Static_assert(offsetof(pickle_value, n) == 4 && offsetof(pickle_value, u) == 8,
               "pickle_value layout");

static inline pickle_value mkval(uint8_t kind, uint8_t flags, uint32_t n, uint64_t payload)
{
    pickle_value v;
    uint64_t head = (uint64_t)kind | ((uint64_t)flags << 8) | ((uint64_t)n << 32);
    memcpy(&v, &head, 8);
    memcpy((char *)&v + 8, &payload, 8);
    return v;
}

static inline pickle_value val_kind(uint8_t kind)
{
    return mkval(kind, 0, 0, 0);
}

static inline pickle_value val_int(int64_t i)
{
    return mkval(PK_INT, 0, 0, (uint64_t)i);
}

/* A string object: owned bytes, or a borrowed span too long for `n`. */
static pickle_value val_heapstr(pickle_vm *vm, uint8_t kind, const uint8_t *p, uint64_t len,
                                uint8_t flags, bool owned)
{
    pickle_obj *o = obj_new(vm, CAP_STR, kind, PV_HEAPSTR);
    if (!o) {
        if (owned)
            free((void *)p);
        return val_kind(PK_UNKNOWN);
    }
    o->u.str.data = p;
    o->u.str.len = len;
    o->u.str.owned = owned;
    if (owned)
        vm->owned_live++;
    pickle_value v = val_kind(kind);
    v.flags = (uint8_t)(flags | PV_HEAPSTR | PV_OBJ);
    v.u.o = o;
    return v;
}

static inline pickle_value val_str(pickle_vm *vm, uint8_t kind, const uint8_t *p, uint64_t len,
                            uint8_t flags)
{
    if (len > UINT32_MAX)
        return val_heapstr(vm, kind, p, len, flags, false);
    return mkval(kind, flags, (uint32_t)len, (uint64_t)(uintptr_t)p);
}

pickle_value pickle_vm_make_bytes(pickle_vm *vm, uint8_t *data, size_t len)
{
    return val_heapstr(vm, PK_BYTES, data, len, 0, true);
}

uint64_t pickle_value_len(const pickle_value *v)
{
    if (v->flags & PV_HEAPSTR)
        return v->u.o->u.str.len;
    return v->n;
}

static const uint8_t *value_ptr(const pickle_value *v)
{
    return (v->flags & PV_HEAPSTR) ? v->u.o->u.str.data : v->u.p;
}

pickle_value pickle_vm_make_global(pickle_vm *vm, const char *module, const char *name,
                                   size_t offset, uint8_t opcode)
{
    uint32_t gid = globals_intern(vm, module, strlen(module), name, strlen(name), offset, opcode,
                                  false, false, 0);
    if (gid == UINT32_MAX)
        return val_kind(PK_UNKNOWN);
    pickle_value v = mkval(PK_GLOBAL, 0, gid, 0);
    return v;
}

const pickle_value *pickle_value_item(const pickle_value *v, size_t i)
{
    if ((v->kind == PK_TUPLE || v->kind == PK_LIST || v->kind == PK_PERSID) &&
        i < v->u.o->nkept)
        return &v->u.o->u.items[i];
    return NULL;
}

size_t pickle_value_count(const pickle_value *v)
{
    if (v->kind == PK_TUPLE || v->kind == PK_LIST || v->kind == PK_PERSID)
        return v->u.o->count;
    if (v->kind == PK_DICT || v->kind == PK_SET || v->kind == PK_FROZENSET)
        return v->n;
    return 0;
}

/* Python's codecs.escape_decode for STRING's quoted body. */
static bool decode_escape_s(const uint8_t *p, size_t n, uint8_t *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\' || i + 1 == n) {
            out[o++] = p[i];
            continue;
        }
        uint8_t c = p[++i];
        switch (c) {
        case '\n': break;
        case '\\': out[o++] = '\\'; break;
        case '\'': out[o++] = '\''; break;
        case '"': out[o++] = '"'; break;
        case 'a': out[o++] = 7; break;
        case 'b': out[o++] = 8; break;
        case 'f': out[o++] = 12; break;
        case 'n': out[o++] = 10; break;
        case 'r': out[o++] = 13; break;
        case 't': out[o++] = 9; break;
        case 'v': out[o++] = 11; break;
        case 'x': {
            int v = 0, k = 0;
            while (k < 2 && i + 1 < n) {
                uint8_t h = p[i + 1];
                int d = (h >= '0' && h <= '9')   ? h - '0'
                        : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                        : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                 : -1;
                if (d < 0)
                    break;
                v = v * 16 + d;
                i++;
                k++;
            }
            if (k != 2)
                return false; /* Python raises "invalid \x escape" */
            out[o++] = (uint8_t)v;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0', k = 1;
                while (k < 3 && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '7') {
                    v = v * 8 + (p[++i] - '0');
                    k++;
                }
                out[o++] = (uint8_t)v;
            } else {
                out[o++] = '\\';
                out[o++] = c;
            }
        }
    }
    *outlen = o;
    return true;
}

static size_t utf8_put(uint8_t *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* raw-unicode-escape: \uXXXX and \UXXXXXXXX only; other bytes are Latin-1
 * code points. Output UTF-8 (at most 4 bytes per input byte is not needed:
 * one input byte yields at most 2 output bytes, an escape of 6 yields <= 4). */
static bool decode_escape_v(const uint8_t *p, size_t n, uint8_t *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n && (p[i + 1] == 'u' || p[i + 1] == 'U')) {
            /* an odd number of backslashes before u makes it an escape */
            size_t digits = p[i + 1] == 'u' ? 4 : 8;
            if (i + 2 + digits > n)
                return false;
            uint32_t cp = 0;
            for (size_t k = 0; k < digits; k++) {
                uint8_t h = p[i + 2 + k];
                int d = (h >= '0' && h <= '9')   ? h - '0'
                        : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                        : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                 : -1;
                if (d < 0)
                    return false;
                cp = cp * 16 + (uint32_t)d;
            }
            if (cp > 0x10ffff)
                return false;
            o += utf8_put(out + o, cp);
            i += 1 + digits;
        } else if (p[i] == '\\' && i + 1 < n && p[i + 1] == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
            i++;
        } else {
            o += utf8_put(out + o, p[i]);
        }
    }
    *outlen = o;
    return true;
}

bool pickle_value_bytes(const pickle_value *v, const uint8_t **p, size_t *len, uint8_t **owned,
                        size_t max)
{
    *owned = NULL;
    if (v->kind != PK_STR && v->kind != PK_BYTES)
        return false;
    uint64_t vlen = pickle_value_len(v);
    const uint8_t *vp = value_ptr(v);
    if (!(v->flags & (PV_ESC_S | PV_ESC_V))) {
        if (vlen > SIZE_MAX)
            return false;
        *p = vp;
        *len = (size_t)vlen;
        return true;
    }
    /* escaped text decodes to at most 2 bytes per input byte */
    if (vlen > max)
        return false;
    uint8_t *out = malloc((size_t)vlen * 2 + 1);
    if (!out)
        return false;
    size_t n = 0;
    bool ok = (v->flags & PV_ESC_S) ? decode_escape_s(vp, (size_t)vlen, out, &n)
                                    : decode_escape_v(vp, (size_t)vlen, out, &n);
    if (!ok) {
        free(out);
        return false;
    }
    *owned = out;
    *p = out;
    *len = n;
    return true;
}

void pickle_value_render(const pickle_vm *vm, const pickle_value *v, ms_strbuf *sb)
{
    if (sb->len > 600) {
        ms_strbuf_puts(sb, "...");
        return;
    }
    switch (v->kind) {
    case PK_NONE: ms_strbuf_puts(sb, "None"); break;
    case PK_BOOL: ms_strbuf_puts(sb, v->u.i ? "True" : "False"); break;
    case PK_INT: ms_strbuf_printf(sb, "%lld", (long long)v->u.i); break;
    case PK_BIGINT:
        if (v->flags & PV_TEXTINT)
            ms_strbuf_quote(sb, value_ptr(v), (size_t)pickle_value_len(v), false, 40);
        else
            ms_strbuf_printf(sb, "<%llu-byte int>", (unsigned long long)pickle_value_len(v));
        break;
    case PK_FLOAT: ms_strbuf_printf(sb, "%g", v->u.f); break;
    case PK_STR:
    case PK_BYTES: {
        const uint8_t *p;
        size_t n;
        uint8_t *owned;
        if (pickle_value_bytes(v, &p, &n, &owned, 4096)) {
            ms_strbuf_quote(sb, p, n, v->kind == PK_BYTES, 160);
            free(owned);
        } else {
            ms_strbuf_printf(sb, "<%llu-byte string>", (unsigned long long)pickle_value_len(v));
        }
        break;
    }
    case PK_DICT: ms_strbuf_printf(sb, "{<%u items>}", v->n); break;
    case PK_SET: ms_strbuf_printf(sb, "set(<%u items>)", v->n); break;
    case PK_FROZENSET: ms_strbuf_printf(sb, "frozenset(<%u items>)", v->n); break;
    case PK_GLOBAL: {
        const pickle_global *g = pickle_vm_global(vm, v->n);
        if (g)
            ms_strbuf_printf(sb, "%s.%s", g->module, g->name);
        else
            ms_strbuf_puts(sb, "<global>");
        break;
    }
    case PK_TUPLE:
    case PK_LIST: {
        const pickle_obj *o = v->u.o;
        ms_strbuf_puts(sb, v->kind == PK_TUPLE ? "(" : "[");
        for (unsigned i = 0; i < o->nkept; i++) {
            if (i)
                ms_strbuf_puts(sb, ", ");
            pickle_value_render(vm, &o->u.items[i], sb);
        }
        if (o->count > o->nkept)
            ms_strbuf_printf(sb, ", ...<%u items>", o->count);
        else if (v->kind == PK_TUPLE && o->count == 1)
            ms_strbuf_puts(sb, ",");
        ms_strbuf_puts(sb, v->kind == PK_TUPLE ? ")" : "]");
        break;
    }
    case PK_CALL: {
        const pickle_obj *o = v->u.o;
        pickle_value_render(vm, &o->u.call.callable, sb);
        if (o->u.call.args.kind == PK_TUPLE) {
            pickle_value_render(vm, &o->u.call.args, sb);
        } else {
            ms_strbuf_puts(sb, "(*");
            pickle_value_render(vm, &o->u.call.args, sb);
            ms_strbuf_puts(sb, ")");
        }
        break;
    }
    case PK_PERSID:
        ms_strbuf_puts(sb, "persistent_load(");
        if (v->u.o->nkept)
            pickle_value_render(vm, &v->u.o->u.items[0], sb);
        ms_strbuf_puts(sb, ")");
        break;
    case PK_BUFFER: ms_strbuf_puts(sb, "<out-of-band buffer>"); break;
    default: ms_strbuf_puts(sb, "<?>"); break;
    }
}

/* ------------------------------------------------------------------ */
/* the machine                                                        */

pickle_vm *pickle_vm_new(const ms_limits *limits, const pickle_hooks *hooks)
{
    pickle_vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return NULL;
    vm->limits = *limits;
    if (hooks)
        vm->hooks = *hooks;
    ms_strbuf_init(&vm->opbuf, 1024);
    return vm;
}

static void dict_cache_clear_entry(pickle_vm *vm, dict_cache_entry *e);

static void vm_clear(pickle_vm *vm)
{
    for (uint32_t i = 0; i < vm->sp; i++)
        val_decref(vm, vm->stack[i]);
    vm->sp = 0;
    vm->nmarks = 0;
    for (uint32_t i = 0; i < vm->memo_hwm; i++)
        val_decref(vm, vm->memo[i]);
    vm->memo_hwm = 0;
    vm->memo_count = 0;
    for (unsigned i = 0; i < DICT_CACHE; i++)
        dict_cache_clear_entry(vm, &vm->dicts[i]);
    vm->skip_requested = false;
}

void pickle_vm_free(pickle_vm *vm)
{
    if (!vm)
        return;
    /* objects live in slabs freed below; only owned buffers need a walk */
    if (vm->owned_live)
        vm_clear(vm);
    free(vm->stack);
    free(vm->marks);
    free(vm->memo);
    while (vm->slabs) {
        slab *sl = vm->slabs;
        vm->slabs = sl->next;
        free(sl);
    }
    for (uint32_t i = 0; i < vm->globals.count; i++) {
        free(vm->globals.items[i].module);
        free(vm->globals.items[i].name);
        free(vm->globals.keys[i].raw);
    }
    free(vm->globals.items);
    free(vm->globals.keys);
    free(vm->globals.slots);
    ms_strbuf_free(&vm->opbuf);
    free(vm);
}

typedef struct run_state {
    pickle_vm *vm;
    ms_cursor cur;
    pickle_run_result *res;
    size_t op_offset;
    uint8_t op;
} run_state;

#define FAIL(st, code, msg)                                                                      \
    do {                                                                                         \
        (st)->res->status = (code);                                                              \
        (st)->res->error = (msg);                                                                \
        return false;                                                                            \
    } while (0)

static bool push_slow(run_state *st, pickle_value v);

static inline bool push(run_state *st, pickle_value v)
{
    pickle_vm *vm = st->vm;
    if (__builtin_expect(vm->sp < vm->stack_cap, 1)) {
        vm->stack[vm->sp++] = v;
        return true;
    }
    return push_slow(st, v);
}

static bool push_slow(run_state *st, pickle_value v)
{
    pickle_vm *vm = st->vm;
    if (vm->sp == vm->stack_cap) {
        if (vm->stack_cap >= vm->limits.pickle_max_stack) {
            val_decref(vm, v);
            vm->limit_hit = "stack size";
            FAIL(st, MS_LIMIT, "stack size limit exceeded");
        }
        uint32_t cap = vm->stack_cap ? vm->stack_cap * 2 : 256;
        if (cap > vm->limits.pickle_max_stack)
            cap = vm->limits.pickle_max_stack;
        pickle_value *s = realloc(vm->stack, (size_t)cap * sizeof(*s));
        if (!s) {
            val_decref(vm, v);
            FAIL(st, MS_NOMEM, "out of memory");
        }
        vm->stack = s;
        vm->stack_cap = cap;
    }
    vm->stack[vm->sp++] = v;
    return true;
}

static inline uint32_t frame_base(const pickle_vm *vm)
{
    return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
}

/* Pops into *out (ownership moves to the caller). */
static inline bool pop(run_state *st, pickle_value *out)
{
    pickle_vm *vm = st->vm;
    if (vm->sp <= frame_base(vm))
        FAIL(st, MS_MALFORMED, "unpickling stack underflow");
    *out = vm->stack[--vm->sp];
    return true;
}

static inline pickle_value *top(run_state *st)
{
    pickle_vm *vm = st->vm;
    if (vm->sp <= frame_base(vm)) {
        st->res->status = MS_MALFORMED;
        st->res->error = "unpickling stack underflow";
        return NULL;
    }
    return &vm->stack[vm->sp - 1];
}

/* Pops everything above the last MARK into a new tuple/list value. */
static bool pop_mark_into(run_state *st, uint8_t kind, pickle_value *out, uint32_t *nitems)
{
    pickle_vm *vm = st->vm;
    if (vm->nmarks == 0)
        FAIL(st, MS_MALFORMED, "could not find MARK");
    uint32_t base = vm->marks[--vm->nmarks];
    uint32_t n = vm->sp - base;
    if (nitems)
        *nitems = n;
    if (!out) {
        for (uint32_t i = base; i < vm->sp; i++)
            val_decref(vm, vm->stack[i]);
        vm->sp = base;
        return true;
    }
    pickle_obj *o = obj_new(vm, kind == PK_LIST ? PICKLE_KEEP : (n < PICKLE_KEEP ? n : PICKLE_KEEP), kind, 0);
    if (!o)
        FAIL(st, MS_NOMEM, "out of memory");
    o->count = n;
    for (uint32_t i = 0; i < n; i++) {
        if (i < PICKLE_KEEP)
            o->u.items[o->nkept++] = vm->stack[base + i];
        else
            val_decref(vm, vm->stack[base + i]);
    }
    vm->sp = base;
    pickle_value v = mkval(kind, PV_OBJ, 0, (uint64_t)(uintptr_t)o);
    *out = v;
    return true;
}

/* An empty tuple with room for `cap` items (filled by the caller). */
static bool new_tuple(run_state *st, unsigned cap, pickle_value *out)
{
    pickle_obj *o = obj_new(st->vm, cap, PK_TUPLE, 0);
    if (!o)
        FAIL(st, MS_NOMEM, "out of memory");
    *out = mkval(PK_TUPLE, PV_OBJ, 0, (uint64_t)(uintptr_t)o);
    return true;
}

static bool make_tuple(run_state *st, uint32_t n, pickle_value *out)
{
    pickle_vm *vm = st->vm;
    if (vm->sp - frame_base(vm) < n)
        FAIL(st, MS_MALFORMED, "unpickling stack underflow");
    pickle_obj *o = obj_new(vm, n, PK_TUPLE, 0);
    if (!o)
        FAIL(st, MS_NOMEM, "out of memory");
    uint32_t base = vm->sp - n;
    o->count = n;
    for (uint32_t i = 0; i < n; i++)
        o->u.items[o->nkept++] = vm->stack[base + i];
    vm->sp = base;
    pickle_value v = mkval(PK_TUPLE, PV_OBJ, 0, (uint64_t)(uintptr_t)o);
    *out = v;
    return true;
}

static dict_cache_entry *dict_cache_find(pickle_vm *vm, uint64_t id)
{
    for (unsigned i = 0; i < DICT_CACHE; i++)
        if (id != 0 && vm->dicts[i].id == id)
            return &vm->dicts[i];
    return NULL;
}

static void dict_cache_clear_entry(pickle_vm *vm, dict_cache_entry *e)
{
    for (uint32_t i = 0; i < e->n; i++)
        val_decref(vm, e->items[i]);
    e->n = 0;
    e->id = 0;
}

/* A new dict value with a fresh id, and a cache slot for its first items. */
static pickle_value dict_new(pickle_vm *vm)
{
    uint64_t id = ++vm->next_dict_id;
    dict_cache_entry *e = &vm->dicts[vm->dict_next_slot];
    vm->dict_next_slot = (vm->dict_next_slot + 1) % DICT_CACHE;
    dict_cache_clear_entry(vm, e);
    e->id = id;
    return mkval(PK_DICT, 0, 0, id);
}

/* Records key/value items added to a cached dict (with references). */
static void dict_add_items(pickle_vm *vm, const pickle_value *dict, const pickle_value *items,
                           uint32_t n)
{
    dict_cache_entry *e = dict_cache_find(vm, (uint64_t)dict->u.i);
    if (!e)
        return;
    for (uint32_t i = 0; i < n && e->n < DICT_KEEP; i++) {
        e->items[e->n++] = items[i];
        val_incref(items[i]);
    }
}

bool pickle_vm_dict_get(const pickle_vm *vm, const pickle_value *dict, const char *key,
                        const pickle_value **value)
{
    if (dict->kind != PK_DICT || dict->u.i == 0)
        return false;
    size_t klen = strlen(key);
    for (unsigned c = 0; c < DICT_CACHE; c++) {
        const dict_cache_entry *e = &vm->dicts[c];
        if (e->id != (uint64_t)dict->u.i)
            continue;
        for (uint32_t i = 0; i + 1 < e->n; i += 2) {
            const pickle_value *k = &e->items[i];
            if (k->kind == PK_STR && !(k->flags & (PV_ESC_S | PV_ESC_V | PV_HEAPSTR)) &&
                k->n == klen && memcmp(k->u.p, key, klen) == 0) {
                *value = &e->items[i + 1];
                return true;
            }
        }
    }
    return false;
}

size_t pickle_vm_offset(const pickle_vm *vm)
{
    return vm->cur_offset;
}

void pickle_vm_skip(pickle_vm *vm, uint64_t nbytes)
{
    vm->pending_skip = nbytes;
    vm->skip_requested = true;
}

static inline bool memo_put(run_state *st, uint64_t idx, const pickle_value *v)
{
    pickle_vm *vm = st->vm;
    if (idx >= vm->limits.pickle_max_memo) {
        vm->limit_hit = "memo size";
        return true; /* keep going; a later GET of it yields an unknown value */
    }
    if (idx >= vm->memo_cap) {
        uint64_t cap = vm->memo_cap ? vm->memo_cap : 1024;
        while (cap <= idx)
            cap += cap / 2; /* 1.5x: the memo is most of what a scan keeps */
        if (cap > vm->limits.pickle_max_memo)
            cap = vm->limits.pickle_max_memo;
        pickle_value *m = realloc(vm->memo, (size_t)cap * sizeof(*m));
        if (!m)
            FAIL(st, MS_NOMEM, "out of memory");

        vm->memo = m; /* new slots are initialised lazily up to the high-water mark */
        vm->memo_cap = (uint32_t)cap;
    }
    if (idx == vm->memo_hwm) { /* the usual case: the next index */
        vm->memo[idx] = *v;
        vm->memo_hwm++;
        vm->memo_count++;
        val_incref(*v);
        return true;
    }
    if (idx > vm->memo_hwm) {
        memset(vm->memo + vm->memo_hwm, 0, (size_t)(idx + 1 - vm->memo_hwm) * sizeof(*vm->memo));
        vm->memo_hwm = (uint32_t)idx + 1;
    }
    pickle_value *slot = &vm->memo[idx];
    if (slot->kind == PK_EMPTY)
        vm->memo_count++;
    else
        val_decref(vm, *slot);
    *slot = *v;
    val_incref(*v);
    return true;
}

static inline bool memo_get(run_state *st, uint64_t idx)
{
    pickle_vm *vm = st->vm;
    if (idx >= vm->memo_hwm || vm->memo[idx].kind == PK_EMPTY) {
        if (idx >= vm->limits.pickle_max_memo && vm->limit_hit)
            return push(st, val_kind(PK_UNKNOWN));
        FAIL(st, MS_MALFORMED, "memo key not found");
    }
    pickle_value v = vm->memo[idx];
    val_incref(v);
    return push(st, v);
}

static bool call(run_state *st, pickle_value callable, pickle_value args)
{
    pickle_vm *vm = st->vm;
    pickle_value result;
    if (vm->hooks.on_call &&
        vm->hooks.on_call(vm->hooks.ud, vm, &callable, &args, st->op_offset, st->op, &result)) {
        val_decref(vm, callable);
        val_decref(vm, args);
        return push(st, result);
    }
    pickle_obj *o = obj_new(vm, CAP_CALL, PK_CALL, 0);
    if (!o) {
        val_decref(vm, callable);
        val_decref(vm, args);
        FAIL(st, MS_NOMEM, "out of memory");
    }
    o->u.call.callable = callable;
    o->u.call.args = args;
    o->opcode = st->op;
    pickle_value v = mkval(PK_CALL, PV_OBJ, 0, (uint64_t)(uintptr_t)o);
    return push(st, v);
}

/* A method call on an existing object (BUILD -> __setstate__, APPEND ->
 * append, SETITEM -> __setitem__, ADDITEMS -> add) matters only when the
 * object was produced by a call: plain containers run no user code. */
static bool notify_method(run_state *st, const pickle_value *target, pickle_value *args)
{
    pickle_vm *vm = st->vm;
    if (target->kind != PK_CALL || !vm->hooks.on_call)
        return true;
    vm->cur_offset = st->cur.off;
    pickle_value result;
    if (vm->hooks.on_call(vm->hooks.ud, vm, target, args, st->op_offset, st->op, &result))
        val_decref(vm, result);
    if (vm->skip_requested) {
        vm->skip_requested = false;
        if (!ms_cursor_skip(&st->cur, vm->pending_skip)) {
            st->cur.error = false;
            FAIL(st, MS_TRUNCATED, "data a loader reads after this opcode runs past the end");
        }
    }
    return true;
}

static bool push_global(run_state *st, const char *module, size_t mlen, const char *name,
                        size_t nlen, bool dynamic)
{
    pickle_vm *vm = st->vm;
    uint32_t gid = globals_intern(vm, module, mlen, name, nlen, st->op_offset, st->op, dynamic,
                                  false, 0);
    if (gid == UINT32_MAX) {
        if (vm->limit_hit)
            FAIL(st, MS_LIMIT, "too many distinct globals");
        FAIL(st, MS_NOMEM, "out of memory");
    }
    if (vm->hooks.on_global)
        vm->hooks.on_global(vm->hooks.ud, vm, gid, st->op_offset, st->op);
    pickle_value v = mkval(PK_GLOBAL, 0, gid, 0);
    return push(st, v);
}

static bool push_extension(run_state *st, int32_t code)
{
    pickle_vm *vm = st->vm;
    char name[32];
    int n = snprintf(name, sizeof(name), "%ld", (long)code);
    uint32_t gid = globals_intern(vm, "copyreg._extension_registry", 27, name, (size_t)n,
                                  st->op_offset, st->op, false, true, code);
    if (gid == UINT32_MAX)
        FAIL(st, vm->limit_hit ? MS_LIMIT : MS_NOMEM, "could not record extension code");
    if (vm->hooks.on_global)
        vm->hooks.on_global(vm->hooks.ud, vm, gid, st->op_offset, st->op);
    pickle_value v = mkval(PK_GLOBAL, 0, gid, 0);
    return push(st, v);
}

/* Text integer as INT/LONG/GET/PUT carry it: optional sign, digits, optional
 * trailing 'L' (LONG). Fits in int64 or is reported as big. */
static bool parse_decimal(const uint8_t *p, size_t n, int64_t *out, bool *big)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    if (n > i && p[n - 1] == 'L')
        n--;
    bool neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    if (i == n)
        return false;
    uint64_t v = 0;
    *big = false;
    for (; i < n; i++) {
        if (p[i] == '_')
            continue;
        if (p[i] < '0' || p[i] > '9')
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            *big = true;
        else
            v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        *big = true;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static bool read_line(run_state *st, const uint8_t **p, size_t *n)
{
    *p = ms_cursor_line(&st->cur, n);
    if (!*p)
        FAIL(st, MS_TRUNCATED, "pickle data was truncated (missing newline)");
    return true;
}

static bool read_bytes(run_state *st, uint64_t n, const uint8_t **p)
{
    if (n > ms_cursor_left(&st->cur))
        FAIL(st, MS_TRUNCATED, "declared length exceeds the remaining data");
    *p = ms_cursor_take(&st->cur, (size_t)n);
    return true;
}

static bool need(run_state *st, size_t n)
{
    if (ms_cursor_left(&st->cur) < n)
        FAIL(st, MS_TRUNCATED, "pickle data was truncated");
    return true;
}

static void describe_arg_(run_state *st, const char *fmt, ...) MS_PRINTF(2, 3);
static void describe_arg_(run_state *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ms_strbuf_vprintf(&st->vm->opbuf, fmt, ap);
    va_end(ap);
}

/* argument text for explain; costs nothing when no one listens */
#define describe_arg(st, ...)                                                                    \
    do {                                                                                         \
        if (tracing)                                                                             \
            describe_arg_(st, __VA_ARGS__);                                                      \
    } while (0)

static void describe_str_(run_state *st, const uint8_t *p, size_t n, bool bytes)
{
    if (st->vm->hooks.on_op)
        ms_strbuf_quote(&st->vm->opbuf, p, n, bytes, 80);
}

#define describe_str(st, p, n, bytes)                                                            \
    do {                                                                                         \
        if (tracing)                                                                             \
            describe_str_(st, p, n, bytes);                                                      \
    } while (0)

/* Splits a protocol-0 GLOBAL/INST argument: two lines. */
static bool read_two_lines(run_state *st, const uint8_t **m, size_t *mlen, const uint8_t **n,
                           size_t *nlen)
{
    return read_line(st, m, mlen) && read_line(st, n, nlen);
}

static inline __attribute__((always_inline)) bool step(run_state *st, bool tracing)
{
    pickle_vm *vm = st->vm;
    ms_cursor *cur = &st->cur;
    const uint8_t *p;
    size_t n;
    pickle_value a, b, c;
    uint32_t cnt;

    st->op_offset = cur->off;
    if (__builtin_expect(cur->off >= cur->len, 0))
        FAIL(st, MS_TRUNCATED, "pickle data was truncated");
    uint8_t op = cur->base[cur->off++];
    st->op = op;
    if (tracing) {
        vm->opbuf.len = 0;
        vm->opbuf.truncated = false;
        if (vm->opbuf.data)
            vm->opbuf.data[0] = '\0';
    }

    switch (op) {
    case OP_MARK:
        if (vm->nmarks == vm->marks_cap) {
            if (vm->marks_cap >= vm->limits.pickle_max_marks) {
                vm->limit_hit = "MARK nesting";
                FAIL(st, MS_LIMIT, "MARK nesting limit exceeded");
            }
            uint32_t cap = vm->marks_cap ? vm->marks_cap * 2 : 64;
            uint32_t *m = realloc(vm->marks, cap * sizeof(*m));
            if (!m)
                FAIL(st, MS_NOMEM, "out of memory");
            vm->marks = m;
            vm->marks_cap = cap;
        }
        vm->marks[vm->nmarks++] = vm->sp;
        break;
    case OP_STOP:
        if (!pop(st, &a))
            return false;
        st->res->result = a;
        /* keep the result alive until the next run: park it on the stack */
        vm->nmarks = 0;
        if (!push(st, a))
            return false;
        break;
    case OP_POP:
        if (vm->sp > frame_base(vm)) {
            pop(st, &a);
            val_decref(vm, a);
        } else if (!pop_mark_into(st, 0, NULL, NULL)) {
            return false;
        }
        break;
    case OP_POP_MARK:
        if (!pop_mark_into(st, 0, NULL, NULL))
            return false;
        break;
    case OP_DUP: {
        pickle_value *t = top(st);
        if (!t)
            return false;
        a = *t;
        val_incref(a);
        if (!push(st, a))
            return false;
        break;
    }
    case OP_FLOAT: {
        if (!read_line(st, &p, &n))
            return false;
        char tmp[64];
        if (n == 0 || n >= sizeof(tmp))
            FAIL(st, MS_MALFORMED, "invalid FLOAT text");
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        while (*end == ' ' || *end == '\r')
            end++;
        if (*end)
            FAIL(st, MS_MALFORMED, "invalid FLOAT text");
        describe_arg(st, "%s", tmp);
        {
            uint64_t bits;
            memcpy(&bits, &d, sizeof(bits));
            a = mkval(PK_FLOAT, 0, 0, bits);
        }
        if (!push(st, a))
            return false;
        break;
    }
    case OP_INT:
    case OP_LONG: {
        if (!read_line(st, &p, &n))
            return false;
        int64_t v;
        bool big;
        if (op == OP_INT && n == 2 && p[0] == '0' && (p[1] == '0' || p[1] == '1')) {
            a = mkval(PK_BOOL, 0, 0, (uint64_t)(p[1] == '1'));
        } else if (!parse_decimal(p, n, &v, &big)) {
            FAIL(st, MS_MALFORMED, "invalid INT/LONG text");
        } else if (big) {
            a = val_str(vm, PK_BIGINT, p, n, PV_TEXTINT);
        } else {
            a = val_int(v);
        }
        describe_str(st, p, n, false);
        if (!push(st, a))
            return false;
        break;
    }
    case OP_BININT:
        if (!need(st, 4))
            return false;
        a = val_int((int32_t)ms_cursor_u32le(cur));
        describe_arg(st, "%lld", (long long)a.u.i);
        if (!push(st, a))
            return false;
        break;
    case OP_BININT1:
        if (!need(st, 1))
            return false;
        a = val_int(ms_cursor_u8(cur));
        describe_arg(st, "%lld", (long long)a.u.i);
        if (!push(st, a))
            return false;
        break;
    case OP_BININT2:
        if (!need(st, 2))
            return false;
        a = val_int(ms_cursor_u16le(cur));
        describe_arg(st, "%lld", (long long)a.u.i);
        if (!push(st, a))
            return false;
        break;
    case OP_LONG1:
    case OP_LONG4: {
        uint64_t len;
        if (op == OP_LONG1) {
            if (!need(st, 1))
                return false;
            len = ms_cursor_u8(cur);
        } else {
            if (!need(st, 4))
                return false;
            int32_t l = (int32_t)ms_cursor_u32le(cur);
            if (l < 0)
                FAIL(st, MS_MALFORMED, "LONG pickle has negative byte count");
            len = (uint64_t)l;
        }
        if (!read_bytes(st, len, &p))
            return false;
        if (len <= 8) {
            int64_t v = 0;
            uint64_t u = 0;
            for (uint64_t i = 0; i < len; i++)
                u |= (uint64_t)p[i] << (8 * i);
            if (len > 0 && len < 8 && (p[len - 1] & 0x80))
                u |= ~0ULL << (8 * len);
            memcpy(&v, &u, sizeof(v));
            a = val_int(v);
            describe_arg(st, "%lld", (long long)v);
        } else {
            a = val_str(vm, PK_BIGINT, p, len, 0);
            describe_arg(st, "<%llu-byte int>", (unsigned long long)len);
        }
        if (!push(st, a))
            return false;
        break;
    }
    case OP_BINFLOAT: {
        if (!need(st, 8))
            return false;
        p = ms_cursor_take(cur, 8);
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = (u << 8) | p[i];
        a = mkval(PK_FLOAT, 0, 0, u);
        describe_arg(st, "%g", a.u.f);
        if (!push(st, a))
            return false;
        break;
    }
    case OP_NONE:
        if (!push(st, val_kind(PK_NONE)))
            return false;
        break;
    case OP_NEWTRUE:
    case OP_NEWFALSE:
        a = mkval(PK_BOOL, 0, 0, (uint64_t)(op == OP_NEWTRUE));
        if (!push(st, a))
            return false;
        break;
    case OP_STRING: {
        if (!read_line(st, &p, &n))
            return false;
        while (n > 0 && p[n - 1] == '\r')
            n--;
        if (n < 2 || p[0] != p[n - 1] || (p[0] != '\'' && p[0] != '"'))
            FAIL(st, MS_MALFORMED, "the STRING opcode argument must be quoted");
        describe_str(st, p, n, false);
        if (!push(st, val_str(vm, PK_STR, p + 1, n - 2, PV_ESC_S)))
            return false;
        break;
    }
    case OP_UNICODE:
        if (!read_line(st, &p, &n))
            return false;
        describe_str(st, p, n, false);
        if (!push(st, val_str(vm, PK_STR, p, n, PV_ESC_V)))
            return false;
        break;
    case OP_BINSTRING:
    case OP_BINUNICODE:
    case OP_BINBYTES: {
        if (!need(st, 4))
            return false;
        uint32_t raw = ms_cursor_u32le(cur);
        if (op == OP_BINSTRING && (int32_t)raw < 0)
            FAIL(st, MS_MALFORMED, "BINSTRING pickle has negative byte count");
        if (!read_bytes(st, raw, &p))
            return false;
        describe_str(st, p, raw, op == OP_BINBYTES);
        if (!push(st, val_str(vm, op == OP_BINBYTES ? PK_BYTES : PK_STR, p, raw, 0)))
            return false;
        break;
    }
    case OP_SHORT_BINSTRING:
    case OP_SHORT_BINUNICODE:
    case OP_SHORT_BINBYTES: {
        if (!need(st, 1))
            return false;
        uint8_t l = ms_cursor_u8(cur);
        if (!read_bytes(st, l, &p))
            return false;
        describe_str(st, p, l, op == OP_SHORT_BINBYTES);
        if (!push(st, val_str(vm, op == OP_SHORT_BINBYTES ? PK_BYTES : PK_STR, p, l, 0)))
            return false;
        break;
    }
    case OP_BINUNICODE8:
    case OP_BINBYTES8:
    case OP_BYTEARRAY8: {
        if (!need(st, 8))
            return false;
        uint64_t l = ms_cursor_u64le(cur);
        if (!read_bytes(st, l, &p))
            return false;
        describe_str(st, p, (size_t)l, op != OP_BINUNICODE8);
        a = val_str(vm, op == OP_BINUNICODE8 ? PK_STR : PK_BYTES, p, l,
                    op == OP_BYTEARRAY8 ? PV_BYTEARRAY : 0);
        if (!push(st, a))
            return false;
        break;
    }
    case OP_EMPTY_DICT:
        if (!push(st, dict_new(vm)))
            return false;
        break;
    case OP_EMPTY_SET:
        if (!push(st, val_kind(PK_SET)))
            return false;
        break;
    case OP_EMPTY_LIST:
    case OP_EMPTY_TUPLE: {
        pickle_obj *o = obj_new(vm, op == OP_EMPTY_LIST ? PICKLE_KEEP : 0, op == OP_EMPTY_LIST ? PK_LIST : PK_TUPLE, 0);
        if (!o)
            FAIL(st, MS_NOMEM, "out of memory");
        a = mkval(op == OP_EMPTY_LIST ? PK_LIST : PK_TUPLE, PV_OBJ, 0, (uint64_t)(uintptr_t)o);
        if (!push(st, a))
            return false;
        break;
    }
    case OP_LIST:
    case OP_TUPLE:
        if (!pop_mark_into(st, op == OP_LIST ? PK_LIST : PK_TUPLE, &a, NULL) || !push(st, a))
            return false;
        break;
    case OP_TUPLE1:
    case OP_TUPLE2:
    case OP_TUPLE3:
        if (!make_tuple(st, (uint32_t)(op - OP_TUPLE1 + 1), &a) || !push(st, a))
            return false;
        break;
    case OP_DICT: {
        if (vm->nmarks == 0)
            FAIL(st, MS_MALFORMED, "could not find MARK");
        uint32_t base = vm->marks[vm->nmarks - 1];
        cnt = vm->sp - base;
        if (cnt % 2)
            FAIL(st, MS_MALFORMED, "odd number of items for DICT");
        a = dict_new(vm);
        a.n = cnt / 2;
        dict_add_items(vm, &a, &vm->stack[base], cnt);
        if (!pop_mark_into(st, 0, NULL, NULL) || !push(st, a))
            return false;
        break;
    }
    case OP_FROZENSET:
        if (!pop_mark_into(st, 0, NULL, &cnt))
            return false;
        a = mkval(PK_FROZENSET, 0, cnt, 0);
        if (!push(st, a))
            return false;
        break;
    case OP_APPEND:
    case OP_SETITEM: {
        uint32_t k = op == OP_APPEND ? 1 : 2;
        pickle_value items[2];
        for (uint32_t i = 0; i < k; i++)
            if (!pop(st, &items[k - 1 - i])) {
                for (uint32_t j = 0; j < i; j++)
                    val_decref(vm, items[k - 1 - j]);
                return false;
            }
        pickle_value *t = top(st);
        if (!t) {
            for (uint32_t i = 0; i < k; i++)
                val_decref(vm, items[i]);
            return false;
        }
        if (t->kind == PK_LIST && op == OP_APPEND) {
            pickle_obj *o = t->u.o;
            if (o->nkept < PICKLE_KEEP)
                o->u.items[o->nkept++] = items[0];
            else
                val_decref(vm, items[0]);
            if (o->count < UINT32_MAX)
                o->count++;
        } else {
            if (t->kind == PK_DICT && op == OP_SETITEM) {
                if (t->n < UINT32_MAX)
                    t->n++;
                dict_add_items(vm, t, items, 2);
            }
            if (t->kind == PK_CALL) {
                if (new_tuple(st, 2, &a)) {
                    /* render the appended item(s) as the call's arguments */
                    a.u.o->count = k;
                    for (uint32_t i = 0; i < k; i++) {
                        a.u.o->u.items[a.u.o->nkept++] = items[i];
                        val_incref(items[i]);
                    }
                    bool ok = notify_method(st, t, &a);
                    val_decref(vm, a);
                    if (!ok) {
                        for (uint32_t i = 0; i < k; i++)
                            val_decref(vm, items[i]);
                        return false;
                    }
                }
            }
            for (uint32_t i = 0; i < k; i++)
                val_decref(vm, items[i]);
        }
        break;
    }
    case OP_APPENDS:
    case OP_SETITEMS:
    case OP_ADDITEMS: {
        if (vm->nmarks == 0)
            FAIL(st, MS_MALFORMED, "could not find MARK");
        uint32_t base = vm->marks[vm->nmarks - 1];
        uint32_t below = vm->nmarks > 1 ? vm->marks[vm->nmarks - 2] : 0;
        cnt = vm->sp - base;
        if (op == OP_SETITEMS && cnt % 2)
            FAIL(st, MS_MALFORMED, "odd number of items for SETITEMS");
        if (base > below && vm->stack[base - 1].kind != PK_CALL) {
            /* plain container: no code runs, keep what we keep and count */
            pickle_value *t = &vm->stack[base - 1];
            uint32_t i = 0;
            if (t->kind == PK_LIST && op == OP_APPENDS) {
                pickle_obj *o = t->u.o;
                for (; i < cnt && o->nkept < PICKLE_KEEP; i++)
                    o->u.items[o->nkept++] = vm->stack[base + i];
                o->count = (uint64_t)o->count + cnt > UINT32_MAX ? UINT32_MAX : o->count + cnt;
            } else if (t->kind == PK_DICT || t->kind == PK_SET) {
                uint64_t add = op == OP_SETITEMS ? cnt / 2 : cnt;
                t->n = (uint64_t)t->n + add > UINT32_MAX ? UINT32_MAX : (uint32_t)(t->n + add);
                if (t->kind == PK_DICT && op == OP_SETITEMS)
                    dict_add_items(vm, t, &vm->stack[base], cnt);
            }
            for (; i < cnt; i++)
                val_decref(vm, vm->stack[base + i]);
            vm->sp = base;
            vm->nmarks--;
            break;
        }
        if (!pop_mark_into(st, PK_TUPLE, &a, &cnt))
            return false;
        pickle_value *t = top(st);
        if (!t) {
            val_decref(vm, a);
            return false;
        }
        if (op == OP_SETITEMS && cnt % 2) {
            val_decref(vm, a);
            FAIL(st, MS_MALFORMED, "odd number of items for SETITEMS");
        }
        if (t->kind == PK_LIST && op == OP_APPENDS) {
            pickle_obj *o = t->u.o;
            for (unsigned i = 0; i < a.u.o->nkept && o->nkept < PICKLE_KEEP; i++) {
                o->u.items[o->nkept++] = a.u.o->u.items[i];
                val_incref(a.u.o->u.items[i]);
            }
            o->count = (uint64_t)o->count + cnt > UINT32_MAX ? UINT32_MAX : o->count + cnt;
        } else if (t->kind == PK_DICT || t->kind == PK_SET) {
            uint64_t add = op == OP_SETITEMS ? cnt / 2 : cnt;
            t->n = (uint64_t)t->n + add > UINT32_MAX ? UINT32_MAX : (uint32_t)(t->n + add);
        } else if (t->kind == PK_CALL) {
            if (!notify_method(st, t, &a)) {
                val_decref(vm, a);
                return false;
            }
        }
        val_decref(vm, a);
        break;
    }
    case OP_GET:
    case OP_PUT: {
        if (!read_line(st, &p, &n))
            return false;
        int64_t idx;
        bool big;
        if (!parse_decimal(p, n, &idx, &big) || big || idx < 0)
            FAIL(st, MS_MALFORMED, "invalid memo index");
        describe_arg(st, "%lld", (long long)idx);
        if (op == OP_GET) {
            if (!memo_get(st, (uint64_t)idx))
                return false;
        } else {
            pickle_value *t = top(st);
            if (!t)
                FAIL(st, MS_MALFORMED, "PUT on an empty stack");
            if (!memo_put(st, (uint64_t)idx, t))
                return false;
        }
        break;
    }
    case OP_BINGET:
    case OP_LONG_BINGET: {
        if (!need(st, op == OP_BINGET ? 1 : 4))
            return false;
        uint32_t idx = op == OP_BINGET ? ms_cursor_u8(cur) : ms_cursor_u32le(cur);
        describe_arg(st, "%u", idx);
        if (!memo_get(st, idx))
            return false;
        break;
    }
    case OP_BINPUT:
    case OP_LONG_BINPUT: {
        if (!need(st, op == OP_BINPUT ? 1 : 4))
            return false;
        uint32_t idx = op == OP_BINPUT ? ms_cursor_u8(cur) : ms_cursor_u32le(cur);
        describe_arg(st, "%u", idx);
        if (op == OP_LONG_BINPUT && (int32_t)idx < 0)
            FAIL(st, MS_MALFORMED, "negative LONG_BINPUT argument");
        pickle_value *t = top(st);
        if (!t)
            return false;
        if (!memo_put(st, idx, t))
            return false;
        break;
    }
    case OP_MEMOIZE: {
        pickle_value *t = top(st);
        if (!t)
            return false;
        describe_arg(st, "(as %u)", vm->memo_count);
        if (!memo_put(st, vm->memo_count, t))
            return false;
        break;
    }
    case OP_GLOBAL: {
        const uint8_t *m, *nm;
        size_t ml, nl;
        if (!read_two_lines(st, &m, &ml, &nm, &nl))
            return false;
        describe_arg(st, "'%.*s %.*s'", (int)(ml > 200 ? 200 : ml), m, (int)(nl > 200 ? 200 : nl),
                     nm);
        if (!push_global(st, (const char *)m, ml, (const char *)nm, nl, false))
            return false;
        break;
    }
    case OP_STACK_GLOBAL: {
        if (!pop(st, &b))
            return false;
        if (!pop(st, &a)) {
            val_decref(vm, b);
            return false;
        }
        bool ok;
        if (a.kind == PK_STR && b.kind == PK_STR) {
            const uint8_t *mp, *np;
            size_t ml, nl;
            uint8_t *mo = NULL, *no = NULL;
            if (!pickle_value_bytes(&a, &mp, &ml, &mo, 1 << 16) ||
                !pickle_value_bytes(&b, &np, &nl, &no, 1 << 16)) {
                free(mo);
                free(no);
                val_decref(vm, a);
                val_decref(vm, b);
                FAIL(st, MS_MALFORMED, "STACK_GLOBAL name could not be decoded");
            }
            ok = push_global(st, (const char *)mp, ml, (const char *)np, nl, false);
            free(mo);
            free(no);
        } else if ((a.kind == PK_STR || a.kind == PK_CALL || a.kind == PK_UNKNOWN ||
                    a.kind == PK_BUFFER || a.kind == PK_PERSID) &&
                   (b.kind == PK_STR || b.kind == PK_CALL || b.kind == PK_UNKNOWN ||
                    b.kind == PK_BUFFER || b.kind == PK_PERSID)) {
            /* computed at load time: resolve what we can, name the rest */
            ms_strbuf ms, ns;
            ms_strbuf_init(&ms, 512);
            ms_strbuf_init(&ns, 512);
            pickle_value_render(vm, &a, &ms);
            pickle_value_render(vm, &b, &ns);
            ok = push_global(st, ms.data ? ms.data : "", ms.len, ns.data ? ns.data : "", ns.len,
                             true);
            ms_strbuf_free(&ms);
            ms_strbuf_free(&ns);
        } else {
            val_decref(vm, a);
            val_decref(vm, b);
            FAIL(st, MS_MALFORMED, "STACK_GLOBAL requires str");
        }
        val_decref(vm, a);
        val_decref(vm, b);
        if (!ok)
            return false;
        break;
    }
    case OP_EXT1:
    case OP_EXT2:
    case OP_EXT4: {
        size_t w = op == OP_EXT1 ? 1 : op == OP_EXT2 ? 2 : 4;
        if (!need(st, w))
            return false;
        int32_t code = op == OP_EXT1   ? ms_cursor_u8(cur)
                       : op == OP_EXT2 ? ms_cursor_u16le(cur)
                                       : (int32_t)ms_cursor_u32le(cur);
        if (code <= 0)
            FAIL(st, MS_MALFORMED, "EXT specifies code <= 0");
        describe_arg(st, "%d", code);
        if (!push_extension(st, code))
            return false;
        break;
    }
    case OP_REDUCE:
        if (!pop(st, &b))
            return false;
        if (!pop(st, &a)) {
            val_decref(vm, b);
            return false;
        }
        if (!call(st, a, b))
            return false;
        break;
    case OP_NEWOBJ:
        if (!pop(st, &b))
            return false;
        if (!pop(st, &a)) {
            val_decref(vm, b);
            return false;
        }
        if (!call(st, a, b))
            return false;
        break;
    case OP_NEWOBJ_EX:
        if (!pop(st, &c))
            return false;
        if (!pop(st, &b)) {
            val_decref(vm, c);
            return false;
        }
        if (!pop(st, &a)) {
            val_decref(vm, b);
            val_decref(vm, c);
            return false;
        }
        val_decref(vm, c); /* kwargs: a dict, count only */
        if (!call(st, a, b))
            return false;
        break;
    case OP_INST: {
        const uint8_t *m, *nm;
        size_t ml, nl;
        if (!read_two_lines(st, &m, &ml, &nm, &nl))
            return false;
        describe_arg(st, "'%.*s %.*s'", (int)(ml > 200 ? 200 : ml), m, (int)(nl > 200 ? 200 : nl),
                     nm);
        if (!pop_mark_into(st, PK_TUPLE, &b, NULL))
            return false;
        if (!push_global(st, (const char *)m, ml, (const char *)nm, nl, false)) {
            val_decref(vm, b);
            return false;
        }
        pop(st, &a);
        if (!call(st, a, b))
            return false;
        break;
    }
    case OP_OBJ: {
        if (!pop_mark_into(st, PK_TUPLE, &b, &cnt))
            return false;
        if (cnt == 0) {
            val_decref(vm, b);
            FAIL(st, MS_MALFORMED, "OBJ without a class");
        }
        /* first item is the class, the rest are the arguments */
        pickle_obj *o = b.u.o;
        a = o->u.items[0];
        for (unsigned i = 1; i < o->nkept; i++)
            o->u.items[i - 1] = o->u.items[i];
        o->nkept--;
        o->count--;
        if (!call(st, a, b))
            return false;
        break;
    }
    case OP_BUILD: {
        if (!pop(st, &b))
            return false;
        pickle_value *t = top(st);
        if (!t) {
            val_decref(vm, b);
            return false;
        }
        if (t->kind == PK_CALL) {
            if (new_tuple(st, 1, &a)) {
                a.u.o->count = 1;
                a.u.o->u.items[a.u.o->nkept++] = b;
                val_incref(b);
                bool ok = notify_method(st, t, &a);
                val_decref(vm, a);
                if (!ok) {
                    val_decref(vm, b);
                    return false;
                }
            }
        }
        val_decref(vm, b);
        break;
    }
    case OP_PERSID: {
        if (!read_line(st, &p, &n))
            return false;
        describe_str(st, p, n, false);
        pickle_obj *o = obj_new(vm, 1, PK_PERSID, 0);
        if (!o)
            FAIL(st, MS_NOMEM, "out of memory");
        o->count = 1;
        o->nkept = 1;
        o->u.items[0] = val_str(vm, PK_STR, p, n, 0);
        a = mkval(PK_PERSID, PV_OBJ, 0, (uint64_t)(uintptr_t)o);
        if (vm->hooks.on_persid)
            vm->hooks.on_persid(vm->hooks.ud, vm, &o->u.items[0], st->op_offset);
        if (!push(st, a))
            return false;
        break;
    }
    case OP_BINPERSID: {
        if (!pop(st, &b))
            return false;
        pickle_obj *o = obj_new(vm, 1, PK_PERSID, 0);
        if (!o) {
            val_decref(vm, b);
            FAIL(st, MS_NOMEM, "out of memory");
        }
        o->count = 1;
        o->nkept = 1;
        o->u.items[0] = b;
        a = mkval(PK_PERSID, PV_OBJ, 0, (uint64_t)(uintptr_t)o);
        if (vm->hooks.on_persid)
            vm->hooks.on_persid(vm->hooks.ud, vm, &o->u.items[0], st->op_offset);
        if (!push(st, a))
            return false;
        break;
    }
    case OP_PROTO: {
        if (!need(st, 1))
            return false;
        uint8_t v = ms_cursor_u8(cur);
        describe_arg(st, "%u", v);
        if (v > 5)
            FAIL(st, MS_MALFORMED, "unsupported pickle protocol");
        st->res->protocol = v;
        break;
    }
    case OP_FRAME: {
        if (!need(st, 8))
            return false;
        uint64_t l = ms_cursor_u64le(cur);
        describe_arg(st, "%llu", (unsigned long long)l);
        if (l > ms_cursor_left(cur))
            FAIL(st, MS_TRUNCATED, "FRAME length exceeds the remaining data");
        break;
    }
    case OP_NEXT_BUFFER:
        if (!push(st, val_kind(PK_BUFFER)))
            return false;
        break;
    case OP_READONLY_BUFFER:
        if (!top(st))
            return false;
        break;
    default:
        cur->off = st->op_offset;
        FAIL(st, MS_MALFORMED, "invalid opcode");
    }
    if (tracing)
        vm->hooks.on_op(vm->hooks.ud, vm, st->op_offset, op, vm->opbuf.data ? vm->opbuf.data : "");
    return true;
}

void pickle_vm_run(pickle_vm *vm, const uint8_t *data, size_t len, size_t start,
                   pickle_run_result *res)
{
    vm_clear(vm);
    vm->limit_hit = NULL;
    memset(res, 0, sizeof(*res));
    res->protocol = -1;
    run_state st = {vm, ms_cursor_make(data, len), res, 0, 0};
    st.cur.off = start;
    const bool tracing = vm->hooks.on_op != NULL;
    const uint64_t max_ops = vm->limits.pickle_max_opcodes;
    uint64_t ops = 0;
    /* Every opcode consumes at least one byte, so the opcode limit and the
     * progress hook are both checked at byte offsets, off the hot path. */
    size_t next_check = start;
    for (;;) {
        if (__builtin_expect(st.cur.off >= next_check, 0)) {
            if (st.cur.off > start && vm->hooks.on_progress &&
                !vm->hooks.on_progress(vm->hooks.ud, vm, st.cur.off)) {
                vm->limit_hit = "time";
                res->status = MS_LIMIT;
                res->error = "stopped by the caller (time limit)";
                break;
            }
            if (ops >= max_ops) {
                vm->limit_hit = "opcode count";
                res->status = MS_LIMIT;
                res->error = "opcode limit exceeded";
                break;
            }
            uint64_t room = max_ops - ops;
            next_check = st.cur.off + (room < PROGRESS_BYTES ? (size_t)room : PROGRESS_BYTES);
        }
        ops++;
        if (!step(&st, tracing)) {
            if (res->status == MS_OK) {
                res->status = MS_INTERNAL;
                res->error = "step failed without a status";
            }
            break;
        }
        if (__builtin_expect(st.op == OP_STOP, 0)) {
            res->status = MS_OK;
            break;
        }
    }
    res->opcodes = ops;
    res->end = st.cur.off;
    res->error_offset = st.op_offset;
    res->error_opcode = st.op;
}
