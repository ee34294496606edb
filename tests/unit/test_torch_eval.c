/*
 * test_torch_eval.c - the restricted evaluator of `convert` on hand-built
 * pickles: what it accepts (state dicts of tensors, parameters, v3 dtypes,
 * shared storages) and what it refuses, and why (anything outside the
 * vocabulary, broken streams, tensors outside their storage, non-tensor
 * entries without --drop-non-tensors). Its own program, so the shared unit
 * runner is untouched.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ms_convert.h"
#include "unit.h"

int unit_passed, unit_failed;

typedef struct pk {
    uint8_t b[8192];
    size_t n;
} pk;

static void op(pk *p, uint8_t c)
{
    if (p->n < sizeof(p->b))
        p->b[p->n++] = c;
}

static void text(pk *p, const char *s)
{
    while (*s)
        op(p, (uint8_t)*s++);
}

static void u32(pk *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        op(p, (uint8_t)(v >> (8 * i)));
}

static void str(pk *p, const char *s)
{
    op(p, 'X');
    u32(p, (uint32_t)strlen(s));
    text(p, s);
}

static void glob(pk *p, const char *module, const char *name)
{
    op(p, 'c');
    text(p, module);
    op(p, '\n');
    text(p, name);
    op(p, '\n');
}

static void int1(pk *p, uint8_t v)
{
    op(p, 'K');
    op(p, v);
}

static void start(pk *p)
{
    p->n = 0;
    op(p, 0x80);
    op(p, 2);
}

static void odict(pk *p)
{
    glob(p, "collections", "OrderedDict");
    op(p, ')');
    op(p, 'R');
}

/* _rebuild_tensor_v2(('storage', torch.<cls>, key, 'cpu', numel), off,
 * (d0, d1), (s0, s1), False, OrderedDict()) */
static void tensor2(pk *p, const char *cls, const char *key, uint8_t numel, uint8_t off,
                    uint8_t d0, uint8_t d1, uint8_t s0, uint8_t s1)
{
    glob(p, "torch._utils", "_rebuild_tensor_v2");
    op(p, '(');
    op(p, '(');
    str(p, "storage");
    glob(p, "torch", cls);
    str(p, key);
    str(p, "cpu");
    int1(p, numel);
    op(p, 't');
    op(p, 'Q');
    int1(p, off);
    int1(p, d0);
    int1(p, d1);
    op(p, 0x86);
    int1(p, s0);
    int1(p, s1);
    op(p, 0x86);
    op(p, 0x89);
    odict(p);
    op(p, 't');
    op(p, 'R');
}

static ms_convert_verdict run(const pk *p, bool drop, char **why)
{
    ms_convert_options opts;
    ms_convert_options_default(&opts);
    opts.drop_non_tensors = drop;
    return ms_convert_check_pickle(p->b, p->n, &opts, why);
}

/* The verdict is `want` and, when `needle`, the message contains it. */
static void expect(const pk *p, bool drop, ms_convert_verdict want, const char *needle,
                   const char *what)
{
    char *why = NULL;
    ms_convert_verdict v = run(p, drop, &why);
    bool ok = v == want && (!needle || (why && strstr(why, needle)));
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s: verdict %d, message: %s\n", what, (int)v, why ? why : "(none)");
    free(why);
}

int main(void)
{
    pk p;

    /* a one-tensor state dict */
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "w");
    tensor2(&p, "FloatStorage", "0", 4, 0, 2, 2, 2, 1);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_DONE, NULL, "state dict");

    /* a global outside the vocabulary, even one never called */
    start(&p);
    glob(&p, "os", "system");
    op(&p, '0');
    odict(&p);
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "os.system", "os.system import");
    start(&p);
    glob(&p, "torch.storage", "_load_from_bytes");
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "_load_from_bytes", "nested loader");
    start(&p);
    glob(&p, "torch._utils", "_rebuild_qtensor");
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "_rebuild_qtensor", "quantized tensor");
    start(&p); /* STACK_GLOBAL whose operands are not strings */
    int1(&p, 1);
    int1(&p, 2);
    op(&p, 0x93);
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "STACK_GLOBAL", "computed global");
    start(&p); /* STACK_GLOBAL of a real module */
    str(&p, "builtins");
    str(&p, "eval");
    op(&p, 0x93);
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "builtins.eval", "stack global eval");

    /* opcodes torch.save never writes */
    static const uint8_t foreign[] = {'i', 0x82, 0x92, 'P', 'S', 'I', 0x97};
    for (size_t i = 0; i < sizeof(foreign); i++) {
        start(&p);
        op(&p, foreign[i]);
        text(&p, "x\nx\n");
        op(&p, '.');
        expect(&p, false, MS_CONVERT_REFUSED, "outside what torch.save writes", "opcode");
    }
    start(&p);
    p.b[1] = 6; /* protocol 6 */
    op(&p, 'N');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "protocol 6", "protocol");

    /* calling what only names a type; BUILD on a list; a module persid */
    start(&p);
    glob(&p, "torch", "FloatStorage");
    op(&p, ')');
    op(&p, 'R');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "only names a type", "storage call");
    start(&p);
    op(&p, ']');
    op(&p, '}');
    op(&p, 'b');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "BUILD sets the state of a list", "BUILD");
    start(&p);
    op(&p, '(');
    str(&p, "module");
    glob(&p, "torch", "FloatStorage");
    op(&p, 'N');
    op(&p, 'N');
    op(&p, 't');
    op(&p, 'Q');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "nn.Module", "module persid");
    start(&p); /* APPEND to a dict calls its append() */
    op(&p, '}');
    int1(&p, 1);
    op(&p, 'a');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "APPEND to a dict", "append");

    /* broken streams */
    start(&p);
    op(&p, 'h');
    op(&p, 3);
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "read before it is written", "memo");
    start(&p);
    op(&p, 'N');
    op(&p, 'r');
    u32(&p, 0x7fffffff);
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "far beyond", "sparse memo");
    start(&p);
    op(&p, '}');
    op(&p, '(');
    int1(&p, 1);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "odd number", "SETITEMS");
    start(&p);
    op(&p, '0');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "empty stack", "underflow");
    start(&p);
    op(&p, '}');
    expect(&p, false, MS_CONVERT_REFUSED, "before its STOP", "no STOP");
    start(&p);
    op(&p, 'X');
    u32(&p, 1000);
    expect(&p, false, MS_CONVERT_REFUSED, "past the end", "long string");

    /* a tensor reaching past its storage: 3x2 of a 4-element storage */
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "w");
    tensor2(&p, "FloatStorage", "0", 4, 0, 3, 2, 2, 1);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "past the end of its 16-byte storage", "extent");
    /* a storage named twice with two types */
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "a");
    tensor2(&p, "FloatStorage", "0", 4, 0, 2, 2, 2, 1);
    str(&p, "b");
    tensor2(&p, "HalfStorage", "0", 4, 0, 2, 2, 2, 1);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "named twice", "storage types");

    /* non-tensor entries: refused, or dropped with --drop-non-tensors */
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "epoch");
    int1(&p, 3);
    str(&p, "w");
    tensor2(&p, "FloatStorage", "0", 4, 0, 2, 2, 2, 1);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "epoch (int)", "non-tensor");
    expect(&p, true, MS_CONVERT_DONE, NULL, "non-tensor dropped");
    /* a key set twice keeps its last value (here the tensor) */
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "w");
    int1(&p, 3);
    str(&p, "w");
    tensor2(&p, "FloatStorage", "0", 4, 0, 2, 2, 2, 1);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_DONE, NULL, "repeated key");
    /* a tensor under a key that is not a string */
    start(&p);
    op(&p, '}');
    op(&p, '(');
    int1(&p, 7);
    tensor2(&p, "FloatStorage", "0", 4, 0, 2, 2, 2, 1);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "<int key 7>", "int key");
    /* the top object is not a dict */
    start(&p);
    tensor2(&p, "FloatStorage", "0", 4, 0, 2, 2, 2, 1);
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "holds a tensor, not a dict", "bare tensor");

    /* shared storage: the same tensor twice (tied) converts; two
     * overlapping views neither of which covers the storage are refused */
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "a");
    tensor2(&p, "FloatStorage", "0", 4, 0, 2, 2, 2, 1);
    op(&p, 'q');
    op(&p, 9);
    str(&p, "b");
    op(&p, 'h');
    op(&p, 9);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_DONE, NULL, "tied");
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "a");
    tensor2(&p, "FloatStorage", "0", 10, 0, 2, 3, 3, 1);
    str(&p, "b");
    tensor2(&p, "FloatStorage", "0", 10, 3, 2, 3, 3, 1);
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_REFUSED, "share storage", "incomplete overlap");

    /* torch >= 2.1: an untyped storage and _rebuild_tensor_v3's dtype */
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "f8");
    glob(&p, "torch._utils", "_rebuild_tensor_v3");
    op(&p, '(');
    op(&p, '(');
    str(&p, "storage");
    glob(&p, "torch", "UntypedStorage");
    str(&p, "0");
    str(&p, "cpu");
    int1(&p, 6);
    op(&p, 't');
    op(&p, 'Q');
    int1(&p, 0);
    int1(&p, 2);
    int1(&p, 3);
    op(&p, 0x86);
    int1(&p, 3);
    int1(&p, 1);
    op(&p, 0x86);
    op(&p, 0x89);
    odict(&p);
    glob(&p, "torch", "float8_e4m3fn");
    op(&p, 't');
    op(&p, 'R');
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_DONE, NULL, "float8 v3");

    /* a Parameter is its tensor */
    start(&p);
    odict(&p);
    op(&p, '(');
    str(&p, "p");
    glob(&p, "torch._utils", "_rebuild_parameter");
    op(&p, '(');
    tensor2(&p, "BFloat16Storage", "0", 4, 0, 2, 2, 2, 1);
    op(&p, 0x88);
    odict(&p);
    op(&p, 't');
    op(&p, 'R');
    op(&p, 'u');
    op(&p, '.');
    expect(&p, false, MS_CONVERT_DONE, NULL, "parameter");

    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}
