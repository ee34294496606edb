/*
 * test_pep440.c - PEP 440 versions and specifiers, one rule at a time, each
 * with cases that must hold and near misses that must not. Expected values
 * agree with pypa `packaging` 23.0 (Debian 12), except where packaging 23.0
 * itself departs from the specification (noted at the case).
 */
#include <string.h>

#include "unit.h"
#include "../../src/repo/pep440.h"

/* The normalised form of `text`, or "ERR" when it is not a version. */
static const char *norm(const char *text)
{
    static char buf[600];
    pep440_version v;
    if (!pep440_parse_str(text, &v))
        return "ERR";
    pep440_format(&v, buf, sizeof(buf));
    return buf;
}

static int cmp(const char *a, const char *b)
{
    pep440_version x, y;
    if (!pep440_parse_str(a, &x) || !pep440_parse_str(b, &y))
        return 99;
    int c = pep440_compare(&x, &y);
    return c < 0 ? -1 : c > 0;
}

/* 1 contained, 0 not, -1 the version or the specifier set is invalid. */
static int spec(const char *version, const char *specs)
{
    pep440_version v;
    pep440_specifier_set set;
    if (!pep440_parse_str(version, &v) ||
        !pep440_specifier_set_parse(specs, strlen(specs), &set))
        return -1;
    return pep440_specifier_set_contains(&set, &v, PEP440_PRE_DEFAULT);
}

/* The same with pre-releases allowed, to test the operators' own rules. */
static int spec_pre(const char *version, const char *specs)
{
    pep440_version v;
    pep440_specifier_set set;
    if (!pep440_parse_str(version, &v) ||
        !pep440_specifier_set_parse(specs, strlen(specs), &set))
        return -1;
    return pep440_specifier_set_contains(&set, &v, PEP440_PRE_INCLUDE);
}

static void test_normalisation(void)
{
    /* release segments of any length, leading zeros, leading v, case, spaces */
    CHECK_STR(norm("1"), "1");
    CHECK_STR(norm("1.2.3.4.5.6.7.8"), "1.2.3.4.5.6.7.8");
    CHECK_STR(norm("01.02.003"), "1.2.3");
    CHECK_STR(norm("v1.0"), "1.0");
    CHECK_STR(norm("V1.0"), "1.0");
    CHECK_STR(norm("  1.0\n"), "1.0");
    /* epochs */
    CHECK_STR(norm("1!2.0"), "1!2.0");
    CHECK_STR(norm("0!2.0"), "2.0");
    /* pre-releases: spellings and separators */
    CHECK_STR(norm("1.0a1"), "1.0a1");
    CHECK_STR(norm("1.0alpha1"), "1.0a1");
    CHECK_STR(norm("1.0.a1"), "1.0a1");
    CHECK_STR(norm("1.0-A_1"), "1.0a1");
    CHECK_STR(norm("1.0beta2"), "1.0b2");
    CHECK_STR(norm("1.0c3"), "1.0rc3");
    CHECK_STR(norm("1.0pre3"), "1.0rc3");
    CHECK_STR(norm("1.0preview3"), "1.0rc3");
    CHECK_STR(norm("1.0RC"), "1.0rc0");
    CHECK_STR(norm("5.0.0-rc0"), "5.0.0rc0");
    /* post-releases: spellings, implicit number, implicit post "1.0-1" */
    CHECK_STR(norm("1.0.post1"), "1.0.post1");
    CHECK_STR(norm("1.0post"), "1.0.post0");
    CHECK_STR(norm("1.0-r4"), "1.0.post4");
    CHECK_STR(norm("1.0rev4"), "1.0.post4");
    CHECK_STR(norm("1.0-1"), "1.0.post1");
    CHECK_STR(norm("1.0a1-1"), "1.0a1.post1");
    /* dev releases */
    CHECK_STR(norm("1.0dev"), "1.0.dev0");
    CHECK_STR(norm("1.0-dev-2"), "1.0.dev2");
    CHECK_STR(norm("1.0a1.post2.dev3"), "1.0a1.post2.dev3");
    /* local versions: lower case, '.' separators, numbers as numbers */
    CHECK_STR(norm("1.0+Ubuntu-1_a"), "1.0+ubuntu.1.a");
    CHECK_STR(norm("2.0.1+cu117"), "2.0.1+cu117");
    CHECK_STR(norm("1.0+01"), "1.0+1");
    /* trailing separators are accepted where the grammar allows them */
    CHECK_STR(norm("1.0a-"), "1.0a0");
    CHECK_STR(norm("1.0.post-"), "1.0.post0");
    /* near misses: not versions */
    CHECK_STR(norm("1.0-"), "ERR");
    CHECK_STR(norm("1.0+"), "ERR");
    CHECK_STR(norm("1.0+a..b"), "ERR");
    CHECK_STR(norm("1..0"), "ERR");
    CHECK_STR(norm("1.0."), "ERR");
    CHECK_STR(norm("a1.0"), "ERR");
    CHECK_STR(norm("1.0 a1"), "ERR");
    CHECK_STR(norm("1.0abc"), "ERR");
    CHECK_STR(norm("2.6.0-NA"), "ERR");
    CHECK_STR(norm("2.6.0-cu124"), "ERR");
    CHECK_STR(norm(""), "ERR");
    CHECK_STR(norm("18446744073709551616"), "ERR"); /* 2^64: above the cap */
    CHECK_STR(norm("18446744073709551615"), "18446744073709551615");
}

static void test_order(void)
{
    /* trailing zeros do not matter; epochs dominate */
    CHECK(cmp("1.0", "1.0.0") == 0);
    CHECK(cmp("1", "1.0.0.0") == 0);
    CHECK(cmp("1.0.1", "1.0") == 1);
    CHECK(cmp("1!0.1", "2.0") == 1);
    CHECK(cmp("1.10", "1.9") == 1); /* numbers, not strings */
    /* dev < pre < release < post, along one release */
    CHECK(cmp("1.0.dev0", "1.0a0") == -1);
    CHECK(cmp("1.0a1.dev1", "1.0a1") == -1);
    CHECK(cmp("1.0a1", "1.0a1.post1") == -1);
    CHECK(cmp("1.0a1.post1", "1.0b1") == -1);
    CHECK(cmp("1.0b1", "1.0rc1") == -1);
    CHECK(cmp("1.0rc1", "1.0") == -1);
    CHECK(cmp("1.0", "1.0.post1.dev0") == -1);
    CHECK(cmp("1.0.post1.dev0", "1.0.post1") == -1);
    CHECK(cmp("1.0.post1", "1.0.1.dev0") == -1);
    CHECK(cmp("1.0c1", "1.0rc1") == 0);
    /* the keras PYSEC-2026-369 bound: fixed in 2.13.1rc0 */
    CHECK(cmp("2.13.0", "2.13.1rc0") == -1);
    CHECK(cmp("2.13.1", "2.13.1rc0") == 1);
    CHECK(cmp("2.13.1rc1", "2.13.1rc0") == 1);
    CHECK(cmp("2.13.1.dev0", "2.13.1rc0") == -1);
    /* local labels: none < any; numbers above strings; segment-wise */
    CHECK(cmp("1.0", "1.0+abc") == -1);
    CHECK(cmp("1.0+abc", "1.0+1") == -1);
    CHECK(cmp("1.0+abc.1", "1.0+abc.2") == -1);
    CHECK(cmp("1.0+abc.2", "1.0+abc.10") == -1);
    CHECK(cmp("1.0+abc", "1.0+abc.1") == -1);
    CHECK(cmp("1.0+abc5", "1.0+abc") == 1);
    CHECK(cmp("1.0+ABC", "1.0+abc") == 0);
    CHECK(cmp("1.0+1", "1.0+01") == 0);
    CHECK(cmp("1.0+1", "1.0.post1") == -1);
}

static void test_specifiers(void)
{
    /* == and !=, with padding and with local labels */
    CHECK(spec("1.0.0", "==1.0") == 1);
    CHECK(spec("1.0+local", "==1.0") == 1);
    CHECK(spec("1.0", "==1.0+local") == 0);
    CHECK(spec("1.0+local", "==1.0+local") == 1);
    CHECK(spec("1.0.1", "==1.0") == 0);
    CHECK(spec("1.0", "!=1.0") == 0);
    CHECK(spec("1.0.1", "!=1.0") == 1);
    /* wildcards (only after a release) */
    CHECK(spec("1.0.5", "==1.0.*") == 1);
    CHECK(spec("1.1", "==1.0.*") == 0);
    CHECK(spec("1.0.post1", "==1.0.*") == 1);
    CHECK(spec("1", "==1.0.0.*") == 1);
    CHECK(spec("1.10", "==1.1.*") == 0);
    CHECK(spec("1.0.5", "!=1.0.*") == 0);
    CHECK(spec("2.0", "!=1.0.*") == 1);
    CHECK(spec("1.0", ">=1.0.*") == -1);
    CHECK(spec("1.0", "==1.0a1.*") == -1);
    /* inclusive ordered comparisons ignore local labels */
    CHECK(spec("1.0+abc", "<=1.0") == 1);
    CHECK(spec("1.0", ">=1.0") == 1);
    CHECK(spec("0.9", ">=1.0") == 0);
    CHECK(spec("1.0", "<=1.0+abc") == -1); /* local labels are not allowed there */
    /* exclusive ordered comparisons */
    CHECK(spec("1.1", ">1.0") == 1);
    CHECK(spec("1.0.post1", ">1.0") == 0);      /* not a post-release of V */
    CHECK(spec("1.0.post2", ">1.0.post1") == 1); /* unless V is one */
    CHECK(spec("1.0+abc", ">1.0") == 0);        /* nor a local build of V */
    CHECK(spec("1.0.1", ">1.0") == 1);
    CHECK(spec("0.9", "<1.0") == 1);
    CHECK(spec("1.0", "<1.0") == 0);
    CHECK(spec_pre("1.0rc1", "<1.0rc2") == 1);  /* V is a pre-release: allowed */
    CHECK(spec_pre("1.0rc1", "<1.0") == 0);     /* a pre-release of V itself is not */
    CHECK(spec_pre("0.9rc1", "<1.0") == 1);
    CHECK(spec("1.0rc1", "<1.0rc2") == 0);      /* "<" does not opt in to pre-releases */
    /* compatible release */
    CHECK(spec("2.2.5", "~=2.2") == 1);
    CHECK(spec("2.9", "~=2.2") == 1);
    CHECK(spec("3.0", "~=2.2") == 0);
    CHECK(spec("1.4.9", "~=1.4.5") == 1);
    CHECK(spec("1.5.0", "~=1.4.5") == 0);
    CHECK(spec("1.4.4", "~=1.4.5") == 0);
    CHECK(spec("2.2.post3", "~=2.2.post3") == 1);
    CHECK(spec("1.0", "~=1") == -1); /* needs two release segments */
    CHECK(spec("1!2.2.5", "~=2.2") == 0); /* a different epoch (packaging 23.0 says 1: a bug) */
    /* arbitrary equality: the normalised candidate against the text */
    CHECK(spec("1.0", "===1.0") == 1);
    CHECK(spec("1.0.0", "===1.0") == 0);
    /* pre-releases: excluded unless a specifier names one */
    CHECK(spec("1.1a1", ">=1.0") == 0);
    CHECK(spec("1.1a1", ">=1.0a1") == 1);
    CHECK(spec("1.1a1", "") == 0);
    CHECK(spec("1.1", "") == 1);
    CHECK(spec("2.13.1rc0", "~=2.13.1rc0") == 1);
    CHECK(spec("2.13.1rc0", "<2.13.1rc0") == 0);
    CHECK(spec("2.13.0", "<2.13.1rc0") == 1);
    CHECK(spec("2.13.1rc0", ">=2.13.1rc0") == 1);
    CHECK(spec("2.13.1.dev1", "<2.13.1rc0") == 0);
    CHECK(spec_pre("2.13.1.dev1", "<2.13.1rc0") == 1);
    /* sets: every member must hold; whitespace is free */
    CHECK(spec("1.5", ">=1.0, <2.0") == 1);
    CHECK(spec("2.0", ">=1.0, <2.0") == 0);
    CHECK(spec("1.0.1", " >= 1.0 , != 1.0.1 , < 2") == 0);
    CHECK(spec("1.0", ">=1.0,") == 1); /* empty members are skipped, as packaging does */
    CHECK(spec("1.0", "=>1.0") == -1);
    CHECK(spec("1.0", "==") == -1);

    /* explicit pre-release policy */
    pep440_version v;
    pep440_specifier s;
    CHECK(pep440_parse_str("1.1a1", &v) && pep440_specifier_parse(">=1.0", 5, &s));
    CHECK(pep440_specifier_contains(&s, &v, PEP440_PRE_INCLUDE));
    CHECK(!pep440_specifier_contains(&s, &v, PEP440_PRE_EXCLUDE));
}

static void test_lowest(void)
{
    pep440_specifier_set set;
    pep440_version v;
    char buf[64];
    bool excl = true;
    CHECK(pep440_specifier_set_parse(">=4.30,<5", 9, &set));
    CHECK(pep440_specifier_set_lowest(&set, &v, &excl) && !excl);
    pep440_format(&v, buf, sizeof(buf));
    CHECK_STR(buf, "4.30");
    CHECK(pep440_specifier_set_parse("~=2.2.1", 7, &set));
    CHECK(pep440_specifier_set_lowest(&set, &v, &excl) && !excl);
    pep440_format(&v, buf, sizeof(buf));
    CHECK_STR(buf, "2.2.1");
    CHECK(pep440_specifier_set_parse(">1.0,>=0.5", 10, &set));
    CHECK(pep440_specifier_set_lowest(&set, &v, &excl) && excl);
    pep440_format(&v, buf, sizeof(buf));
    CHECK_STR(buf, "1.0");
    CHECK(pep440_specifier_set_parse("<2,!=1.5", 8, &set));
    CHECK(!pep440_specifier_set_lowest(&set, &v, &excl));
    CHECK(pep440_specifier_set_parse("", 0, &set) && set.n == 0);
    CHECK(!pep440_specifier_set_lowest(&set, &v, &excl));
}

static void test_names(void)
{
    char out[64];
    CHECK(pep503_normalize("Llama_CPP.python", 16, out, sizeof(out)));
    CHECK_STR(out, "llama-cpp-python");
    CHECK(pep503_normalize("PyYAML", 6, out, sizeof(out)));
    CHECK_STR(out, "pyyaml");
    CHECK(pep503_normalize("a--_.b", 6, out, sizeof(out)));
    CHECK_STR(out, "a-b");
    CHECK(!pep503_normalize("", 0, out, sizeof(out)));
    CHECK(!pep503_normalize("abcdef", 6, out, 4));
}

void test_pep440(void)
{
    test_normalisation();
    test_order();
    test_specifiers();
    test_lowest();
    test_names();
}
