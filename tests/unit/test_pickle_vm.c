/* test_pickle_vm.c - the symbolic pickle machine on hand-assembled streams. */
#include <stdlib.h>

#include "unit.h"
#include "../../src/codec/pickle_vm.h"

typedef struct seen {
    char globals[8][128];
    int nglobals;
    char calls[8][256];
    int ncalls;
    int npersid;
} seen;

static void on_global(void *ud, pickle_vm *vm, uint32_t gid, size_t offset, uint8_t opcode)
{
    seen *s = ud;
    const pickle_global *g = pickle_vm_global(vm, gid);
    (void)offset;
    (void)opcode;
    if (s->nglobals < 8)
        snprintf(s->globals[s->nglobals++], 128, "%s%s.%s", g->dynamic ? "dyn:" : "", g->module,
                 g->name);
}

static bool on_call(void *ud, pickle_vm *vm, const pickle_value *callable,
                    const pickle_value *args, size_t offset, uint8_t opcode, pickle_value *result)
{
    seen *s = ud;
    (void)offset;
    (void)result;
    if (s->ncalls < 8) {
        ms_strbuf sb;
        ms_strbuf_init(&sb, 255);
        ms_strbuf_printf(&sb, "%s:", pickle_opcode_name(opcode));
        pickle_value_render(vm, callable, &sb);
        pickle_value_render(vm, args, &sb);
        snprintf(s->calls[s->ncalls++], 256, "%s", sb.data);
        ms_strbuf_free(&sb);
    }
    return false;
}

static void on_persid(void *ud, pickle_vm *vm, const pickle_value *pid, size_t offset)
{
    (void)vm;
    (void)pid;
    (void)offset;
    ((seen *)ud)->npersid++;
}

static ms_status run(const char *data, size_t len, seen *s, pickle_run_result *res)
{
    ms_limits l;
    ms_limits_default(&l);
    memset(s, 0, sizeof(*s));
    pickle_hooks h = {.ud = s, .on_global = on_global, .on_call = on_call, .on_persid = on_persid};
    pickle_vm *vm = pickle_vm_new(&l, &h);
    pickle_vm_run(vm, (const uint8_t *)data, len, 0, res);
    pickle_vm_free(vm);
    return res->status;
}

#define RUN(lit, s, r) run(lit, sizeof(lit) - 1, s, r)

void test_pickle_vm(void)
{
    seen s;
    pickle_run_result r;

    /* protocol 0 GLOBAL + REDUCE */
    CHECK(RUN("cposix\nsystem\n(S'id'\ntR.", &s, &r) == MS_OK);
    CHECK_STR(s.globals[0], "posix.system");
    CHECK_STR(s.calls[0], "REDUCE:posix.system('id',)");

    /* STACK_GLOBAL with strings from the memo (BINPUT/BINGET) */
    CHECK(RUN("\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93\x8c\x02id\x85R.", &s, &r) ==
          MS_OK);
    CHECK_STR(s.globals[0], "os.system");
    CHECK_STR(s.calls[0], "REDUCE:os.system('id',)");

    /* MEMOIZE numbers entries by count, not by the last index used */
    CHECK(RUN("\x80\x04\x8c\x01x\x94\x8c\x02os\x94\x8c\x06system\x94h\x01h\x02\x93.", &s, &r) ==
          MS_OK);
    CHECK_STR(s.globals[0], "os.system");

    /* a STACK_GLOBAL name computed by a call is dynamic */
    CHECK(RUN("\x80\x04\x8c\x05posix\x8c\x07_codecs\x8c\x06" "encode\x93\x8c\x03sys\x8c\x05rot13\x86R"
              "\x93.",
              &s, &r) == MS_OK);
    CHECK(s.nglobals == 2);
    CHECK(strncmp(s.globals[1], "dyn:'posix'._codecs.encode(", 27) == 0);

    /* STACK_GLOBAL with bytes is rejected like Python does */
    CHECK(RUN("\x80\x04\x43\x02os\x8c\x06system\x93.", &s, &r) == MS_MALFORMED);

    /* MARK frames: pops cannot reach below the last MARK */
    CHECK(RUN("K\x01(\x85.", &s, &r) == MS_MALFORMED);
    CHECK_STR(r.error, "unpickling stack underflow");

    /* POP on an empty frame discards the MARK (Python 3 semantics) */
    CHECK(RUN("K\x01(0.", &s, &r) == MS_OK);

    /* a missing memo entry is an error */
    CHECK(RUN("h\x05.", &s, &r) == MS_MALFORMED);

    /* a declared length beyond the data is never allocated */
    CHECK(RUN("\x80\x04\x8d\x00\x00\x00\x00\x00\x01\x00\x00.", &s, &r) == MS_TRUNCATED);
    CHECK(RUN("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7fN.", &s, &r) == MS_TRUNCATED);

    /* invalid opcode and unsupported protocol */
    CHECK(RUN("N\xff.", &s, &r) == MS_MALFORMED);
    CHECK(r.error_offset == 1);
    CHECK(RUN("\x80\x06N.", &s, &r) == MS_MALFORMED);

    /* the stream ends without STOP */
    CHECK(RUN("\x80\x02N", &s, &r) == MS_TRUNCATED);

    /* INST and OBJ */
    CHECK(RUN("(S'ls'\nisubprocess\ncheck_output\n.", &s, &r) == MS_OK);
    CHECK_STR(s.calls[0], "INST:subprocess.check_output('ls',)");
    CHECK(RUN("(csubprocess\nPopen\nS'ls'\no.", &s, &r) == MS_OK);
    CHECK_STR(s.calls[0], "OBJ:subprocess.Popen('ls',)");

    /* NEWOBJ_EX and BUILD on an object built by a call */
    CHECK(RUN("\x80\x04\x8c\x04" "evil\x8c\x01" "C\x93)}\x92}b.", &s, &r) == MS_OK);
    CHECK(s.ncalls == 2);
    CHECK_STR(s.calls[0], "NEWOBJ_EX:evil.C()");
    CHECK(strncmp(s.calls[1], "BUILD:evil.C()", 14) == 0);

    /* APPEND on an object built by a call runs its append method */
    CHECK(RUN("cevil\nL\n)RK\x01" "a.", &s, &r) == MS_OK);
    CHECK(s.ncalls == 2);
    CHECK_STR(s.calls[1], "APPEND:evil.L()(1,)");

    /* EXT codes and persistent ids */
    CHECK(RUN("\x80\x02\x82\x07.", &s, &r) == MS_OK);
    CHECK_STR(s.globals[0], "copyreg._extension_registry.7");
    CHECK(RUN("\x80\x02\x82\x00.", &s, &r) == MS_MALFORMED);
    CHECK(RUN("Pabc\n.", &s, &r) == MS_OK && s.npersid == 1);
    CHECK(RUN("\x80\x02K\x01Q.", &s, &r) == MS_OK && s.npersid == 1);

    /* text integers, big integers, floats */
    CHECK(RUN("I123456789012345678901234567890\n.", &s, &r) == MS_OK);
    CHECK(r.result.kind == PK_BIGINT);
    CHECK(RUN("I01\n.", &s, &r) == MS_OK && r.result.kind == PK_BOOL);
    CHECK(RUN("Inope\n.", &s, &r) == MS_MALFORMED);
    CHECK(RUN("F1.5\n.", &s, &r) == MS_OK && r.result.kind == PK_FLOAT && r.result.u.f == 1.5);
    CHECK(RUN("\x80\x02\x8a\x02\xff\x7f.", &s, &r) == MS_OK && r.result.u.i == 0x7fff);
    CHECK(RUN("\x80\x02\x8a\x01\xff.", &s, &r) == MS_OK && r.result.u.i == -1);

    /* protocol 0 STRING escapes are decoded when the value is used */
    CHECK(RUN("c__builtin__\neval\n(S'\\x5f\\x5fimport__(\\'os\\')'\ntR.", &s, &r) == MS_OK);
    CHECK(strstr(s.calls[0], "__import__") != NULL);
    CHECK(RUN("S'unterminated\n.", &s, &r) == MS_MALFORMED);

    /* opcode limit */
    {
        ms_limits l;
        ms_limits_default(&l);
        l.pickle_max_opcodes = 3;
        pickle_vm *vm = pickle_vm_new(&l, NULL);
        pickle_vm_run(vm, (const uint8_t *)"NNNNN.", 6, 0, &r);
        CHECK(r.status == MS_LIMIT);
        CHECK_STR(pickle_vm_limit_hit(vm), "opcode count");
        pickle_vm_free(vm);
    }
    /* stack limit */
    {
        ms_limits l;
        ms_limits_default(&l);
        l.pickle_max_stack = 256;
        pickle_vm *vm = pickle_vm_new(&l, NULL);
        char buf[600];
        memset(buf, 'N', sizeof(buf));
        buf[599] = '.';
        pickle_vm_run(vm, (const uint8_t *)buf, sizeof(buf), 0, &r);
        CHECK(r.status == MS_LIMIT);
        pickle_vm_free(vm);
    }
    /* memo index beyond the limit: reported as a limit, later GET is unknown */
    {
        ms_limits l;
        ms_limits_default(&l);
        l.pickle_max_memo = 16;
        pickle_vm *vm = pickle_vm_new(&l, NULL);
        pickle_vm_run(vm, (const uint8_t *)"Nr\x00\x01\x00\x00j\x00\x01\x00\x00.", 12, 0, &r);
        CHECK(r.status == MS_OK);
        CHECK(r.result.kind == PK_UNKNOWN);
        CHECK_STR(pickle_vm_limit_hit(vm), "memo size");
        pickle_vm_free(vm);
    }
    /* a million nested tuples and lists are released without recursion */
    {
        size_t n = 1000000;
        char *buf = malloc(2 * n + 8);
        size_t k = 0;
        buf[k++] = (char)0x80;
        buf[k++] = 2;
        buf[k++] = 'N';
        for (size_t i = 0; i < n; i++)
            buf[k++] = (char)0x85; /* TUPLE1: x -> (x,) */
        buf[k++] = '.';
        CHECK(run(buf, k, &s, &r) == MS_OK);
        k = 2;
        for (size_t i = 0; i < n / 2; i++)
            buf[k++] = ']'; /* EMPTY_LIST */
        for (size_t i = 0; i < n / 2 - 1; i++)
            buf[k++] = 'a'; /* APPEND: each list into the one below */
        buf[k++] = '.';
        CHECK(run(buf, k, &s, &r) == MS_OK);
        free(buf);
    }
    /* a run starting mid-buffer and the offset after STOP */
    {
        ms_limits l;
        ms_limits_default(&l);
        pickle_vm *vm = pickle_vm_new(&l, NULL);
        pickle_vm_run(vm, (const uint8_t *)"N.K\x05.", 5, 2, &r);
        CHECK(r.status == MS_OK && r.end == 5 && r.result.u.i == 5);
        pickle_vm_free(vm);
    }
}
