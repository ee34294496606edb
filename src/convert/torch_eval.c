/*
 * torch_eval.c - the restricted evaluator for tensor checkpoint pickles.
 *
 *   pickle bytes --opcode--> stack / marks / memo of te_values --STOP--> value
 *
 *   GLOBAL / STACK_GLOBAL   (module, name) looked up in a fixed table: a
 *                           vocabulary entry, or the run stops (refused)
 *   REDUCE / NEWOBJ         only vocabulary entries are called:
 *                             _rebuild_tensor{,_v2,_v3}(storage, offset, size,
 *                               stride, ...)                 -> a tensor record
 *                             _rebuild_parameter{,_with_state}(tensor, ...) -> it
 *                             OrderedDict(), torch.Size(t), torch.device(...),
 *                             set(l), frozenset(l)           -> plain data
 *   BINPERSID               ('storage', torch.<X>Storage | torch.UntypedStorage,
 *                            key, location, numel[, view])   -> a storage record
 *   BUILD                   only on a dict (OrderedDict's attributes: dropped)
 *   APPEND(S) / SETITEM(S) / ADDITEMS  only on a list / dict / set
 *
 * Why hand-written: converting needs the values the pickle builds - every key
 * of the state dict and every tensor's storage, offset, shape and strides -
 * which the scanner's symbolic VM (src/codec/pickle_vm.c) deliberately does
 * not keep (it holds a few items per container, enough for a verdict).
 * Python's pickle module runs what it reads and torch.load(weights_only=True)
 * needs Python and torch at conversion time; no C library evaluates a pickle
 * against an allow-list. So this file implements the binary opcodes of
 * protocols 2-5 and nothing else; it is a second gate, independent of the
 * scanner's policy, that a file must also pass.
 *
 * References: Lib/pickle.py and Lib/pickletools.py (opcode semantics),
 * torch/serialization.py (_load and _legacy_load: persistent ids),
 * torch/_utils.py (the _rebuild_* signatures).
 */
#include "torch_eval.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/pickle_vm.h"
#include "../util/checked.h"
#include "../util/cursor.h"

enum {
    /* arena bytes for one file's values, objects, tensors and memo: the
     * data.pkl of the largest public checkpoints is a few MB and builds a
     * few tens of MB here; a pickle that wants more is not a state dict */
    TE_MAX_BYTES = 1 << 30,
    /* memo indices a pickler writes count up from 0; allow slack, refuse
     * sparse indices that would only serve to allocate memory */
    TE_MEMO_SLACK = 4096,
    TE_ERROR_MAX = 600,
};

/* the opcodes (Lib/pickletools.py) */
enum {
    OP_MARK = '(',
    OP_STOP = '.',
    OP_POP = '0',
    OP_POP_MARK = '1',
    OP_DUP = '2',
    OP_BININT = 'J',
    OP_BININT1 = 'K',
    OP_BININT2 = 'M',
    OP_NONE = 'N',
    OP_BINPERSID = 'Q',
    OP_REDUCE = 'R',
    OP_BINSTRING = 'T',
    OP_SHORT_BINSTRING = 'U',
    OP_BINUNICODE = 'X',
    OP_APPEND = 'a',
    OP_BUILD = 'b',
    OP_GLOBAL = 'c',
    OP_DICT = 'd',
    OP_EMPTY_DICT = '}',
    OP_APPENDS = 'e',
    OP_BINGET = 'h',
    OP_LONG_BINGET = 'j',
    OP_LIST = 'l',
    OP_EMPTY_LIST = ']',
    OP_BINPUT = 'q',
    OP_LONG_BINPUT = 'r',
    OP_SETITEM = 's',
    OP_TUPLE = 't',
    OP_EMPTY_TUPLE = ')',
    OP_SETITEMS = 'u',
    OP_BINFLOAT = 'G',
    OP_BINBYTES = 'B',
    OP_SHORT_BINBYTES = 'C',
    OP_PROTO = 0x80,
    OP_NEWOBJ = 0x81,
    OP_TUPLE1 = 0x85,
    OP_TUPLE2 = 0x86,
    OP_TUPLE3 = 0x87,
    OP_NEWTRUE = 0x88,
    OP_NEWFALSE = 0x89,
    OP_LONG1 = 0x8a,
    OP_LONG4 = 0x8b,
    OP_SHORT_BINUNICODE = 0x8c,
    OP_BINUNICODE8 = 0x8d,
    OP_BINBYTES8 = 0x8e,
    OP_EMPTY_SET = 0x8f,
    OP_ADDITEMS = 0x90,
    OP_FROZENSET = 0x91,
    OP_STACK_GLOBAL = 0x93,
    OP_MEMOIZE = 0x94,
    OP_FRAME = 0x95,
    OP_BYTEARRAY8 = 0x96,
};

/* vocabulary entries; a TE_GLOBAL value's id is (dtype << 8) | entry */
enum {
    TG_REBUILD_TENSOR = 1,
    TG_REBUILD_TENSOR_V2,
    TG_REBUILD_TENSOR_V3,
    TG_REBUILD_PARAMETER,
    TG_REBUILD_PARAMETER_STATE,
    TG_ORDERED_DICT,
    TG_SIZE,
    TG_DEVICE,
    TG_SET,
    TG_FROZENSET,
    TG_UNTYPED_STORAGE,
    TG_STORAGE, /* torch.<X>Storage: a typed storage class */
    TG_DTYPE,   /* torch.<dtype> */
};

static const te_dtype dtypes[] = {
    {"F64", "float64", "double", "DoubleStorage", 8, 8},
    {"F32", "float32", "float", "FloatStorage", 4, 4},
    {"F16", "float16", "half", "HalfStorage", 2, 2},
    {"BF16", "bfloat16", NULL, "BFloat16Storage", 2, 2},
    {"I64", "int64", "long", "LongStorage", 8, 8},
    {"I32", "int32", "int", "IntStorage", 4, 4},
    {"I16", "int16", "short", "ShortStorage", 2, 2},
    {"I8", "int8", NULL, "CharStorage", 1, 1},
    {"U8", "uint8", NULL, "ByteStorage", 1, 1},
    {"BOOL", "bool", NULL, "BoolStorage", 1, 1},
    {"C64", "complex64", "cfloat", "ComplexFloatStorage", 8, 4},
    /* torch >= 2.1 writes these as UntypedStorage + _rebuild_tensor_v3(dtype) */
    {"F8_E5M2", "float8_e5m2", NULL, NULL, 1, 1},
    {"F8_E4M3", "float8_e4m3fn", NULL, NULL, 1, 1},
    {"F8_E5M2FNUZ", "float8_e5m2fnuz", NULL, NULL, 1, 1},
    {"F8_E4M3FNUZ", "float8_e4m3fnuz", NULL, NULL, 1, 1},
    {"F8_E8M0", "float8_e8m0fnu", NULL, NULL, 1, 1},
    {"U16", "uint16", NULL, NULL, 2, 2},
    {"U32", "uint32", NULL, NULL, 4, 4},
    {"U64", "uint64", NULL, NULL, 8, 8},
};
enum { NDTYPES = sizeof(dtypes) / sizeof(dtypes[0]), DTYPE_U8 = 8 };

const te_dtype *te_dtype_info(unsigned dtype)
{
    return dtype < NDTYPES ? &dtypes[dtype] : NULL;
}

typedef struct te_obj {
    uint8_t kind;
    uint32_t len, cap; /* values; a dict holds two per pair */
    te_value *items;
} te_obj;

/* a storage value: a root storage, or (legacy) a view of part of one */
typedef struct te_sref {
    uint32_t storage;
    uint64_t byte_offset;
    uint64_t nbytes;
} te_sref;

struct te_eval {
    ms_limits limits;
    te_value *stack;
    size_t nstack, capstack;
    size_t *marks;
    size_t nmarks, capmarks;
    te_value *memo;
    size_t capmemo, puts;
    te_obj *objs;
    size_t nobjs, capobjs;
    te_storage *storages;
    size_t nstorages, capstorages;
    uint32_t *keyhash; /* open addressing over storage indices + 1 */
    size_t capkeyhash;
    te_sref *srefs;
    size_t nsrefs, capsrefs;
    te_tensor **tensors;
    size_t ntensors, captensors;
    uint64_t bytes; /* arena bytes in use */
    uint64_t opcodes;
    te_mode mode;
    size_t at; /* offset of the opcode being run */
    size_t error_offset;
    char error[TE_ERROR_MAX];
};

/* ------------------------------------------------------------------ */

static ms_status fail(te_eval *ev, ms_status st, const char *fmt, ...) MS_PRINTF(3, 4);
static ms_status fail(te_eval *ev, ms_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->error, sizeof(ev->error), fmt, ap);
    va_end(ap);
    ev->error_offset = ev->at;
    return st;
}

static ms_status nomem(te_eval *ev)
{
    return fail(ev, MS_NOMEM, "out of memory");
}

/* Grows *arr (of *cap elements of `size` bytes) to hold `need`, charging the
 * arena. */
static ms_status grow(te_eval *ev, void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return MS_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return nomem(ev);
        n *= 2;
    }
    uint64_t add, total;
    if (!ms_mul_u64(n - *cap, size, &add) || !ms_add_u64(ev->bytes, add, &total) ||
        total > TE_MAX_BYTES)
        return fail(ev, MS_LIMIT, "the pickle builds more than %d MiB of values; a tensor "
                                  "checkpoint's pickle needs far less",
                    TE_MAX_BYTES >> 20);
    void *p = realloc(*arr, n * size);
    if (!p)
        return nomem(ev);
    *arr = p;
    *cap = n;
    ev->bytes = total;
    return MS_OK;
}

#define GROW(ev, arr, cap, need) grow((ev), (void **)&(arr), &(cap), (need), sizeof(*(arr)))

te_eval *te_new(const ms_limits *limits)
{
    te_eval *ev = calloc(1, sizeof(*ev));
    if (ev)
        ev->limits = *limits;
    return ev;
}

void te_free(te_eval *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->nobjs; i++)
        free(ev->objs[i].items);
    for (size_t i = 0; i < ev->ntensors; i++)
        free(ev->tensors[i]);
    free(ev->objs);
    free(ev->tensors);
    free(ev->stack);
    free(ev->marks);
    free(ev->memo);
    free(ev->storages);
    free(ev->keyhash);
    free(ev->srefs);
    free(ev);
}

const char *te_error(const te_eval *ev)
{
    return ev->error;
}

size_t te_error_offset(const te_eval *ev)
{
    return ev->error_offset;
}

/* ------------------------------------------------------------------ */
/* values and objects */

static te_value val_int(int64_t i)
{
    te_value v = {TE_INT, 0, {.i = i}};
    return v;
}

static te_value val_kind(uint8_t kind, uint32_t id)
{
    te_value v = {kind, id, {.i = 0}};
    return v;
}

static te_value val_span(uint8_t kind, const uint8_t *p, uint64_t n)
{
    te_value v = {kind, 0, {.i = 0}};
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

static bool is_container(const te_value *v)
{
    return v->kind == TE_TUPLE || v->kind == TE_LIST || v->kind == TE_DICT || v->kind == TE_SET;
}

static ms_status obj_new(te_eval *ev, uint8_t kind, size_t cap, te_value *out)
{
    if (ev->nobjs >= UINT32_MAX)
        return fail(ev, MS_LIMIT, "too many containers");
    ms_status st = GROW(ev, ev->objs, ev->capobjs, ev->nobjs + 1);
    if (st != MS_OK)
        return st;
    te_obj *o = &ev->objs[ev->nobjs];
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    if (cap) {
        size_t c = 0;
        st = GROW(ev, o->items, c, cap);
        if (st != MS_OK)
            return st;
        o->cap = (uint32_t)c;
    }
    *out = val_kind(kind, (uint32_t)ev->nobjs++);
    return MS_OK;
}

static ms_status obj_push(te_eval *ev, uint32_t id, const te_value *items, size_t n)
{
    te_obj *o = &ev->objs[id];
    if ((uint64_t)o->len + n > UINT32_MAX)
        return fail(ev, MS_LIMIT, "a container holds too many items");
    size_t cap = o->cap;
    ms_status st = GROW(ev, o->items, cap, o->len + n);
    if (st != MS_OK)
        return st;
    o->cap = (uint32_t)cap;
    if (n)
        memcpy(o->items + o->len, items, n * sizeof(*items));
    o->len += (uint32_t)n;
    return MS_OK;
}

size_t te_len(const te_eval *ev, const te_value *v)
{
    if (!is_container(v))
        return 0;
    const te_obj *o = &ev->objs[v->id];
    return v->kind == TE_DICT ? o->len / 2 : o->len;
}

const te_value *te_item(const te_eval *ev, const te_value *v, size_t i)
{
    if (!is_container(v) || v->kind == TE_DICT || i >= ev->objs[v->id].len)
        return NULL;
    return &ev->objs[v->id].items[i];
}

bool te_dict_pair(const te_eval *ev, const te_value *dict, size_t i, const te_value **key,
                  const te_value **value)
{
    if (dict->kind != TE_DICT || i >= ev->objs[dict->id].len / 2)
        return false;
    *key = &ev->objs[dict->id].items[2 * i];
    *value = &ev->objs[dict->id].items[2 * i + 1];
    return true;
}

size_t te_storage_count(const te_eval *ev)
{
    return ev->nstorages;
}

te_storage *te_storage_at(te_eval *ev, size_t i)
{
    return i < ev->nstorages ? &ev->storages[i] : NULL;
}

const te_tensor *te_tensor_at(const te_eval *ev, uint32_t id)
{
    return id < ev->ntensors ? ev->tensors[id] : NULL;
}

const char *te_kind_name(const te_value *v)
{
    switch (v->kind) {
    case TE_NONE: return "None";
    case TE_BOOL: return "bool";
    case TE_INT:
    case TE_BIGINT: return "int";
    case TE_FLOAT: return "float";
    case TE_STR: return "str";
    case TE_BYTES: return "bytes";
    case TE_TUPLE: return "tuple";
    case TE_LIST: return "list";
    case TE_DICT: return "dict";
    case TE_SET: return "set";
    case TE_GLOBAL: return "class or function";
    case TE_STORAGE: return "storage";
    case TE_TENSOR: return "tensor";
    case TE_DEVICE: return "torch.device";
    default: return "value";
    }
}

static bool span_is(const uint8_t *p, uint64_t n, const char *s)
{
    size_t m = strlen(s);
    return n == m && memcmp(p, s, m) == 0;
}

bool te_is_str(const te_value *v, const char *s)
{
    return (v->kind == TE_STR || v->kind == TE_BYTES) && span_is(v->u.s.p, v->u.s.n, s);
}

/* ------------------------------------------------------------------ */
/* the vocabulary */

static bool lookup_global(const uint8_t *mod, size_t ml, const uint8_t *name, size_t nl,
                          uint32_t *id)
{
    static const struct {
        const char *module, *name;
        uint32_t id;
    } fixed[] = {
        {"torch._utils", "_rebuild_tensor", TG_REBUILD_TENSOR},
        {"torch._utils", "_rebuild_tensor_v2", TG_REBUILD_TENSOR_V2},
        {"torch._utils", "_rebuild_tensor_v3", TG_REBUILD_TENSOR_V3},
        {"torch._utils", "_rebuild_parameter", TG_REBUILD_PARAMETER},
        {"torch._utils", "_rebuild_parameter_with_state", TG_REBUILD_PARAMETER_STATE},
        {"collections", "OrderedDict", TG_ORDERED_DICT},
        {"torch", "Size", TG_SIZE},
        {"torch", "device", TG_DEVICE},
        {"torch", "UntypedStorage", TG_UNTYPED_STORAGE},
        {"torch.storage", "UntypedStorage", TG_UNTYPED_STORAGE},
        {"builtins", "set", TG_SET},
        {"__builtin__", "set", TG_SET},
        {"builtins", "frozenset", TG_FROZENSET},
        {"__builtin__", "frozenset", TG_FROZENSET},
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (span_is(mod, ml, fixed[i].module) && span_is(name, nl, fixed[i].name)) {
            *id = fixed[i].id;
            return true;
        }
    }
    if (!span_is(mod, ml, "torch"))
        return false;
    for (unsigned d = 0; d < NDTYPES; d++) {
        const te_dtype *t = &dtypes[d];
        if (t->storage_name && span_is(name, nl, t->storage_name)) {
            *id = (d << 8) | TG_STORAGE;
            return true;
        }
        if (span_is(name, nl, t->torch_name) ||
            (t->torch_alias && span_is(name, nl, t->torch_alias))) {
            *id = (d << 8) | TG_DTYPE;
            return true;
        }
    }
    return false;
}

static const char *global_name(uint32_t id, char *buf, size_t bufsz)
{
    unsigned d = id >> 8;
    switch (id & 0xff) {
    case TG_REBUILD_TENSOR: return "torch._utils._rebuild_tensor";
    case TG_REBUILD_TENSOR_V2: return "torch._utils._rebuild_tensor_v2";
    case TG_REBUILD_TENSOR_V3: return "torch._utils._rebuild_tensor_v3";
    case TG_REBUILD_PARAMETER: return "torch._utils._rebuild_parameter";
    case TG_REBUILD_PARAMETER_STATE: return "torch._utils._rebuild_parameter_with_state";
    case TG_ORDERED_DICT: return "collections.OrderedDict";
    case TG_SIZE: return "torch.Size";
    case TG_DEVICE: return "torch.device";
    case TG_SET: return "builtins.set";
    case TG_FROZENSET: return "builtins.frozenset";
    case TG_UNTYPED_STORAGE: return "torch.UntypedStorage";
    case TG_STORAGE:
        snprintf(buf, bufsz, "torch.%s", d < NDTYPES ? dtypes[d].storage_name : "?");
        return buf;
    case TG_DTYPE:
        snprintf(buf, bufsz, "torch.%s", d < NDTYPES ? dtypes[d].torch_name : "?");
        return buf;
    default: return "?";
    }
}

/* A name for messages: printable ASCII, shortened. */
static void show(const uint8_t *p, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < outsz; i++)
        out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    if (n && o + 4 >= outsz && o >= 3)
        memcpy(out + o - 3, "...", 3);
    out[o] = '\0';
}

static ms_status refuse_global(te_eval *ev, const uint8_t *mod, size_t ml, const uint8_t *name,
                               size_t nl)
{
    char m[160], n[160];
    show(mod, ml, m, sizeof(m));
    show(name, nl, n, sizeof(n));
    return fail(ev, MS_UNSUPPORTED,
                "the pickle imports %s.%s, which is outside the vocabulary of tensor "
                "checkpoints (tensor and parameter rebuild functions, storages, dtypes, "
                "torch.Size, torch.device, OrderedDict and plain values)",
                m, n);
}

/* ------------------------------------------------------------------ */
/* the stack */

static size_t fence(const te_eval *ev)
{
    return ev->nmarks ? ev->marks[ev->nmarks - 1] : 0;
}

static ms_status push(te_eval *ev, te_value v)
{
    if (ev->nstack >= ev->limits.pickle_max_stack)
        return fail(ev, MS_LIMIT, "more than %u values on the pickle stack",
                    ev->limits.pickle_max_stack);
    ms_status st = GROW(ev, ev->stack, ev->capstack, ev->nstack + 1);
    if (st != MS_OK)
        return st;
    ev->stack[ev->nstack++] = v;
    return MS_OK;
}

static ms_status pop(te_eval *ev, te_value *v)
{
    if (ev->nstack <= fence(ev))
        return fail(ev, MS_MALFORMED, "the opcode pops from an empty stack");
    *v = ev->stack[--ev->nstack];
    return MS_OK;
}

static te_value *top(te_eval *ev)
{
    return ev->nstack > fence(ev) ? &ev->stack[ev->nstack - 1] : NULL;
}

/* Removes the topmost mark; *from is where its items start. */
static ms_status pop_mark(te_eval *ev, size_t *from)
{
    if (!ev->nmarks)
        return fail(ev, MS_MALFORMED, "the opcode needs a MARK and there is none");
    *from = ev->marks[--ev->nmarks];
    return MS_OK;
}

/* The values from stack position `from` up (NULL when the stack never grew). */
static const te_value *stack_from(const te_eval *ev, size_t from)
{
    return ev->stack ? ev->stack + from : NULL;
}

static ms_status make_tuple(te_eval *ev, size_t from, te_value *out)
{
    size_t n = ev->nstack - from;
    ms_status st = obj_new(ev, TE_TUPLE, n, out);
    if (st == MS_OK)
        st = obj_push(ev, out->id, stack_from(ev, from), n);
    ev->nstack = from;
    return st;
}

/* ------------------------------------------------------------------ */
/* calls */

static const te_value *arg(const te_eval *ev, const te_value *args, size_t i)
{
    return te_item(ev, args, i);
}

static bool as_index(const te_value *v, uint64_t *out)
{
    if (v->kind != TE_INT || v->u.i < 0)
        return false;
    *out = (uint64_t)v->u.i;
    return true;
}

static ms_status rebuild_tensor(te_eval *ev, uint32_t fn, const te_value *args, te_value *out)
{
    char buf[64];
    const char *what = global_name(fn, buf, sizeof(buf));
    size_t n = te_len(ev, args);
    bool ok_count = fn == TG_REBUILD_TENSOR      ? n == 4
                    : fn == TG_REBUILD_TENSOR_V2 ? n == 6 || n == 7
                                                 : n == 7 || n == 8;
    if (!ok_count)
        return fail(ev, MS_MALFORMED, "%s is called with %zu arguments", what, n);
    const te_value *storage = arg(ev, args, 0), *offset = arg(ev, args, 1),
                   *size = arg(ev, args, 2), *stride = arg(ev, args, 3);
    if (storage->kind != TE_STORAGE)
        return fail(ev, MS_UNSUPPORTED, "%s rebuilds a tensor from a %s, not a storage", what,
                    te_kind_name(storage));
    const te_sref *ref = &ev->srefs[storage->id];
    unsigned dtype = ev->storages[ref->storage].dtype;
    if (fn != TG_REBUILD_TENSOR) {
        const te_value *grad = arg(ev, args, 4), *hooks = arg(ev, args, 5);
        if (grad->kind != TE_BOOL || hooks->kind != TE_DICT)
            return fail(ev, MS_UNSUPPORTED, "%s is called with requires_grad a %s and "
                                            "backward_hooks a %s",
                        what, te_kind_name(grad), te_kind_name(hooks));
        size_t meta_at = fn == TG_REBUILD_TENSOR_V2 ? 6 : 7;
        if (n > meta_at) {
            const te_value *meta = arg(ev, args, meta_at);
            if (meta->kind != TE_DICT && meta->kind != TE_NONE)
                return fail(ev, MS_UNSUPPORTED, "%s is called with metadata a %s", what,
                            te_kind_name(meta));
        }
    }
    if (fn == TG_REBUILD_TENSOR_V3) {
        const te_value *dt = arg(ev, args, 6);
        if (dt->kind != TE_GLOBAL || (dt->id & 0xff) != TG_DTYPE)
            return fail(ev, MS_UNSUPPORTED, "%s is called with a %s as its dtype", what,
                        te_kind_name(dt));
        dtype = dt->id >> 8;
    }
    uint64_t off;
    if (!as_index(offset, &off))
        return fail(ev, MS_MALFORMED, "the storage offset given to %s is not a non-negative "
                                      "integer",
                    what);
    if ((size->kind != TE_TUPLE && size->kind != TE_LIST) ||
        (stride->kind != TE_TUPLE && stride->kind != TE_LIST) ||
        te_len(ev, size) != te_len(ev, stride))
        return fail(ev, MS_MALFORMED, "the size and stride given to %s are not sequences of "
                                      "the same length",
                    what);
    size_t ndim = te_len(ev, size);
    if (ndim > TE_MAX_DIMS)
        return fail(ev, MS_UNSUPPORTED, "a tensor has %zu dimensions (at most %d convert)",
                    ndim, TE_MAX_DIMS);
    uint64_t bytes;
    size_t tsize = sizeof(te_tensor) + 2 * ndim * sizeof(uint64_t);
    if (!ms_add_u64(ev->bytes, tsize, &bytes) || bytes > TE_MAX_BYTES)
        return fail(ev, MS_LIMIT, "the pickle builds more than %d MiB of values",
                    TE_MAX_BYTES >> 20);
    if (ev->ntensors >= UINT32_MAX)
        return fail(ev, MS_LIMIT, "too many tensors");
    ms_status st = GROW(ev, ev->tensors, ev->captensors, ev->ntensors + 1);
    if (st != MS_OK)
        return st;
    te_tensor *t = calloc(1, tsize);
    if (!t)
        return nomem(ev);
    ev->bytes += tsize;
    uint32_t id = (uint32_t)ev->ntensors;
    ev->tensors[ev->ntensors++] = t; /* owned by the evaluator from here on */
    t->shape = t->dims;
    t->stride = t->dims + ndim;
    t->ndim = (unsigned)ndim;
    t->dtype = dtype;
    t->storage = ref->storage;
    uint64_t es = dtypes[dtype].size, numel = 1, last = off;
    bool overflow = false;
    for (size_t i = 0; i < ndim; i++) {
        if (!as_index(te_item(ev, size, i), &t->shape[i]) ||
            !as_index(te_item(ev, stride, i), &t->stride[i]))
            return fail(ev, MS_MALFORMED, "dimension %zu of a tensor has a size or stride "
                                          "that is not a non-negative integer",
                        i);
        overflow |= !ms_mul_u64(numel, t->shape[i], &numel);
    }
    uint64_t nbytes;
    if (overflow || !ms_mul_u64(numel, es, &nbytes) || nbytes > INT64_MAX)
        return fail(ev, MS_MALFORMED, "a tensor's size in bytes overflows 63 bits");
    t->numel = numel;
    uint64_t begin;
    if (!ms_mul_u64(off, es, &begin) || !ms_add_u64(begin, ref->byte_offset, &t->byte_offset))
        return fail(ev, MS_MALFORMED, "a tensor's storage offset overflows");
    if (numel > 0) {
        /* the last element torch's set_() would touch lies inside the storage */
        for (size_t i = 0; i < ndim; i++) {
            uint64_t step;
            if (!ms_mul_u64(t->shape[i] - 1, t->stride[i], &step) ||
                !ms_add_u64(last, step, &last))
                return fail(ev, MS_MALFORMED, "a tensor's extent overflows");
        }
        uint64_t end;
        if (!ms_add_u64(last, 1, &end) || !ms_mul_u64(end, es, &end) || end > ref->nbytes)
            return fail(ev, MS_MALFORMED,
                        "a tensor (storage offset %llu, %zu dimensions, dtype %s) reaches "
                        "past the end of its %llu-byte storage",
                        (unsigned long long)off, ndim, dtypes[dtype].safetensors,
                        (unsigned long long)ref->nbytes);
    }
    *out = val_kind(TE_TENSOR, id);
    return MS_OK;
}

static ms_status call(te_eval *ev, const te_value *fn, const te_value *args, te_value *out)
{
    if (fn->kind != TE_GLOBAL)
        return fail(ev, MS_UNSUPPORTED, "the pickle calls a %s; only the rebuild functions and "
                                        "constructors of the vocabulary may be called",
                    te_kind_name(fn));
    if (args->kind != TE_TUPLE)
        return fail(ev, MS_MALFORMED, "call arguments are a %s, not a tuple",
                    te_kind_name(args));
    size_t n = te_len(ev, args);
    uint32_t g = fn->id & 0xff;
    char buf[64];
    const te_value *a0 = n ? arg(ev, args, 0) : NULL;
    ms_status st;
    switch (g) {
    case TG_REBUILD_TENSOR:
    case TG_REBUILD_TENSOR_V2:
    case TG_REBUILD_TENSOR_V3: return rebuild_tensor(ev, g, args, out);
    case TG_REBUILD_PARAMETER:
    case TG_REBUILD_PARAMETER_STATE:
        if (n != (g == TG_REBUILD_PARAMETER ? 3u : 4u) || a0->kind != TE_TENSOR ||
            arg(ev, args, 1)->kind != TE_BOOL || arg(ev, args, 2)->kind != TE_DICT)
            return fail(ev, MS_UNSUPPORTED, "%s is not called with (tensor, bool, dict%s)",
                        global_name(g, buf, sizeof(buf)),
                        g == TG_REBUILD_PARAMETER ? "" : ", state");
        *out = *a0; /* a Parameter is its tensor, for safetensors */
        return MS_OK;
    case TG_ORDERED_DICT:
        st = obj_new(ev, TE_DICT, 0, out);
        if (st != MS_OK || n == 0)
            return st;
        if (n == 1 && (a0->kind == TE_LIST || a0->kind == TE_TUPLE)) {
            for (size_t i = 0; i < te_len(ev, a0) && st == MS_OK; i++) {
                const te_value *pair = te_item(ev, a0, i);
                if ((pair->kind != TE_TUPLE && pair->kind != TE_LIST) || te_len(ev, pair) != 2)
                    return fail(ev, MS_UNSUPPORTED, "OrderedDict() is given an item that is "
                                                    "not a pair");
                const te_value kv[2] = {*te_item(ev, pair, 0), *te_item(ev, pair, 1)};
                st = obj_push(ev, out->id, kv, 2);
            }
            return st;
        }
        return fail(ev, MS_UNSUPPORTED, "OrderedDict() is called with something other than a "
                                        "list of pairs");
    case TG_SIZE:
        if (n == 1 && (a0->kind == TE_TUPLE || a0->kind == TE_LIST)) {
            for (size_t i = 0; i < te_len(ev, a0); i++)
                if (te_item(ev, a0, i)->kind != TE_INT)
                    return fail(ev, MS_UNSUPPORTED, "torch.Size() is given a %s",
                                te_kind_name(te_item(ev, a0, i)));
            st = obj_new(ev, TE_TUPLE, te_len(ev, a0), out);
            if (st == MS_OK)
                st = obj_push(ev, out->id, ev->objs[a0->id].items, te_len(ev, a0));
            return st;
        }
        if (n == 0)
            return obj_new(ev, TE_TUPLE, 0, out);
        return fail(ev, MS_UNSUPPORTED, "torch.Size() is not called with one tuple of ints");
    case TG_DEVICE:
        if ((n == 1 || n == 2) && a0->kind == TE_STR &&
            (n == 1 || arg(ev, args, 1)->kind == TE_INT)) {
            *out = val_kind(TE_DEVICE, 0);
            return MS_OK;
        }
        return fail(ev, MS_UNSUPPORTED, "torch.device() is not called with (str[, int])");
    case TG_SET:
    case TG_FROZENSET:
        st = obj_new(ev, TE_SET, 0, out);
        if (st != MS_OK || n == 0)
            return st;
        if (n == 1 && (a0->kind == TE_LIST || a0->kind == TE_TUPLE || a0->kind == TE_SET))
            return obj_push(ev, out->id, ev->objs[a0->id].items, te_len(ev, a0));
        return fail(ev, MS_UNSUPPORTED, "set() is called with a %s",
                    n == 1 ? te_kind_name(a0) : "several arguments");
    default:
        return fail(ev, MS_UNSUPPORTED, "the pickle calls %s, which only names a type",
                    global_name(fn->id, buf, sizeof(buf)));
    }
}

/* ------------------------------------------------------------------ */
/* persistent ids: the storages */

static uint64_t hash_key(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* The storage named `key`, added (with dtype and numel) when new. */
static ms_status storage_for(te_eval *ev, const uint8_t *key, size_t key_len, unsigned dtype,
                             uint64_t numel, uint32_t *index)
{
    if (ev->nstorages * 2 + 2 > ev->capkeyhash) {
        size_t cap = ev->capkeyhash ? ev->capkeyhash * 2 : 64;
        uint64_t total;
        if (!ms_add_u64(ev->bytes, cap * sizeof(uint32_t), &total) || total > TE_MAX_BYTES)
            return fail(ev, MS_LIMIT, "too many storages");
        uint32_t *h = calloc(cap, sizeof(*h));
        if (!h)
            return nomem(ev);
        for (size_t i = 0; i < ev->nstorages; i++) {
            size_t j = hash_key(ev->storages[i].key, ev->storages[i].key_len) & (cap - 1);
            while (h[j])
                j = (j + 1) & (cap - 1);
            h[j] = (uint32_t)i + 1;
        }
        ev->bytes = total - ev->capkeyhash * sizeof(uint32_t);
        free(ev->keyhash);
        ev->keyhash = h;
        ev->capkeyhash = cap;
    }
    size_t j = hash_key(key, key_len) & (ev->capkeyhash - 1);
    for (; ev->keyhash[j]; j = (j + 1) & (ev->capkeyhash - 1)) {
        te_storage *s = &ev->storages[ev->keyhash[j] - 1];
        if (s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
            if (s->dtype != dtype || s->numel != numel)
                return fail(ev, MS_MALFORMED,
                            "storage '%.*s' is named twice with different types or sizes",
                            (int)(key_len > 64 ? 64 : key_len), (const char *)key);
            *index = ev->keyhash[j] - 1;
            return MS_OK;
        }
    }
    if (ev->nstorages >= UINT32_MAX - 1)
        return fail(ev, MS_LIMIT, "too many storages");
    ms_status st = GROW(ev, ev->storages, ev->capstorages, ev->nstorages + 1);
    if (st != MS_OK)
        return st;
    te_storage *s = &ev->storages[ev->nstorages];
    memset(s, 0, sizeof(*s));
    s->key = key;
    s->key_len = key_len;
    s->dtype = dtype;
    s->numel = numel;
    if (!ms_mul_u64(numel, dtypes[dtype].size, &s->nbytes))
        return fail(ev, MS_MALFORMED, "a storage's size overflows 64 bits");
    ev->keyhash[j] = (uint32_t)ev->nstorages + 1;
    *index = (uint32_t)ev->nstorages++;
    return MS_OK;
}

int64_t te_storage_find(const te_eval *ev, const uint8_t *key, size_t key_len)
{
    if (!ev->capkeyhash)
        return -1;
    size_t j = hash_key(key, key_len) & (ev->capkeyhash - 1);
    for (; ev->keyhash[j]; j = (j + 1) & (ev->capkeyhash - 1)) {
        const te_storage *s = &ev->storages[ev->keyhash[j] - 1];
        if (s->key_len == key_len && memcmp(s->key, key, key_len) == 0)
            return (int64_t)ev->keyhash[j] - 1;
    }
    return -1;
}

static ms_status persistent_load(te_eval *ev, const te_value *pid, te_value *out)
{
    if (ev->mode == TE_MODE_PLAIN)
        return fail(ev, MS_UNSUPPORTED, "a persistent id outside the checkpoint's main pickle");
    if (pid->kind != TE_TUPLE || te_len(ev, pid) == 0)
        return fail(ev, MS_UNSUPPORTED, "a persistent id is a %s, not a tuple",
                    te_kind_name(pid));
    const te_value *tag = arg(ev, pid, 0);
    if (te_is_str(tag, "module"))
        return fail(ev, MS_UNSUPPORTED, "a persistent id names a pickled nn.Module class: the "
                                        "file holds a whole model, not a state dict");
    if (!te_is_str(tag, "storage"))
        return fail(ev, MS_UNSUPPORTED, "a persistent id is not a ('storage', ...) tuple");
    size_t want = ev->mode == TE_MODE_ZIP ? 5 : 6;
    if (te_len(ev, pid) != want)
        return fail(ev, MS_MALFORMED, "a storage persistent id has %zu items, not %zu",
                    te_len(ev, pid), want);
    const te_value *type = arg(ev, pid, 1), *key = arg(ev, pid, 2), *loc = arg(ev, pid, 3),
                   *numel = arg(ev, pid, 4);
    unsigned dtype;
    if (type->kind == TE_GLOBAL && (type->id & 0xff) == TG_STORAGE)
        dtype = type->id >> 8;
    else if (type->kind == TE_GLOBAL && (type->id & 0xff) == TG_UNTYPED_STORAGE)
        dtype = DTYPE_U8;
    else
        return fail(ev, MS_UNSUPPORTED, "a storage persistent id names a %s as its type",
                    te_kind_name(type));
    uint64_t count;
    if (key->kind != TE_STR || (loc->kind != TE_STR && loc->kind != TE_BYTES) ||
        !as_index(numel, &count))
        return fail(ev, MS_MALFORMED, "a storage persistent id is not (str, type, str key, "
                                      "str location, int size)");
    uint32_t index = 0;
    ms_status st = storage_for(ev, key->u.s.p, key->u.s.n, dtype, count, &index);
    if (st != MS_OK)
        return st;
    te_sref ref = {index, 0, ev->storages[index].nbytes};
    if (ev->mode == TE_MODE_LEGACY) {
        const te_value *view = arg(ev, pid, 5);
        if (view->kind != TE_NONE) {
            uint64_t voff, vsize, es = dtypes[dtype].size, end;
            if (view->kind != TE_TUPLE || te_len(ev, view) != 3 ||
                arg(ev, view, 0)->kind != TE_STR || !as_index(arg(ev, view, 1), &voff) ||
                !as_index(arg(ev, view, 2), &vsize))
                return fail(ev, MS_MALFORMED, "a storage view is not (str key, int offset, "
                                              "int size)");
            if (!ms_add_u64(voff, vsize, &end) || !ms_mul_u64(end, es, &end) ||
                end > ref.nbytes)
                return fail(ev, MS_MALFORMED, "a storage view reaches past its storage");
            ref.byte_offset = voff * es;
            ref.nbytes = vsize * es;
        }
    }
    if (ev->nsrefs >= UINT32_MAX)
        return fail(ev, MS_LIMIT, "too many storage references");
    st = GROW(ev, ev->srefs, ev->capsrefs, ev->nsrefs + 1);
    if (st != MS_OK)
        return st;
    ev->srefs[ev->nsrefs] = ref;
    *out = val_kind(TE_STORAGE, (uint32_t)ev->nsrefs++);
    return MS_OK;
}

/* ------------------------------------------------------------------ */
/* the opcode loop */

static ms_status memo_put(te_eval *ev, uint64_t index)
{
    te_value *v = top(ev);
    if (!v)
        return fail(ev, MS_MALFORMED, "a memo opcode with an empty stack");
    if (index > ev->limits.pickle_max_memo || index > ev->puts + TE_MEMO_SLACK)
        return fail(ev, MS_LIMIT, "memo index %llu is far beyond what a pickler writes",
                    (unsigned long long)index);
    te_value keep = *v;
    size_t cap = ev->capmemo;
    ms_status st = GROW(ev, ev->memo, cap, (size_t)index + 1);
    if (st != MS_OK)
        return st;
    if (cap > ev->capmemo)
        memset(ev->memo + ev->capmemo, 0, (cap - ev->capmemo) * sizeof(*ev->memo));
    ev->capmemo = cap;
    if (ev->memo[index].kind == TE_UNSET)
        ev->puts++;
    ev->memo[index] = keep;
    return MS_OK;
}

static ms_status memo_get(te_eval *ev, uint64_t index)
{
    if (index >= ev->capmemo || ev->memo[index].kind == TE_UNSET)
        return fail(ev, MS_MALFORMED, "memo entry %llu is read before it is written",
                    (unsigned long long)index);
    return push(ev, ev->memo[index]);
}

/* LONG1 / LONG4: little-endian two's complement */
static te_value read_long(const uint8_t *p, uint64_t n)
{
    if (n == 0)
        return val_int(0);
    if (n > 8)
        return val_span(TE_BIGINT, p, n);
    uint64_t u = 0;
    for (uint64_t i = n; i-- > 0;)
        u = (u << 8) | p[i];
    if (n < 8 && (p[n - 1] & 0x80))
        u |= ~UINT64_C(0) << (8 * n);
    int64_t i;
    memcpy(&i, &u, sizeof(i));
    return val_int(i);
}

static ms_status push_span(te_eval *ev, ms_cursor *c, uint8_t kind, uint64_t n)
{
    if (c->error)
        return fail(ev, MS_TRUNCATED, "the stream ends inside an opcode");
    if (n > ms_cursor_left(c))
        return fail(ev, MS_TRUNCATED, "a %llu-byte string runs past the end of the pickle",
                    (unsigned long long)n);
    const uint8_t *p = ms_cursor_take(c, (size_t)n);
    return push(ev, val_span(kind, p, n));
}

/* Items above the topmost mark go into the container below it. */
static ms_status add_from_mark(te_eval *ev, uint8_t want, const char *op)
{
    size_t from = 0;
    ms_status st = pop_mark(ev, &from);
    if (st != MS_OK)
        return st;
    /* the container sits just below the items (and above any outer mark) */
    te_value *target = from > fence(ev) ? &ev->stack[from - 1] : NULL;
    if (!target || target->kind != want)
        return fail(ev, MS_UNSUPPORTED, "%s adds items to a %s", op,
                    target ? te_kind_name(target) : "missing object");
    size_t n = ev->nstack - from;
    if (want == TE_DICT && n % 2)
        return fail(ev, MS_MALFORMED, "SETITEMS with an odd number of items");
    st = obj_push(ev, target->id, stack_from(ev, from), n);
    ev->nstack = from;
    return st;
}

static ms_status run_op(te_eval *ev, ms_cursor *c, uint8_t op, bool *stop, te_value *result)
{
    te_value a, b;
    ms_status st = MS_OK;
    size_t from = 0;
    switch (op) {
    case OP_PROTO: {
        uint8_t proto = ms_cursor_u8(c);
        if (!c->error && proto > 5)
            return fail(ev, MS_UNSUPPORTED, "pickle protocol %u", proto);
        break;
    }
    case OP_FRAME: ms_cursor_skip(c, 8); break; /* frames are transparent */
    case OP_MARK:
        if (ev->nmarks >= ev->limits.pickle_max_marks)
            return fail(ev, MS_LIMIT, "more than %u nested MARKs", ev->limits.pickle_max_marks);
        st = GROW(ev, ev->marks, ev->capmarks, ev->nmarks + 1);
        if (st == MS_OK)
            ev->marks[ev->nmarks++] = ev->nstack;
        return st;
    case OP_STOP:
        st = pop(ev, result);
        *stop = st == MS_OK;
        return st;
    case OP_POP:
        if (ev->nmarks && ev->marks[ev->nmarks - 1] == ev->nstack) {
            ev->nmarks--;
            return MS_OK;
        }
        return pop(ev, &a);
    case OP_POP_MARK:
        st = pop_mark(ev, &from);
        if (st == MS_OK)
            ev->nstack = from;
        return st;
    case OP_DUP:
        if (!top(ev))
            return fail(ev, MS_MALFORMED, "DUP with an empty stack");
        return push(ev, *top(ev));
    case OP_NONE: return push(ev, val_kind(TE_NONE, 0));
    case OP_NEWTRUE:
    case OP_NEWFALSE: {
        te_value v = {TE_BOOL, 0, {.i = op == OP_NEWTRUE}};
        return push(ev, v);
    }
    case OP_BININT: {
        uint32_t u = ms_cursor_u32le(c);
        int32_t i;
        memcpy(&i, &u, sizeof(i));
        if (!c->error)
            st = push(ev, val_int(i));
        break;
    }
    case OP_BININT1: {
        uint8_t u = ms_cursor_u8(c);
        if (!c->error)
            st = push(ev, val_int(u));
        break;
    }
    case OP_BININT2: {
        uint16_t u = ms_cursor_u16le(c);
        if (!c->error)
            st = push(ev, val_int(u));
        break;
    }
    case OP_LONG1:
    case OP_LONG4: {
        uint64_t n = op == OP_LONG1 ? ms_cursor_u8(c) : ms_cursor_u32le(c);
        if (op == OP_LONG4 && n > INT32_MAX)
            return fail(ev, MS_MALFORMED, "LONG4 with a negative length");
        if (!c->error && n > ms_cursor_left(c))
            return fail(ev, MS_TRUNCATED, "a LONG runs past the end of the pickle");
        const uint8_t *p = ms_cursor_take(c, (size_t)n);
        if (!c->error)
            st = push(ev, read_long(p, n));
        break;
    }
    case OP_BINFLOAT: {
        const uint8_t *p = ms_cursor_take(c, 8);
        if (p) {
            uint64_t u = 0;
            for (int i = 0; i < 8; i++)
                u = (u << 8) | p[i];
            te_value v = {TE_FLOAT, 0, {.i = 0}};
            memcpy(&v.u.f, &u, sizeof(v.u.f));
            st = push(ev, v);
        }
        break;
    }
    case OP_SHORT_BINSTRING: return push_span(ev, c, TE_STR, ms_cursor_u8(c));
    case OP_BINSTRING: {
        uint32_t n = ms_cursor_u32le(c);
        if (n > INT32_MAX)
            return fail(ev, MS_MALFORMED, "BINSTRING with a negative length");
        return push_span(ev, c, TE_STR, n);
    }
    case OP_SHORT_BINUNICODE: return push_span(ev, c, TE_STR, ms_cursor_u8(c));
    case OP_BINUNICODE: return push_span(ev, c, TE_STR, ms_cursor_u32le(c));
    case OP_BINUNICODE8: return push_span(ev, c, TE_STR, ms_cursor_u64le(c));
    case OP_SHORT_BINBYTES: return push_span(ev, c, TE_BYTES, ms_cursor_u8(c));
    case OP_BINBYTES: return push_span(ev, c, TE_BYTES, ms_cursor_u32le(c));
    case OP_BINBYTES8:
    case OP_BYTEARRAY8: return push_span(ev, c, TE_BYTES, ms_cursor_u64le(c));
    case OP_EMPTY_TUPLE: st = obj_new(ev, TE_TUPLE, 0, &a); goto push_a;
    case OP_EMPTY_LIST: st = obj_new(ev, TE_LIST, 0, &a); goto push_a;
    case OP_EMPTY_DICT: st = obj_new(ev, TE_DICT, 0, &a); goto push_a;
    case OP_EMPTY_SET: st = obj_new(ev, TE_SET, 0, &a); goto push_a;
    case OP_TUPLE:
        st = pop_mark(ev, &from);
        if (st == MS_OK)
            st = make_tuple(ev, from, &a);
        goto push_a;
    case OP_TUPLE1:
    case OP_TUPLE2:
    case OP_TUPLE3: {
        size_t n = (size_t)(op - OP_TUPLE1 + 1);
        if (ev->nstack < fence(ev) + n)
            return fail(ev, MS_MALFORMED, "TUPLE%zu with fewer than %zu values", n, n);
        st = make_tuple(ev, ev->nstack - n, &a);
        goto push_a;
    }
    case OP_LIST:
    case OP_DICT:
    case OP_FROZENSET: {
        uint8_t kind = op == OP_LIST ? TE_LIST : op == OP_DICT ? TE_DICT : TE_SET;
        st = pop_mark(ev, &from);
        if (st != MS_OK)
            return st;
        if (kind == TE_DICT && (ev->nstack - from) % 2)
            return fail(ev, MS_MALFORMED, "DICT with an odd number of items");
        st = obj_new(ev, kind, ev->nstack - from, &a);
        if (st == MS_OK)
            st = obj_push(ev, a.id, stack_from(ev, from), ev->nstack - from);
        ev->nstack = from;
        goto push_a;
    }
    case OP_APPEND:
        st = pop(ev, &a);
        if (st != MS_OK)
            return st;
        if (!top(ev) || top(ev)->kind != TE_LIST)
            return fail(ev, MS_UNSUPPORTED, "APPEND to a %s",
                        top(ev) ? te_kind_name(top(ev)) : "missing object");
        return obj_push(ev, top(ev)->id, &a, 1);
    case OP_APPENDS: return add_from_mark(ev, TE_LIST, "APPENDS");
    case OP_ADDITEMS: return add_from_mark(ev, TE_SET, "ADDITEMS");
    case OP_SETITEMS: return add_from_mark(ev, TE_DICT, "SETITEMS");
    case OP_SETITEM: {
        te_value kv[2];
        st = pop(ev, &kv[1]);
        if (st == MS_OK)
            st = pop(ev, &kv[0]);
        if (st != MS_OK)
            return st;
        if (!top(ev) || top(ev)->kind != TE_DICT)
            return fail(ev, MS_UNSUPPORTED, "SETITEM on a %s",
                        top(ev) ? te_kind_name(top(ev)) : "missing object");
        return obj_push(ev, top(ev)->id, kv, 2);
    }
    case OP_GLOBAL: {
        size_t ml, nl;
        const uint8_t *m = ms_cursor_line(c, &ml);
        const uint8_t *n = m ? ms_cursor_line(c, &nl) : NULL;
        if (!n)
            return fail(ev, MS_TRUNCATED, "GLOBAL without two lines");
        uint32_t id;
        if (!lookup_global(m, ml, n, nl, &id))
            return refuse_global(ev, m, ml, n, nl);
        return push(ev, val_kind(TE_GLOBAL, id));
    }
    case OP_STACK_GLOBAL: {
        st = pop(ev, &b);
        if (st == MS_OK)
            st = pop(ev, &a);
        if (st != MS_OK)
            return st;
        if (a.kind != TE_STR || b.kind != TE_STR)
            return fail(ev, MS_UNSUPPORTED, "STACK_GLOBAL with a module or name that is not a "
                                            "string");
        uint32_t id;
        if (!lookup_global(a.u.s.p, a.u.s.n, b.u.s.p, b.u.s.n, &id))
            return refuse_global(ev, a.u.s.p, a.u.s.n, b.u.s.p, b.u.s.n);
        return push(ev, val_kind(TE_GLOBAL, id));
    }
    case OP_REDUCE:
        st = pop(ev, &b);
        if (st == MS_OK)
            st = pop(ev, &a);
        if (st == MS_OK)
            st = call(ev, &a, &b, &a);
        goto push_a;
    case OP_NEWOBJ:
        st = pop(ev, &b);
        if (st == MS_OK)
            st = pop(ev, &a);
        if (st != MS_OK)
            return st;
        if (a.kind != TE_GLOBAL || (a.id & 0xff) != TG_ORDERED_DICT || b.kind != TE_TUPLE ||
            te_len(ev, &b) != 0)
            return fail(ev, MS_UNSUPPORTED, "NEWOBJ builds something other than an empty "
                                            "OrderedDict");
        st = obj_new(ev, TE_DICT, 0, &a);
        goto push_a;
    case OP_BUILD:
        st = pop(ev, &b);
        if (st != MS_OK)
            return st;
        /* OrderedDict's attributes (a state dict's _metadata): ignored */
        if (top(ev) && top(ev)->kind == TE_DICT &&
            (b.kind == TE_DICT || (b.kind == TE_TUPLE && te_len(ev, &b) == 2)))
            return MS_OK;
        return fail(ev, MS_UNSUPPORTED, "BUILD sets the state of a %s",
                    top(ev) ? te_kind_name(top(ev)) : "missing object");
    case OP_BINPERSID:
        st = pop(ev, &a);
        if (st == MS_OK)
            st = persistent_load(ev, &a, &a);
        goto push_a;
    case OP_BINPUT: {
        uint8_t i = ms_cursor_u8(c);
        if (!c->error)
            st = memo_put(ev, i);
        break;
    }
    case OP_LONG_BINPUT: {
        uint32_t i = ms_cursor_u32le(c);
        if (!c->error)
            st = memo_put(ev, i);
        break;
    }
    case OP_MEMOIZE: return memo_put(ev, ev->puts);
    case OP_BINGET: {
        uint8_t i = ms_cursor_u8(c);
        if (!c->error)
            st = memo_get(ev, i);
        break;
    }
    case OP_LONG_BINGET: {
        uint32_t i = ms_cursor_u32le(c);
        if (!c->error)
            st = memo_get(ev, i);
        break;
    }
    default:
        return fail(ev, MS_UNSUPPORTED, "opcode %s (0x%02x) is outside what torch.save writes",
                    pickle_opcode_name(op), op);
    }
    if (st == MS_OK && c->error)
        return fail(ev, MS_TRUNCATED, "the stream ends inside a %s opcode",
                    pickle_opcode_name(op));
    return st;
push_a:
    return st == MS_OK ? push(ev, a) : st;
}

ms_status te_run(te_eval *ev, const uint8_t *data, size_t len, size_t start, te_mode mode,
                 te_value *result, size_t *end)
{
    ev->nstack = 0;
    ev->nmarks = 0;
    ev->puts = 0;
    if (ev->memo)
        memset(ev->memo, 0, ev->capmemo * sizeof(*ev->memo));
    ev->mode = mode;
    ev->error[0] = '\0';
    ev->error_offset = start;
    ev->at = start;
    if (start > len)
        return fail(ev, MS_TRUNCATED, "the stream starts past the end of the data");
    ms_cursor c = ms_cursor_make(data, len);
    c.off = start;
    for (;;) {
        ev->at = c.off;
        if (++ev->opcodes > ev->limits.pickle_max_opcodes)
            return fail(ev, MS_LIMIT, "more than %llu pickle opcodes",
                        (unsigned long long)ev->limits.pickle_max_opcodes);
        uint8_t op = ms_cursor_u8(&c);
        if (c.error)
            return fail(ev, MS_TRUNCATED, "the pickle ends before its STOP opcode");
        bool stop = false;
        ms_status st = run_op(ev, &c, op, &stop, result);
        if (st != MS_OK)
            return st;
        if (stop) {
            *end = c.off;
            return MS_OK;
        }
    }
}
