/* test_npy.c - the Python literal reader and the .npy header parser. */
#include <stdlib.h>

#include "unit.h"
#include "../../src/formats/numpy/npy_header.h"

static ms_status lit_parse(const char *text, npy_literal *lit, npy_error *err)
{
    return npy_literal_parse((const uint8_t *)text, strlen(text), NPY_LATIN1, false, lit, err);
}

/* Parses text and returns the status, freeing the tree. */
static ms_status lit_status(const char *text)
{
    npy_literal lit;
    npy_error err;
    ms_status st = lit_parse(text, &lit, &err);
    npy_literal_free(&lit);
    return st;
}

static bool str_eq(const npy_literal *lit, const npy_node *n, const char *s, size_t len)
{
    return n && n->kind == NPY_STR && n->str_len == len &&
           memcmp(lit->strings + n->str_off, s, len) == 0;
}

static void test_literal_values(void)
{
    npy_literal lit;
    npy_error err;
    CHECK(lit_parse("{'a': [1, -2, 0x1F, 1_000], \"b\": (True, False, None), 'c': (), "
                    "'d': (7,), 'e': (8), }",
                    &lit, &err) == MS_OK);
    const npy_node *root = npy_literal_node(&lit, lit.root);
    CHECK(root && root->kind == NPY_DICT && root->count == 5);
    const npy_node *k = npy_literal_node(&lit, root->first);
    CHECK(str_eq(&lit, k, "a", 1));
    const npy_node *list = npy_literal_node(&lit, k->next);
    CHECK(list->kind == NPY_LIST && list->count == 4);
    const npy_node *i = npy_literal_node(&lit, list->first);
    CHECK(i->kind == NPY_INT && i->value == 1);
    i = npy_literal_node(&lit, i->next);
    CHECK(i->value == -2);
    i = npy_literal_node(&lit, i->next);
    CHECK(i->value == 31);
    i = npy_literal_node(&lit, i->next);
    CHECK(i->value == 1000 && i->next == -1);
    k = npy_literal_node(&lit, list->next);
    CHECK(str_eq(&lit, k, "b", 1));
    const npy_node *t = npy_literal_node(&lit, k->next);
    CHECK(t->kind == NPY_TUPLE && t->count == 3);
    const npy_node *b = npy_literal_node(&lit, t->first);
    CHECK(b->kind == NPY_BOOL && b->value == 1);
    b = npy_literal_node(&lit, b->next);
    CHECK(b->kind == NPY_BOOL && b->value == 0);
    CHECK(npy_literal_node(&lit, b->next)->kind == NPY_NONE);
    k = npy_literal_node(&lit, t->next);
    t = npy_literal_node(&lit, k->next);
    CHECK(t->kind == NPY_TUPLE && t->count == 0); /* () */
    k = npy_literal_node(&lit, t->next);
    t = npy_literal_node(&lit, k->next);
    CHECK(t->kind == NPY_TUPLE && t->count == 1); /* (7,) */
    k = npy_literal_node(&lit, t->next);
    t = npy_literal_node(&lit, k->next);
    CHECK(t->kind == NPY_INT && t->value == 8); /* (8) is 8, not a tuple */
    npy_literal_free(&lit);

    /* escapes, quotes, prefixes and implicit concatenation */
    CHECK(lit_parse("'a\\'b' \"c\\\"d\" '\\x41\\101\\u00e9\\n' r'\\d' u'x' '''t'q'''", &lit,
                    &err) == MS_OK);
    const char want[] = "a'bc\"dAA\xc3\xa9\n\\dxt'q";
    CHECK(str_eq(&lit, npy_literal_node(&lit, lit.root), want, sizeof(want) - 1));
    npy_literal_free(&lit);
    CHECK(lit_parse("'\\q'", &lit, &err) == MS_OK); /* unknown escape: kept */
    CHECK(str_eq(&lit, npy_literal_node(&lit, lit.root), "\\q", 2));
    npy_literal_free(&lit);
    CHECK(lit_parse("b'\\xff\\777'", &lit, &err) == MS_OK);
    CHECK(npy_literal_node(&lit, lit.root)->kind == NPY_BYTES);
    npy_literal_free(&lit);

    /* latin-1 text: a byte >= 0x80 is a code point */
    CHECK(npy_literal_parse((const uint8_t *)"'\xe9'", 3, NPY_LATIN1, false, &lit, &err) ==
          MS_OK);
    CHECK(str_eq(&lit, npy_literal_node(&lit, lit.root), "\xc3\xa9", 2));
    npy_literal_free(&lit);
    /* UTF-8 text */
    CHECK(npy_literal_parse((const uint8_t *)"'\xc3\xa9'", 4, NPY_UTF8, false, &lit, &err) ==
          MS_OK);
    CHECK(str_eq(&lit, npy_literal_node(&lit, lit.root), "\xc3\xa9", 2));
    npy_literal_free(&lit);
    CHECK(npy_literal_parse((const uint8_t *)"'\xe9'", 3, NPY_UTF8, false, &lit, &err) ==
          MS_MALFORMED);
    npy_literal_free(&lit);

    /* comments and newlines between tokens; Python 2's long suffix */
    CHECK(npy_literal_parse((const uint8_t *)"(1L, # c\n 2L)\n", 14, NPY_LATIN1, true, &lit,
                            &err) == MS_OK);
    npy_literal_free(&lit);
    CHECK(lit_status("(1L,)") == MS_MALFORMED); /* only where numpy strips it */

    /* huge numbers are flagged, never wrapped */
    CHECK(lit_parse("(9223372036854775807, -9223372036854775808, 9223372036854775808, "
                    "123456789012345678901234567890)",
                    &lit, &err) == MS_OK);
    const npy_node *n = npy_literal_node(&lit, npy_literal_node(&lit, lit.root)->first);
    CHECK(n->value == INT64_MAX && !n->huge);
    n = npy_literal_node(&lit, n->next);
    CHECK(n->value == INT64_MIN && !n->huge);
    n = npy_literal_node(&lit, n->next);
    CHECK(n->huge);
    n = npy_literal_node(&lit, n->next);
    CHECK(n->huge);
    npy_literal_free(&lit);
}

static void test_literal_errors(void)
{
    npy_literal lit;
    npy_error err;
    CHECK(lit_status("'abc") == MS_MALFORMED);
    CHECK(lit_parse("{'descr': '<f4}", &lit, &err) == MS_MALFORMED);
    CHECK(strstr(err.what, "unterminated") != NULL);
    npy_literal_free(&lit);
    CHECK(lit_status("'a\nb'") == MS_MALFORMED); /* newline in a one-line string */
    CHECK(lit_status("'''abc''") == MS_MALFORMED);
    CHECK(lit_status("'\\x4'") == MS_MALFORMED);
    CHECK(lit_status("'\\N{LATIN SMALL LETTER A}'") == MS_MALFORMED);
    CHECK(lit_status("'\\U00110000'") == MS_MALFORMED);
    CHECK(lit_status("'a' b'b'") == MS_MALFORMED); /* str + bytes */
    CHECK(lit_status("b'\xe9'") == MS_MALFORMED);
    CHECK(lit_status("f'x'") == MS_MALFORMED);
    CHECK(lit_status("ur'x'") == MS_MALFORMED);
    CHECK(lit_status("1.5") == MS_MALFORMED);
    CHECK(lit_status("1e3") == MS_MALFORMED);
    CHECK(lit_status("2j") == MS_MALFORMED);
    CHECK(lit_status("012") == MS_MALFORMED);
    CHECK(lit_status("1__0") == MS_MALFORMED);
    CHECK(lit_status("1_") == MS_MALFORMED);
    CHECK(lit_status("0x") == MS_MALFORMED);
    CHECK(lit_status("-") == MS_MALFORMED);
    CHECK(lit_status("--1") == MS_MALFORMED);
    CHECK(lit_status("{1, 2}") == MS_MALFORMED); /* a set */
    CHECK(lit_status("{[1]: 2}") == MS_MALFORMED);
    CHECK(lit_status("{'a' 1}") == MS_MALFORMED);
    CHECK(lit_status("[1 2]") == MS_MALFORMED);
    CHECK(lit_status("(1 2)") == MS_MALFORMED);
    CHECK(lit_status("(,)") == MS_MALFORMED);
    CHECK(lit_status("[,]") == MS_MALFORMED);
    CHECK(lit_status("[1,,]") == MS_MALFORMED);
    CHECK(lit_status("[1") == MS_MALFORMED);
    CHECK(lit_status("(1,") == MS_MALFORMED);
    CHECK(lit_status("") == MS_MALFORMED);
    CHECK(lit_status("   ") == MS_MALFORMED);
    CHECK(lit_status("1 2") == MS_MALFORMED);
    CHECK(lit_status("true") == MS_MALFORMED);
    CHECK(lit_status("__import__('os')") == MS_MALFORMED);
    CHECK(lit_status("1 + 2") == MS_MALFORMED);
    CHECK(lit_status("\\\n1") == MS_MALFORMED);
    CHECK(npy_literal_parse((const uint8_t *)"'a\0'", 4, NPY_LATIN1, false, &lit, &err) ==
          MS_MALFORMED);
    npy_literal_free(&lit);

    /* nesting is bounded: 32 levels pass, 33 are a limit */
    char deep[200];
    memset(deep, '[', 31);
    memset(deep + 31, ']', 31);
    deep[62] = '\0';
    CHECK(lit_status(deep) == MS_OK);
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = '\0';
    CHECK(lit_status(deep) == MS_LIMIT);
    memset(deep, '(', 40); /* parenthesised values count too: (((...(1)...))) */
    deep[40] = '1';
    memset(deep + 41, ')', 40);
    deep[81] = '\0';
    CHECK(lit_status(deep) == MS_LIMIT);
    memset(deep, '(', 20);
    deep[20] = '1';
    memset(deep + 21, ')', 20);
    deep[41] = '\0';
    CHECK(lit_status(deep) == MS_OK);

    /* the node count is bounded */
    size_t n = 2 + 2 * (size_t)NPY_MAX_NODES + 2;
    char *many = malloc(n + 1);
    if (many) {
        many[0] = '[';
        for (size_t i = 0; i <= NPY_MAX_NODES; i++) {
            many[1 + 2 * i] = '0';
            many[2 + 2 * i] = ',';
        }
        size_t end = 2 + 2 * (size_t)NPY_MAX_NODES + 1;
        many[end - 1] = ']';
        many[end] = '\0';
        CHECK(npy_literal_parse((uint8_t *)many, end, NPY_LATIN1, false, &lit, &err) ==
              MS_LIMIT);
        npy_literal_free(&lit);
        free(many);
    }
}

static void test_dtype_strings(void)
{
    static const struct {
        const char *s;
        bool ok;
        uint64_t size;
        bool object;
    } cases[] = {
        {"<f4", true, 4, false},      {">f8", true, 8, false},     {"|b1", true, 1, false},
        {"|i1", true, 1, false},      {"<u8", true, 8, false},     {"<c16", true, 16, false},
        {"<f16", true, 16, false},    {"<U10", true, 40, false},   {"|S5", true, 5, false},
        {"|V16", true, 16, false},    {"|O", true, 8, true},       {"|O8", true, 8, true},
        {"<M8[ns]", true, 8, false},  {"<m8[10s]", true, 8, false}, {"<M8", true, 8, false},
        {"f4", true, 4, false},       {"<f3", false, 0, false},    {"<i16", false, 0, false},
        {"|b2", false, 0, false},     {"<U", false, 0, false},     {"object", false, 0, false},
        {"O4x", false, 0, false},     {"<M8[xs]", false, 0, false}, {"<M8[ns", false, 0, false},
        {"<f4,<i4", false, 0, false}, {"", false, 0, false},       {"<", false, 0, false},
        {"<U9999999999999", false, 0, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t size = 0;
        bool object = false;
        bool ok = npy_dtype_string((const uint8_t *)cases[i].s, strlen(cases[i].s), &size,
                                   &object);
        CHECK(ok == cases[i].ok);
        if (ok != cases[i].ok)
            fprintf(stderr, "  dtype string '%s'\n", cases[i].s);
        if (ok)
            CHECK(size == cases[i].size && object == cases[i].object);
    }
}

/* A .npy prefix with the given header text, padded as numpy pads it. */
static size_t make_npy(uint8_t *out, size_t cap, int major, const char *header, size_t body)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t hl = strlen(header);
    size_t total = (pre + hl + 1 + 63) / 64 * 64;
    size_t hlen = total - pre;
    if (total + body > cap)
        return 0;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (uint8_t)major;
    out[7] = 0;
    out[8] = (uint8_t)(hlen & 0xff);
    out[9] = (uint8_t)(hlen >> 8);
    if (major != 1) {
        out[10] = (uint8_t)(hlen >> 16);
        out[11] = (uint8_t)(hlen >> 24);
    }
    memcpy(out + pre, header, hl);
    memset(out + pre + hl, ' ', hlen - hl - 1);
    out[total - 1] = '\n';
    memset(out + total, 0, body);
    return total + body;
}

static ms_status header_of(int major, const char *header, npy_header *h, npy_error *err)
{
    static uint8_t buf[8192];
    size_t n = make_npy(buf, sizeof(buf), major, header, 0);
    return npy_header_parse(buf, n, h, err);
}

static void test_header(void)
{
    npy_header h;
    npy_error err;
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", &h,
                    &err) == MS_OK);
    CHECK(h.major == 1 && h.data_offset == 128 && !h.object && !h.fortran_order);
    CHECK(h.ndim == 2 && h.shape[0] == 3 && h.shape[1] == 4 && h.count == 12);
    CHECK(h.itemsize == 4 && h.data_bytes == 48 && !h.duplicate_key);
    CHECK_STR(h.descr, "'<f4'");

    CHECK(header_of(2, "{'descr': '|b1', 'fortran_order': True, 'shape': (), }", &h, &err) ==
          MS_OK);
    CHECK(h.major == 2 && h.fortran_order && h.ndim == 0 && h.count == 1 && h.data_bytes == 1);
    CHECK(header_of(3, "{'descr': [('x', '<f4'), (('t', 'y'), '|O'), ('z', '<i2', (2, 3))], "
                       "'fortran_order': False, 'shape': (5,), }",
                    &h, &err) == MS_OK);
    CHECK(h.object && h.itemsize == 4 + 8 + 12);
    CHECK(header_of(1, "{'descr': [('a', [('b', [('c', '|O')])])], 'fortran_order': False, "
                       "'shape': (1,), }",
                    &h, &err) == MS_OK);
    CHECK(h.object); /* 'O' nested two structures deep */
    CHECK(header_of(1, "{'descr': ('<f8', (2, 2)), 'fortran_order': False, 'shape': (3,), }",
                    &h, &err) == MS_OK);
    CHECK(h.itemsize == 32 && h.data_bytes == 96);
    CHECK(header_of(1, "{'shape': (0, 7), 'descr': '<U3', 'fortran_order': False}", &h, &err) ==
          MS_OK);
    CHECK(h.count == 0 && h.data_bytes == 0 && h.itemsize == 12);
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'descr': '|O'}",
                    &h, &err) == MS_OK);
    CHECK(h.object && h.duplicate_key && strcmp(h.duplicate_key, "descr") == 0);

    /* malformed headers */
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False}", &h, &err) == MS_MALFORMED);
    CHECK(strstr(err.what, "'shape'") != NULL);
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", &h,
                    &err) == MS_MALFORMED);
    CHECK(strstr(err.what, "unexpected key 'x'") != NULL);
    CHECK(header_of(1, "['descr', '<f4']", &h, &err) == MS_MALFORMED);
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}", &h, &err) ==
          MS_MALFORMED);
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [3]}", &h, &err) ==
          MS_MALFORMED);
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", &h, &err) ==
          MS_MALFORMED);
    CHECK(strstr(err.what, "negative") != NULL);
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}", &h, &err) ==
          MS_MALFORMED);
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (99999999999999999999,)}",
                    &h, &err) == MS_MALFORMED);
    /* shape product overflow, and shape x itemsize overflow */
    CHECK(header_of(1, "{'descr': '|u1', 'fortran_order': False, "
                       "'shape': (4294967296, 4294967296)}",
                    &h, &err) == MS_MALFORMED);
    CHECK(strstr(err.what, "overflows") != NULL);
    CHECK(header_of(1, "{'descr': '<f8', 'fortran_order': False, "
                       "'shape': (4611686018427387904,)}",
                    &h, &err) == MS_MALFORMED);
    CHECK(header_of(1, "{'descr': ('<f8', (4294967296, 4294967296)), 'fortran_order': False, "
                       "'shape': (1,)}",
                    &h, &err) == MS_MALFORMED);
    CHECK(header_of(1, "{'descr': [('a', '<f4', -1)], 'fortran_order': False, 'shape': (1,)}",
                    &h, &err) == MS_MALFORMED);
    CHECK(header_of(1, "{'descr': [('a',)], 'fortran_order': False, 'shape': (1,)}", &h, &err) ==
          MS_MALFORMED);
    CHECK(header_of(1, "{'descr': [(1, '<f4')], 'fortran_order': False, 'shape': (1,)}", &h,
                    &err) == MS_MALFORMED);
    CHECK(header_of(1, "{'descr': [('a', '|O'), ('b', 'bogus')], 'fortran_order': False, "
                       "'shape': (1,)}",
                    &h, &err) == MS_MALFORMED);
    CHECK(h.object); /* seen before the bad field: the caller fails closed on it */
    /* field names and titles share one namespace; padding is exempt */
    static const struct {
        const char *descr;
        ms_status st;
        uint64_t itemsize;
    } fields[] = {
        {"[('a', '<f4'), ('a', '<i4')]", MS_MALFORMED, 0},
        {"[(('t', 'b'), '<f4'), (('t', 'c'), '<i4')]", MS_MALFORMED, 0},
        {"[(('a', 'b'), '<f4'), ('a', '<i4')]", MS_MALFORMED, 0},
        {"[('', '<f4'), ('', '<f4')]", MS_MALFORMED, 0},
        {"[('', '<f4', 1), ('', '<f4', 1)]", MS_MALFORMED, 0},
        {"[('', [('a', '<f4')]), ('', [('a', '<f4')])]", MS_MALFORMED, 0},
        {"[('', '|V4'), ('', '|V4')]", MS_OK, 8},
        {"[('', '<f4', (2,)), ('', '<f4', (2,))]", MS_OK, 16},
        {"[('', ('<f4', (2,))), ('', ('<f4', (2,)))]", MS_OK, 16},
        {"[('a', '<f4'), ('b', [('a', '<f4')])]", MS_OK, 8},
        {"[]", MS_OK, 0},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char text[200];
        snprintf(text, sizeof(text), "{'descr': %s, 'fortran_order': False, 'shape': (1,)}",
                 fields[i].descr);
        ms_status st = header_of(1, text, &h, &err);
        CHECK(st == fields[i].st);
        if (st != fields[i].st)
            fprintf(stderr, "  descr %s: %s\n", fields[i].descr, err.what);
        if (st == MS_OK)
            CHECK(h.itemsize == fields[i].itemsize);
        else
            CHECK(strstr(err.what, "used twice") != NULL);
    }

    /* numpy.dtype() rules the differential check against numpy 1.24 found:
     * padding fields are dropped (objects in them too), an unsized base
     * takes an int as its size, shape 1 and () make no subarray, sizes fit
     * in a C int */
    static const struct {
        const char *descr;
        ms_status st;
        uint64_t itemsize;
        bool object;
    } rules[] = {
        {"[('', '|O', (1, 1)), ('a', '<f4')]", MS_OK, 12, false},
        {"[('', '|O', 1), ('a', '<f4')]", MS_OK, 12, true}, /* shape 1: '|O' is no padding */
        {"[(('t', ''), '|O', (2,))]", MS_OK, 16, true},    /* a title: no padding */
        {"[('', [('x', '|O')])]", MS_OK, 8, true},         /* structured: no padding */
        {"('|S0', 5)", MS_OK, 5, false},
        {"('<U0', 3)", MS_OK, 12, false},
        {"(('<f2', 0), 2)", MS_OK, 2, false},
        {"[('a', ('<f2', 0), 2)]", MS_OK, 2, false},
        {"('|V0', (2,))", MS_MALFORMED, 0, false},
        {"([('a', '|V0')], 3)", MS_OK, 0, false},
        {"('<f4', 1)", MS_OK, 4, false},
        {"('<f4', ())", MS_OK, 4, false},
        {"('<f4', (65536, 8192))", MS_MALFORMED, 0, false},
        {"('<f4', (65536, 8191))", MS_OK, 2147221504, false},
        {"'|S2147483648'", MS_MALFORMED, 0, false},
        {"[('a', '|S2147483647'), ('b', '|S1')]", MS_MALFORMED, 0, false},
    };
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        char text[200];
        snprintf(text, sizeof(text), "{'descr': %s, 'fortran_order': False, 'shape': (1,)}",
                 rules[i].descr);
        ms_status st = header_of(1, text, &h, &err);
        bool ok = st == rules[i].st &&
                  (st != MS_OK || (h.itemsize == rules[i].itemsize && h.object == rules[i].object));
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  descr %s: status %d itemsize %llu object %d (%s)\n",
                    rules[i].descr, (int)st, (unsigned long long)h.itemsize, h.object, err.what);
    }

    /* spellings numpy.dtype() reads as objects but numpy never writes: refused,
     * and flagged as objects so the caller analyses the data as a pickle */
    CHECK(header_of(1, "{'descr': '2O', 'fortran_order': False, 'shape': (1,)}", &h, &err) ==
          MS_MALFORMED);
    CHECK(h.object);
    CHECK(header_of(1, "{'descr': 'object', 'fortran_order': False, 'shape': (1,)}", &h, &err) ==
          MS_MALFORMED);
    CHECK(h.object);
    CHECK(header_of(1, "{'descr': 'float32', 'fortran_order': False, 'shape': (1,)}", &h, &err) ==
          MS_MALFORMED);
    CHECK(!h.object);
    CHECK(header_of(1, "{'descr': 1, 'fortran_order': False, 'shape': (1,)}", &h, &err) ==
          MS_MALFORMED);
    CHECK(header_of(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,)}", &h, &err) ==
          MS_MALFORMED);
    char dims[400];
    int at = snprintf(dims, sizeof(dims), "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < 65; i++)
        at += snprintf(dims + at, sizeof(dims) - (size_t)at, "1,");
    snprintf(dims + at, sizeof(dims) - (size_t)at, ")}");
    CHECK(header_of(1, dims, &h, &err) == MS_MALFORMED);
    CHECK(strstr(err.what, "64 dimensions") != NULL);

    /* framing */
    uint8_t buf[256];
    size_t n = make_npy(buf, sizeof(buf), 1,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 12);
    CHECK(npy_header_parse(buf, n, &h, &err) == MS_OK && h.data_offset + 12 == n);
    CHECK(npy_header_parse(buf, 5, &h, &err) == MS_TRUNCATED);
    CHECK(npy_header_parse(buf, 9, &h, &err) == MS_TRUNCATED);
    CHECK(npy_header_parse(buf, 40, &h, &err) == MS_TRUNCATED && !h.layout_known);
    buf[6] = 4;
    CHECK(npy_header_parse(buf, n, &h, &err) == MS_MALFORMED);
    buf[6] = 1;
    buf[7] = 1;
    CHECK(npy_header_parse(buf, n, &h, &err) == MS_MALFORMED);
    buf[7] = 0;
    buf[0] = 'X';
    CHECK(npy_header_parse(buf, n, &h, &err) == MS_MALFORMED);
    buf[0] = 0x93;
    size_t newline = n - 12 - 1;
    CHECK(buf[newline] == '\n');
    buf[newline] = ' '; /* no final newline */
    CHECK(npy_header_parse(buf, n, &h, &err) == MS_MALFORMED && h.layout_known);
    CHECK(strstr(err.what, "newline") != NULL);
    buf[newline] = '\n';
    CHECK(npy_header_parse(buf, n, &h, &err) == MS_OK);
    buf[8] = 0xff; /* header length beyond the file */
    CHECK(npy_header_parse(buf, n, &h, &err) == MS_TRUNCATED);
    CHECK(strstr(err.what, "past the end") != NULL);

    /* a header above the size bound is a limit, with the body still located */
    size_t big = 12 + (size_t)NPY_MAX_HEADER_BYTES + 64;
    uint8_t *huge = calloc(1, big + 8);
    if (huge) {
        memcpy(huge, "\x93NUMPY\x02\x00", 8);
        uint32_t hl = (uint32_t)NPY_MAX_HEADER_BYTES + 64;
        for (int i = 0; i < 4; i++)
            huge[8 + i] = (uint8_t)(hl >> (8 * i));
        CHECK(npy_header_parse(huge, big + 8, &h, &err) == MS_LIMIT);
        CHECK(h.layout_known && h.data_offset == big);
        free(huge);
    }
}

void test_npy(void)
{
    test_literal_values();
    test_literal_errors();
    test_dtype_strings();
    test_header();
}
