/*
 * pep440.c - PEP 440 versions and specifiers, parsed by hand.
 *
 * Specification: https://packaging.python.org/en/latest/specifications/version-specifiers/
 * (PEP 440). The grammar of a version, after trimming whitespace and ignoring
 * case:
 *
 *   [v] [N!] N(.N)*  [{-_.}(a|alpha|b|beta|rc|c|pre|preview)[{-_.}][N]]
 *                    [-N | [{-_.}](post|rev|r)[{-_.}][N]]
 *                    [[{-_.}]dev[{-_.}][N]]
 *                    [+local({-_.}local)*]          local = [a-z0-9]+
 *
 *   order:  epoch, release (1.0 == 1.0.0), then for one release
 *           X.devN < XaN.devM < XaN < XaN.postM < XbN < XrcN < X < X.postN.devM
 *           < X.postN, then the local label (none < any; numeric segments
 *           above alphanumeric ones; more segments above fewer).
 *
 * Why by hand: the reference implementation is a Python regex (pypa
 * `packaging`); no C library in Debian implements PEP 440. The parser is a
 * chain of small bounded readers over the text, every number is checked for
 * overflow, and nothing is allocated. Behaviour was compared with packaging
 * 23.0 (tests/unit/test_pep440.c holds the cases).
 */
#include "pep440.h"

#include <string.h>

typedef struct reader {
    const char *p;
    size_t n, i;
} reader;

static int peek(const reader *r, size_t ahead)
{
    return r->i + ahead < r->n ? (unsigned char)r->p[r->i + ahead] : -1;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_sep(int c)
{
    return c == '-' || c == '_' || c == '.';
}

static bool is_alnum_lower(int c)
{
    c = lower(c);
    return is_digit(c) || (c >= 'a' && c <= 'z');
}

/* Reads a run of digits; false when there is none or it overflows. */
static bool read_number(reader *r, uint64_t *out)
{
    if (!is_digit(peek(r, 0)))
        return false;
    uint64_t v = 0;
    while (is_digit(peek(r, 0))) {
        uint64_t d = (uint64_t)(peek(r, 0) - '0');
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
            return false;
        r->i++;
    }
    *out = v;
    return true;
}

/* Case-insensitive match of `word` at the reader's position (not consumed). */
static bool looking_at(const reader *r, const char *word)
{
    size_t k = strlen(word);
    if (r->n - r->i < k)
        return false;
    for (size_t j = 0; j < k; j++)
        if (lower((unsigned char)r->p[r->i + j]) != word[j])
            return false;
    return true;
}

/* An optional separator, then an optional number (0 when absent). A
 * separator with no digits after it is consumed too: the grammar allows
 * "1.0a-" and "1.0a..post1". False only on overflow. */
static bool read_label_number(reader *r, uint64_t *out)
{
    *out = 0;
    if (is_sep(peek(r, 0)))
        r->i++;
    if (is_digit(peek(r, 0)))
        return read_number(r, out);
    return true;
}

static const struct {
    const char *word;
    pep440_pre_kind kind;
} pre_labels[] = {
    /* longest spelling first where one is a prefix of another */
    {"alpha", PEP440_PRE_ALPHA}, {"a", PEP440_PRE_ALPHA},     {"beta", PEP440_PRE_BETA},
    {"b", PEP440_PRE_BETA},      {"preview", PEP440_PRE_RC}, {"pre", PEP440_PRE_RC},
    {"rc", PEP440_PRE_RC},       {"c", PEP440_PRE_RC},
};

static bool parse_pre(reader *r, pep440_version *v)
{
    size_t save = r->i;
    if (is_sep(peek(r, 0)))
        r->i++;
    for (size_t k = 0; k < sizeof(pre_labels) / sizeof(pre_labels[0]); k++) {
        if (looking_at(r, pre_labels[k].word)) {
            r->i += strlen(pre_labels[k].word);
            v->pre_kind = (uint8_t)pre_labels[k].kind;
            return read_label_number(r, &v->pre);
        }
    }
    r->i = save;
    return true;
}

static bool parse_post(reader *r, pep440_version *v)
{
    /* implicit post-release: "1.0-1" */
    if (peek(r, 0) == '-' && is_digit(peek(r, 1))) {
        r->i++;
        v->has_post = true;
        return read_number(r, &v->post);
    }
    size_t save = r->i;
    if (is_sep(peek(r, 0)))
        r->i++;
    static const char *const words[] = {"post", "rev", "r"};
    for (size_t k = 0; k < 3; k++) {
        if (looking_at(r, words[k])) {
            r->i += strlen(words[k]);
            v->has_post = true;
            return read_label_number(r, &v->post);
        }
    }
    r->i = save;
    return true;
}

static bool parse_dev(reader *r, pep440_version *v)
{
    size_t save = r->i;
    if (is_sep(peek(r, 0)))
        r->i++;
    if (looking_at(r, "dev")) {
        r->i += 3;
        v->has_dev = true;
        return read_label_number(r, &v->dev);
    }
    r->i = save;
    return true;
}

static bool parse_local(reader *r, pep440_version *v)
{
    if (peek(r, 0) != '+')
        return true;
    r->i++;
    size_t out = 0;
    for (;;) {
        size_t start = r->i;
        while (is_alnum_lower(peek(r, 0))) {
            if (out >= PEP440_MAX_LOCAL)
                return false;
            v->local[out++] = (char)lower(peek(r, 0));
            r->i++;
        }
        if (r->i == start)
            return false; /* empty segment: "1.0+", "1.0+a..b" */
        /* a numeric segment is normalised as a number: "01" -> "1" */
        size_t seg = out - (r->i - start), k = seg;
        while (k < out && is_digit((unsigned char)v->local[k]))
            k++;
        if (k == out) {
            size_t z = seg;
            while (z + 1 < out && v->local[z] == '0')
                z++;
            memmove(v->local + seg, v->local + z, out - z);
            out -= z - seg;
        }
        if (!is_sep(peek(r, 0)))
            break;
        if (out >= PEP440_MAX_LOCAL)
            return false;
        v->local[out++] = '.';
        r->i++;
    }
    v->local[out] = '\0';
    return true;
}

bool pep440_parse(const char *text, size_t len, pep440_version *v)
{
    while (len > 0 && is_space((unsigned char)text[0])) {
        text++;
        len--;
    }
    while (len > 0 && is_space((unsigned char)text[len - 1]))
        len--;
    if (len == 0 || len > PEP440_MAX_TEXT)
        return false;
    memset(v, 0, sizeof(*v));
    reader r = {text, len, 0};
    if (lower(peek(&r, 0)) == 'v')
        r.i++;
    uint64_t first;
    if (!read_number(&r, &first))
        return false;
    if (peek(&r, 0) == '!') {
        r.i++;
        v->epoch = first;
        if (!read_number(&r, &first))
            return false;
    }
    v->release[0] = first;
    v->nrelease = 1;
    while (peek(&r, 0) == '.' && is_digit(peek(&r, 1))) {
        if (v->nrelease >= PEP440_MAX_RELEASE)
            return false;
        r.i++;
        if (!read_number(&r, &v->release[v->nrelease]))
            return false;
        v->nrelease++;
    }
    if (!parse_pre(&r, v) || !parse_post(&r, v) || !parse_dev(&r, v) || !parse_local(&r, v))
        return false;
    return r.i == r.n;
}

bool pep440_parse_str(const char *text, pep440_version *out)
{
    return text && pep440_parse(text, strlen(text), out);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_release(const pep440_version *a, const pep440_version *b)
{
    size_t n = a->nrelease > b->nrelease ? a->nrelease : b->nrelease;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = i < a->nrelease ? a->release[i] : 0;
        uint64_t y = i < b->nrelease ? b->release[i] : 0;
        if (x != y)
            return cmp_u64(x, y);
    }
    return 0;
}

/* The pre-release key: a dev-only release sorts before every pre-release,
 * a final release after them. */
static int pre_rank(const pep440_version *v)
{
    if (v->pre_kind == PEP440_PRE_NONE)
        return !v->has_post && v->has_dev ? 0 : 4;
    return v->pre_kind; /* 1 a, 2 b, 3 rc */
}

/* Compares one local segment of each label (lengths given). */
static int cmp_local_segment(const char *a, size_t na, const char *b, size_t nb)
{
    bool da = true, db = true;
    for (size_t i = 0; i < na; i++)
        da = da && is_digit((unsigned char)a[i]);
    for (size_t i = 0; i < nb; i++)
        db = db && is_digit((unsigned char)b[i]);
    if (da && db) {
        while (na > 1 && a[0] == '0') {
            a++;
            na--;
        }
        while (nb > 1 && b[0] == '0') {
            b++;
            nb--;
        }
        if (na != nb)
            return na < nb ? -1 : 1;
        int c = memcmp(a, b, na);
        return c < 0 ? -1 : c > 0;
    }
    if (da != db)
        return da ? 1 : -1; /* a number sorts above a string */
    int c = memcmp(a, b, na < nb ? na : nb);
    if (c)
        return c < 0 ? -1 : 1;
    return na == nb ? 0 : na < nb ? -1 : 1;
}

static int cmp_local(const char *a, const char *b)
{
    if (!*a || !*b)
        return *a ? 1 : *b ? -1 : 0;
    for (;;) {
        size_t na = strcspn(a, "."), nb = strcspn(b, ".");
        int c = cmp_local_segment(a, na, b, nb);
        if (c)
            return c;
        a += na;
        b += nb;
        if (!*a || !*b)
            return *a ? 1 : *b ? -1 : 0;
        a++;
        b++;
    }
}

int pep440_compare_public(const pep440_version *a, const pep440_version *b)
{
    int c = cmp_u64(a->epoch, b->epoch);
    if (!c)
        c = cmp_release(a, b);
    if (!c)
        c = cmp_u64((uint64_t)pre_rank(a), (uint64_t)pre_rank(b));
    if (!c && a->pre_kind != PEP440_PRE_NONE)
        c = cmp_u64(a->pre, b->pre);
    if (!c && a->has_post != b->has_post)
        c = a->has_post ? 1 : -1;
    if (!c && a->has_post)
        c = cmp_u64(a->post, b->post);
    if (!c && a->has_dev != b->has_dev)
        c = a->has_dev ? -1 : 1;
    if (!c && a->has_dev)
        c = cmp_u64(a->dev, b->dev);
    return c;
}

int pep440_compare(const pep440_version *a, const pep440_version *b)
{
    int c = pep440_compare_public(a, b);
    return c ? c : cmp_local(a->local, b->local);
}

bool pep440_is_prerelease(const pep440_version *v)
{
    return v->pre_kind != PEP440_PRE_NONE || v->has_dev;
}

bool pep440_is_postrelease(const pep440_version *v)
{
    return v->has_post;
}

void pep440_strip_local(pep440_version *v)
{
    v->local[0] = '\0';
}

/* Appends to buf like snprintf, tracking the length needed. */
static void put(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len < cap) {
        size_t room = cap - *len - 1;
        memcpy(buf + *len, s, n < room ? n : room);
    }
    *len += n;
}

static void put_u64(char *buf, size_t cap, size_t *len, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp) - 1;
    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(buf, cap, len, tmp + i);
}

size_t pep440_format(const pep440_version *v, char *buf, size_t cap)
{
    size_t len = 0;
    if (v->epoch) {
        put_u64(buf, cap, &len, v->epoch);
        put(buf, cap, &len, "!");
    }
    for (size_t i = 0; i < v->nrelease; i++) {
        if (i)
            put(buf, cap, &len, ".");
        put_u64(buf, cap, &len, v->release[i]);
    }
    static const char *const pre_names[] = {"", "a", "b", "rc"};
    if (v->pre_kind != PEP440_PRE_NONE) {
        put(buf, cap, &len, pre_names[v->pre_kind & 3]);
        put_u64(buf, cap, &len, v->pre);
    }
    if (v->has_post) {
        put(buf, cap, &len, ".post");
        put_u64(buf, cap, &len, v->post);
    }
    if (v->has_dev) {
        put(buf, cap, &len, ".dev");
        put_u64(buf, cap, &len, v->dev);
    }
    if (v->local[0]) {
        put(buf, cap, &len, "+");
        put(buf, cap, &len, v->local);
    }
    if (cap)
        buf[len < cap ? len : cap - 1] = '\0';
    return len;
}

/* ---- specifiers ---- */

static const struct {
    const char *text;
    pep440_op op;
} operators[] = {
    /* longest first: "===" before "==" */
    {"===", PEP440_OP_ARBITRARY}, {"~=", PEP440_OP_COMPATIBLE}, {"==", PEP440_OP_EQ},
    {"!=", PEP440_OP_NE},         {"<=", PEP440_OP_LE},         {">=", PEP440_OP_GE},
    {"<", PEP440_OP_LT},          {">", PEP440_OP_GT},
};

bool pep440_specifier_parse(const char *text, size_t len, pep440_specifier *s)
{
    while (len > 0 && is_space((unsigned char)text[0])) {
        text++;
        len--;
    }
    while (len > 0 && is_space((unsigned char)text[len - 1]))
        len--;
    if (len == 0 || len > PEP440_MAX_TEXT)
        return false;
    memset(s, 0, sizeof(*s));
    size_t k = 0, oplen = 0;
    for (; k < sizeof(operators) / sizeof(operators[0]); k++) {
        oplen = strlen(operators[k].text);
        if (len >= oplen && memcmp(text, operators[k].text, oplen) == 0)
            break;
    }
    if (k == sizeof(operators) / sizeof(operators[0]))
        return false;
    s->op = operators[k].op;
    text += oplen;
    len -= oplen;
    while (len > 0 && is_space((unsigned char)text[0])) {
        text++;
        len--;
    }
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (is_space((unsigned char)text[i]) || text[i] == ',' || text[i] == ';')
            return false;
    memcpy(s->text, text, len);
    s->text[len] = '\0';

    if (s->op == PEP440_OP_ARBITRARY) {
        s->version_valid = pep440_parse(text, len, &s->version);
        return true;
    }
    if (len >= 2 && text[len - 2] == '.' && text[len - 1] == '*') {
        if (s->op != PEP440_OP_EQ && s->op != PEP440_OP_NE)
            return false;
        if (!pep440_parse(text, len - 2, &s->version))
            return false;
        const pep440_version *v = &s->version;
        /* only an epoch and a release may precede ".*" */
        if (v->pre_kind || v->has_post || v->has_dev || v->local[0])
            return false;
        s->wildcard = true;
        s->version_valid = true;
        return true;
    }
    if (!pep440_parse(text, len, &s->version))
        return false;
    s->version_valid = true;
    if (s->version.local[0] && s->op != PEP440_OP_EQ && s->op != PEP440_OP_NE)
        return false;
    if (s->op == PEP440_OP_COMPATIBLE && s->version.nrelease < 2)
        return false;
    return true;
}

bool pep440_specifier_set_parse(const char *text, size_t len, pep440_specifier_set *set)
{
    set->n = 0;
    size_t start = 0;
    bool all_blank = true;
    for (size_t i = 0; i < len; i++)
        all_blank = all_blank && is_space((unsigned char)text[i]);
    if (all_blank)
        return true;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != ',')
            continue;
        bool blank = true;
        for (size_t k = start; k < i; k++)
            blank = blank && is_space((unsigned char)text[k]);
        if (blank) { /* ">=1.0," : an empty member is skipped, as packaging does */
            start = i + 1;
            continue;
        }
        if (set->n >= PEP440_MAX_SPECIFIERS)
            return false;
        if (!pep440_specifier_parse(text + start, i - start, &set->items[set->n]))
            return false;
        set->n++;
        start = i + 1;
    }
    return true;
}

/* Epoch equal and the release, padded with zeros, starts with the first
 * `n` release segments of `prefix`. */
static bool prefix_match(const pep440_version *v, const pep440_version *prefix, size_t n)
{
    if (v->epoch != prefix->epoch)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = i < v->nrelease ? v->release[i] : 0;
        if (x != prefix->release[i])
            return false;
    }
    return true;
}

/* The release of a version (epoch and release only), for the base-version
 * comparisons of the exclusive operators. */
static int cmp_base(const pep440_version *a, const pep440_version *b)
{
    int c = cmp_u64(a->epoch, b->epoch);
    return c ? c : cmp_release(a, b);
}

static bool op_equal(const pep440_specifier *s, const pep440_version *v)
{
    if (s->wildcard)
        return prefix_match(v, &s->version, s->version.nrelease);
    /* a specifier without a local label ignores the candidate's label */
    if (!s->version.local[0])
        return pep440_compare_public(v, &s->version) == 0;
    return pep440_compare(v, &s->version) == 0;
}

static bool ascii_equal_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return false;
    return *a == *b;
}

bool pep440_specifier_allows_prereleases(const pep440_specifier *s)
{
    switch (s->op) {
    case PEP440_OP_EQ:
    case PEP440_OP_GE:
    case PEP440_OP_LE:
    case PEP440_OP_COMPATIBLE:
    case PEP440_OP_ARBITRARY:
        return s->version_valid && pep440_is_prerelease(&s->version);
    default:
        return false;
    }
}

bool pep440_specifier_contains(const pep440_specifier *s, const pep440_version *v,
                               pep440_prereleases pre)
{
    bool allow = pre == PEP440_PRE_DEFAULT ? pep440_specifier_allows_prereleases(s)
                                           : pre == PEP440_PRE_INCLUDE;
    if (pep440_is_prerelease(v) && !allow)
        return false;
    const pep440_version *sv = &s->version;
    switch (s->op) {
    case PEP440_OP_EQ:
        return op_equal(s, v);
    case PEP440_OP_NE:
        return !op_equal(s, v);
    case PEP440_OP_LE:
        return pep440_compare_public(v, sv) <= 0;
    case PEP440_OP_GE:
        return pep440_compare_public(v, sv) >= 0;
    case PEP440_OP_COMPATIBLE:
        /* ~=X.Y.Z  is  >=X.Y.Z, ==X.Y.*  (the last release segment dropped) */
        return pep440_compare_public(v, sv) >= 0 && prefix_match(v, sv, sv->nrelease - 1u);
    case PEP440_OP_LT:
        if (pep440_compare(v, sv) >= 0)
            return false;
        /* <V excludes pre-releases of V itself unless V is one */
        if (!pep440_is_prerelease(sv) && pep440_is_prerelease(v) && cmp_base(v, sv) == 0)
            return false;
        return true;
    case PEP440_OP_GT:
        if (pep440_compare(v, sv) <= 0)
            return false;
        /* >V excludes post-releases of V unless V is one, and local builds of V */
        if (!pep440_is_postrelease(sv) && pep440_is_postrelease(v) && cmp_base(v, sv) == 0)
            return false;
        if (v->local[0] && cmp_base(v, sv) == 0)
            return false;
        return true;
    case PEP440_OP_ARBITRARY: {
        char norm[PEP440_MAX_TEXT * 2];
        if (pep440_format(v, norm, sizeof(norm)) >= sizeof(norm))
            return false;
        return ascii_equal_nocase(norm, s->text);
    }
    }
    return false;
}

bool pep440_specifier_set_contains(const pep440_specifier_set *set, const pep440_version *v,
                                   pep440_prereleases pre)
{
    if (pre == PEP440_PRE_DEFAULT) {
        bool allow = false;
        for (size_t i = 0; i < set->n; i++)
            allow = allow || pep440_specifier_allows_prereleases(&set->items[i]);
        pre = allow ? PEP440_PRE_INCLUDE : PEP440_PRE_EXCLUDE;
    }
    if (pre == PEP440_PRE_EXCLUDE && pep440_is_prerelease(v))
        return false;
    for (size_t i = 0; i < set->n; i++)
        if (!pep440_specifier_contains(&set->items[i], v, pre))
            return false;
    return true;
}

bool pep440_specifier_set_lowest(const pep440_specifier_set *set, pep440_version *out,
                                 bool *exclusive)
{
    bool found = false;
    *exclusive = false;
    for (size_t i = 0; i < set->n; i++) {
        const pep440_specifier *s = &set->items[i];
        bool excl = false;
        switch (s->op) {
        case PEP440_OP_EQ:
        case PEP440_OP_GE:
        case PEP440_OP_COMPATIBLE:
            break;
        case PEP440_OP_ARBITRARY:
            if (!s->version_valid)
                continue;
            break;
        case PEP440_OP_GT:
            excl = true;
            break;
        default:
            continue;
        }
        pep440_version cand = s->version;
        if (s->op != PEP440_OP_EQ)
            pep440_strip_local(&cand);
        /* the highest lower bound wins; at equal bounds ">" is the tighter */
        int c = found ? pep440_compare(&cand, out) : 1;
        if (c > 0 || (c == 0 && excl)) {
            *out = cand;
            *exclusive = excl;
            found = true;
        }
    }
    return found;
}

bool pep503_normalize(const char *name, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    bool in_sep = false;
    if (cap == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)name[i];
        if (is_sep(c)) {
            in_sep = true;
            continue;
        }
        if (in_sep && o > 0) {
            if (o + 1 >= cap)
                return false;
            out[o++] = '-';
        }
        in_sep = false;
        if (o + 1 >= cap)
            return false;
        out[o++] = (char)lower(c);
    }
    out[o] = '\0';
    return o > 0;
}
