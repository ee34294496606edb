/*
 * pickle_vm.h - a symbolic emulator of Python's pickle machine.
 *
 * It decodes every opcode of protocols 0-5 and emulates the stack, the memo
 * and the marks with symbolic values, so every imported global is resolved to
 * its module and name however the strings got to STACK_GLOBAL, and every call
 * (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ, BUILD and container mutations on
 * objects built by calls) is handed to the caller with its callable and its
 * arguments. It never imports or calls anything: facts only; the policy layer
 * decides (src/formats/pickle/).
 *
 * Memory: scalars and strings are values (strings point into the input);
 * tuples, lists, call results and owned byte strings are small refcounted
 * objects that keep at most PICKLE_KEEP items. What stays alive is what the
 * stack and the memo reference, so memory grows with the memo, not the file.
 */
#ifndef MS_PICKLE_VM_H
#define MS_PICKLE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_scanner.h"
#include "../util/strbuf.h"

enum {
    PICKLE_KEEP = 6, /* items kept per tuple/list: enough for any call signature we render */
};

typedef enum pickle_kind {
    PK_EMPTY = 0, /* unset memo slot */
    PK_NONE,
    PK_BOOL,
    PK_INT,    /* u.i */
    PK_BIGINT, /* u.p/len: little-endian two's complement bytes (LONG1/LONG4) or text */
    PK_FLOAT,  /* u.f */
    PK_STR,    /* u.p/len, see PV_ESC_* flags */
    PK_BYTES,  /* u.p/len, or u.o when PV_OWNED */
    PK_DICT,   /* n: count; u.i: id for pickle_vm_dict_get */
    PK_SET,
    PK_FROZENSET,
    PK_GLOBAL, /* id: index in the VM's global table */
    PK_TUPLE,  /* u.o */
    PK_LIST,   /* u.o */
    PK_CALL,   /* u.o: result of calling something */
    PK_PERSID, /* u.o: persistent id (items[0] is the id) */
    PK_BUFFER, /* out-of-band buffer (protocol 5) */
    PK_UNKNOWN,
} pickle_kind;

/* value flags */
enum {
    PV_ESC_S = 1,     /* STRING opcode: Python repr with quotes, escapes undecoded */
    PV_ESC_V = 2,     /* UNICODE opcode: raw-unicode-escape undecoded */
    PV_HEAPSTR = 4,   /* u.o is a string object: owned bytes, or a span of 4 GiB or more */
    PV_BYTEARRAY = 8, /* BYTEARRAY8 */
    PV_TEXTINT = 16,  /* BIGINT given as decimal text (INT/LONG opcode) */
    PV_OBJ = 32,      /* u.o is a refcounted object (tuples, lists, calls, string objects) */
};

struct pickle_obj;

/* 16 bytes: values are copied freely; only objects are refcounted. */
typedef struct pickle_value {
    uint8_t kind;
    uint8_t flags;
    uint16_t spare;
    uint32_t n; /* global id (PK_GLOBAL), saturating count (dict/set), byte length
                 * (inline PK_STR/PK_BYTES/PK_BIGINT spans below 4 GiB) */
    union {
        int64_t i;
        double f;
        const uint8_t *p;
        struct pickle_obj *o;
    } u;
} pickle_value;

/* Objects come from per-size free lists: `cap` items of storage follow the
 * 16-byte header, and only as much as the object needs is allocated, so the
 * union below is never used beyond `cap` (calls and string objects use 2
 * items of space). */
typedef struct pickle_obj {
    uint32_t refs;
    uint8_t nkept;
    uint8_t cap;
    uint8_t kind;   /* the kind of the values that point here */
    uint8_t vflags; /* PV_HEAPSTR for string objects */
    uint32_t count; /* items added, saturating */
    uint8_t opcode; /* PK_CALL: the opcode that made the call */
    union {
        pickle_value items[PICKLE_KEEP];
        struct {
            pickle_value callable;
            pickle_value args;
        } call;
        struct {
            const uint8_t *data;
            uint64_t len;
            bool owned;
        } str;
    } u;
} pickle_obj;

typedef struct pickle_global {
    char *module;   /* NUL-terminated; "?" parts for dynamic globals */
    char *name;
    size_t offset;  /* first import */
    uint8_t opcode; /* first importing opcode */
    bool dynamic;   /* STACK_GLOBAL operands were not constants */
    bool extension; /* EXT1/2/4: module/name unknown */
    int32_t ext_code;
    uint32_t imports; /* how many times imported */
} pickle_global;

typedef struct pickle_vm pickle_vm;

typedef struct pickle_hooks {
    void *ud;
    /* A global was pushed (every import, including repeats). */
    void (*on_global)(void *ud, pickle_vm *vm, uint32_t gid, size_t offset, uint8_t opcode);
    /* Something is called. `callable` may be any value; for BUILD/APPEND-like
     * opcodes it is the object receiving the call. Return true and set *result
     * to replace the symbolic result (pure functions evaluated by the caller);
     * the VM takes ownership of *result. */
    bool (*on_call)(void *ud, pickle_vm *vm, const pickle_value *callable,
                    const pickle_value *args, size_t offset, uint8_t opcode,
                    pickle_value *result);
    /* A persistent id was pushed (PERSID/BINPERSID); `pid` is the id value. */
    void (*on_persid)(void *ud, pickle_vm *vm, const pickle_value *pid, size_t offset);
    /* Called every 16 MiB of input consumed: the caller may release pages of
     * a file mapping behind `offset` (values keep pointing into it; released
     * file pages are read again if a later opcode uses them). Returning false
     * stops the run with MS_LIMIT (a time limit, say). */
    bool (*on_progress)(void *ud, pickle_vm *vm, size_t offset);
    /* Each opcode, after it executes, with its decoded argument (for explain). */
    void (*on_op)(void *ud, pickle_vm *vm, size_t offset, uint8_t opcode, const char *arg);
} pickle_hooks;

typedef struct pickle_run_result {
    ms_status status;   /* MS_OK: reached STOP */
    size_t end;         /* offset after STOP, or of the failing opcode */
    size_t error_offset;
    const char *error;  /* static text when status != MS_OK */
    uint8_t error_opcode;
    uint64_t opcodes;
    int protocol;       /* last PROTO seen, -1 if none */
    pickle_value result; /* the value STOP returned (borrowed until next run/reset) */
} pickle_run_result;

pickle_vm *pickle_vm_new(const ms_limits *limits, const pickle_hooks *hooks);
void pickle_vm_free(pickle_vm *vm);

/* Runs one pickle stream starting at data[start]. The buffer must stay valid
 * for as long as values from this run are used. Clears stack, marks and memo
 * first; the global table is kept across runs. */
void pickle_vm_run(pickle_vm *vm, const uint8_t *data, size_t len, size_t start,
                   pickle_run_result *res);

const pickle_global *pickle_vm_global(const pickle_vm *vm, uint32_t gid);
uint32_t pickle_vm_global_count(const pickle_vm *vm);
/* Which limit was hit during the last run, or NULL. */
const char *pickle_vm_limit_hit(const pickle_vm *vm);

/* For hooks: the offset just after the opcode being executed, and a request
 * to skip `nbytes` of raw data there before the next opcode (joblib writes
 * array bytes inline after its wrapper's BUILD). Skipping past the end stops
 * the run as truncated. */
size_t pickle_vm_offset(const pickle_vm *vm);
void pickle_vm_skip(pickle_vm *vm, uint64_t nbytes);
/* The value stored under string key `key` in a recently built dict (the VM
 * keeps the first items of the last few dicts only). */
bool pickle_vm_dict_get(const pickle_vm *vm, const pickle_value *dict, const char *key,
                        const pickle_value **value);

/* Value helpers. */
void pickle_value_incref(pickle_value v);
void pickle_value_decref(pickle_vm *vm, pickle_value v);
/* The text or bytes of a PK_STR/PK_BYTES value with escapes decoded. *owned is
 * set to a buffer the caller frees when decoding was needed. Returns false for
 * other kinds. `max` caps decoded output (truncation returns false). */
/* Byte length of a string, bytes or big-integer value. */
uint64_t pickle_value_len(const pickle_value *v);
bool pickle_value_bytes(const pickle_value *v, const uint8_t **p, size_t *len, uint8_t **owned,
                        size_t max);
/* A new PK_BYTES value owning `data` (malloc'd); PK_UNKNOWN on failure. */
pickle_value pickle_vm_make_bytes(pickle_vm *vm, uint8_t *data, size_t len);
pickle_value pickle_vm_make_global(pickle_vm *vm, const char *module, const char *name,
                                   size_t offset, uint8_t opcode);
/* Item i of a tuple/list (kept items only); NULL when absent. */
const pickle_value *pickle_value_item(const pickle_value *v, size_t i);
size_t pickle_value_count(const pickle_value *v);
/* Python-like rendering, bounded, for descriptions. */
void pickle_value_render(const pickle_vm *vm, const pickle_value *v, ms_strbuf *sb);
const char *pickle_opcode_name(uint8_t op);

#endif
