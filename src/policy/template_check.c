/*
 * template_check.c - static analysis of Jinja2 chat templates.
 *
 *   template := ( text
 *               | "{{" token* "}}"                     expression tag
 *               | "{%" token* "%}"                     statement tag
 *               | "{#" ... "#}"                        comment: never runs
 *               | "{%" raw "%}" text "{%" endraw "%}"  raw block: text only
 *               )*
 *   token    := name | 'string' | "string" | number | operator
 *
 * Specification: the Jinja2 template designer documentation
 * (https://jinja.palletsprojects.com/en/stable/templates/) and its lexer
 * (jinja2/lexer.py), followed where it matters for security:
 *   - a tag ends at the first closing delimiter outside strings and outside
 *     (), [] and {} ("{{ {'a': {'b': 1}} }}" is one tag);
 *   - "-" and "+" whitespace control are plain operators here;
 *   - string literals are decoded with Python's escape rules, so '\x5f\x5f'
 *     is "__" and '\N{LOW LINE}' is "_".
 *
 * Parsed by hand because nothing may render, compile or import the template:
 * the analysis reads tokens, one tag at a time, and records constructs
 * through which rendering reaches Python internals (the attack surface of
 * server-side template injection, e.g. llama-cpp-python CVE-2024-34359,
 * whose payload walks cycler.__init__.__globals__.os.popen):
 *   - dunder, name-mangled and private attributes ("x.__class__",
 *     "self._TemplateReference__context", "x._module"), double-underscore
 *     names;
 *   - attributes and names that are code execution on their own (os, popen,
 *     subprocess, eval, exec, getattr, frame attributes ...);
 *   - Jinja's and Flask's gadget globals (cycler, joiner, lipsum, self,
 *     config, request, url_for, get_flashed_messages; namespace, range and
 *     dict when used as objects rather than called);
 *   - the attr filter with a computed or private name, map('attr', ...);
 *   - subscripts with dunder or computed keys (x['__class__'],
 *     x['__cla' ~ 'ss__']), constant strings that spell dunder names after
 *     folding '~', '+' and '*' (including '_' * 2), strings whose escapes
 *     spell identifier characters, character-code format strings ('%c'),
 *     object reprs used as character sources (()|select|string), and string
 *     pieces anywhere in the template that join into a dunder name;
 *   - {% import %}, {% from %}, {% include %}, {% extends %}: loading other
 *     templates.
 * What real chat templates do - loops over messages, namespace(...) objects
 * used as ns.x, raise_exception('...'), strftime_now, tojson, .items(),
 * .get(), .startswith(), .split(), loop.index0, slicing - raises nothing.
 */
#include "template_check.h"

#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"

enum {
    SNIPPET_MAX = 160, /* bytes of a tag shown around a construct */
    NAME_MAX_SHOWN = 80,
    FOLD_MAX = 4096,  /* bytes of one folded constant string kept */
    REPEAT_MAX = 64,  /* 'x' * N folds at most this many copies */
    STACK_KEPT = 256, /* bracket types remembered for matching */
};

enum tok_type { TOK_NAME, TOK_STRING, TOK_NUMBER, TOK_OP };

typedef struct tok {
    uint8_t type;
    uint8_t op;          /* TOK_OP: the operator character */
    bool escaped_ident;  /* TOK_STRING: an escape spelled a letter, digit or '_' */
    size_t start, end;   /* source span */
    size_t vstart, vlen; /* TOK_STRING: decoded value in analyser.vals */
    uint64_t num;        /* TOK_NUMBER: integer part, saturated */
} tok;

/* where each string literal's value starts in `joined`, and in the source */
typedef struct piece {
    size_t joined_at, src_at;
} piece;

typedef struct analyser {
    const uint8_t *text;
    size_t len;
    template_result *res;
    tok *toks; /* the current tag */
    size_t ntoks, toks_cap;
    size_t *match; /* per token of the tag: index of the matching close bracket */
    size_t match_cap;
    uint8_t *vals; /* decoded string literals of the current tag */
    size_t vals_len, vals_cap;
    uint8_t *joined; /* every string literal of the template, decoded, in order */
    size_t joined_len, joined_cap;
    piece *pieces;
    size_t npieces, pieces_cap;
    size_t tag_start, tag_end; /* source span shown in snippets */
    unsigned bound;            /* gadget globals rebound by set/for/macro/with */
    size_t line_at;            /* line counting cache: line_no is the line of line_at */
    unsigned line_no;
} analyser;

/* ---- tables ------------------------------------------------------------ */

static const char *const dangerous_names[] = {
    "os",      "sys",     "popen",   "subprocess", "eval",      "exec",
    "execfile", "compile", "getattr", "setattr",    "delattr",   "globals",
    "locals",  "vars",    "builtins", "importlib",  "import_module", "breakpoint",
};

static const char *const dangerous_attrs[] = {
    "os",        "sys",        "popen",      "subprocess", "eval",       "exec",
    "compile",   "getattr",    "setattr",    "import_module", "builtins", "check_output",
    "check_call", "load_module", "mro",       "func_globals", "func_code", "f_globals",
    "f_locals",  "f_builtins", "f_back",     "f_code",     "gi_frame",   "gi_code",
    "cr_frame",  "ag_frame",   "tb_frame",   "tb_next",
};

/* exact string values that name internals: as a subscript key or attr()
 * argument (x['os']), and - the ones no chat template has a use for - on
 * their own, as parts of a name assembled at render time */
static const char *const dangerous_keys[] = {
    "os",      "sys",    "popen",      "subprocess", "eval",         "exec",
    "compile", "getattr", "import",    "class",      "mro",          "subclasses",
    "globals", "builtins", "getattribute", "import_module",
};
static const char *const dangerous_strings[] = {
    "class",   "mro",        "subclasses", "globals", "builtins", "getattribute",
    "popen",   "subprocess", "import_module",
};

/* dunder names looked for inside longer strings and across string pieces */
static const char *const dunders[] = {
    "__class__",   "__mro__",      "__subclasses__", "__globals__",  "__builtins__",
    "__init__",    "__import__",   "__getattribute__", "__dict__",   "__base__",
    "__bases__",   "__code__",     "__func__",       "__self__",     "__module__",
    "__loader__",  "__spec__",     "__getitem__",    "__reduce__",   "__reduce_ex__",
    "__subclasshook__", "__closure__", "__call__",   "__wrapped__",
};

/* Globals of Jinja2 (and of Flask's Jinja environment) used as entry points
 * of gadget chains. The first three are legitimately *called* by chat
 * templates (namespace(...), range(n), dict(...)); the rest have no use in a
 * chat template at all. */
static const char *const gadgets[] = {
    "namespace", "range", "dict", "cycler", "joiner", "lipsum", "self",
    "config",    "request", "url_for", "get_flashed_messages",
};
enum { GADGETS_CALLABLE = 3 };

/* names after which "[" opens a list literal, not a subscript */
static const char *const keywords[] = {"in",  "and", "or",   "not",  "if",   "else", "elif",
                                       "is",  "for", "set",  "do",   "with", "import",
                                       "from", "as", "return", "print", "recursive"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool bytes_eq(const uint8_t *p, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || (uint8_t)s[i] != p[i])
            return false;
    return s[n] == '\0';
}

static int table_index(const char *const *table, size_t count, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < count; i++)
        if (bytes_eq(p, n, table[i]))
            return (int)i;
    return -1;
}

static size_t find_bytes(const uint8_t *hay, size_t n, size_t from, const char *needle)
{
    size_t m = strlen(needle);
    while (from + m <= n) {
        const uint8_t *p = memchr(hay + from, (unsigned char)needle[0], n - from - m + 1);
        if (!p)
            return SIZE_MAX;
        size_t at = (size_t)(p - hay);
        if (memcmp(p, needle, m) == 0)
            return at;
        from = at + 1;
    }
    return SIZE_MAX;
}

/* find_bytes for a dunder name: the search runs on the letters after the
 * leading "__", so a run of underscores costs one memchr, not one compare
 * per byte */
static size_t find_dunder(const uint8_t *hay, size_t n, size_t from, const char *dunder)
{
    size_t m = strlen(dunder);
    const char *core = dunder + 2;
    size_t cm = m - 2;
    size_t i = from + 2;
    while (i + cm <= n) {
        const uint8_t *p = memchr(hay + i, (unsigned char)core[0], n - i - cm + 1);
        if (!p)
            return SIZE_MAX;
        size_t at = (size_t)(p - hay);
        if (memcmp(p, core, cm) == 0 && hay[at - 1] == '_' && hay[at - 2] == '_')
            return at - 2;
        i = at + 1;
    }
    return SIZE_MAX;
}

/* ---- buffers ----------------------------------------------------------- */

static void *grow_array(analyser *a, void *buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return buf;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 4 / elem) {
            a->res->nomem = true;
            return NULL;
        }
        n *= 2;
    }
    void *p = realloc(buf, n * elem);
    if (!p) {
        a->res->nomem = true;
        return NULL;
    }
    *cap = n;
    return p;
}

static void put_byte(analyser *a, uint8_t b)
{
    uint8_t *v = grow_array(a, a->vals, &a->vals_cap, a->vals_len + 1, 1);
    if (!v)
        return;
    a->vals = v;
    a->vals[a->vals_len++] = b;
}

static void put_codepoint(analyser *a, uint32_t cp)
{
    if (cp < 0x80) {
        put_byte(a, (uint8_t)cp);
    } else if (cp < 0x800) {
        put_byte(a, (uint8_t)(0xc0 | (cp >> 6)));
        put_byte(a, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        put_byte(a, (uint8_t)(0xe0 | (cp >> 12)));
        put_byte(a, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        put_byte(a, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        put_byte(a, (uint8_t)(0xf0 | (cp >> 18)));
        put_byte(a, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        put_byte(a, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        put_byte(a, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

static tok *push_tok(analyser *a, uint8_t type, size_t start, size_t end)
{
    tok *t = grow_array(a, a->toks, &a->toks_cap, a->ntoks + 1, sizeof(*t));
    if (!t)
        return NULL;
    a->toks = t;
    tok *k = &a->toks[a->ntoks++];
    memset(k, 0, sizeof(*k));
    k->type = type;
    k->start = start;
    k->end = end;
    return k;
}

/* ---- findings ---------------------------------------------------------- */

static unsigned line_of(analyser *a, size_t off)
{
    if (off < a->line_at) {
        a->line_at = 0;
        a->line_no = 1;
    }
    for (size_t i = a->line_at; i < off && i < a->len; i++)
        if (a->text[i] == '\n')
            a->line_no++;
    a->line_at = off;
    return a->line_no;
}

/* text shown to people: valid UTF-8, no control characters, spaces folded */
static char *display_text(const uint8_t *p, size_t n, size_t max, bool prefix_dots)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, max + 16);
    if (prefix_dots)
        ms_strbuf_puts(&sb, "...");
    bool space = false;
    size_t shown = 0, i = 0;
    for (; i < n && shown < max; i++) {
        uint8_t c = p[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = true;
            continue;
        }
        if (space && shown) {
            ms_strbuf_append(&sb, " ", 1);
            shown++;
        }
        space = false;
        if (c >= 0x80) {
            size_t k = ms_utf8_seq_len(p + i, n - i);
            if (k > 1) {
                ms_strbuf_append(&sb, (const char *)p + i, k);
                shown += k;
                i += k - 1;
                continue;
            }
        }
        ms_strbuf_append(&sb, (const char *)&c, 1);
        shown++;
    }
    if (i < n)
        ms_strbuf_puts(&sb, "...");
    char *s = ms_strbuf_take(&sb);
    ms_sanitize_text(s);
    for (char *q = s; *q; q++)
        if (*q == '\n' || *q == '\t')
            *q = ' ';
    return s;
}

static void add(analyser *a, const char *kind, const uint8_t *name, size_t nlen, size_t off)
{
    template_result *r = a->res;
    r->total++;
    char *nm = display_text(name, nlen, NAME_MAX_SHOWN, false);
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->items[i].kind, kind) == 0 && strcmp(r->items[i].name, nm) == 0) {
            free(nm);
            return;
        }
    }
    if (r->count >= TEMPLATE_MAX_CONSTRUCTS) {
        free(nm);
        return;
    }
    size_t cap = r->count; /* items grow one by one: at most 32 */
    template_construct *it = realloc(r->items, (cap + 1) * sizeof(*it));
    if (!it) {
        free(nm);
        r->nomem = true;
        return;
    }
    r->items = it;
    /* a window of the tag around the construct */
    size_t ws = a->tag_start;
    if (off > ws + SNIPPET_MAX / 2)
        ws = off - SNIPPET_MAX / 3;
    while (ws < off && (a->text[ws] & 0xc0) == 0x80)
        ws++;
    size_t we = a->tag_end > a->len ? a->len : a->tag_end;
    template_construct *c = &r->items[r->count++];
    c->kind = kind;
    c->name = nm;
    c->snippet = display_text(a->text + ws, we > ws ? we - ws : 0, SNIPPET_MAX, ws > a->tag_start);
    c->offset = off;
    c->line = line_of(a, off);
}

static bool has_dunder_pair(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '_' && p[i + 1] == '_')
            return true;
    return false;
}

static bool identifier_like(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static bool is_dunder(const uint8_t *p, size_t n)
{
    return n > 4 && p[0] == '_' && p[1] == '_' && p[n - 2] == '_' && p[n - 1] == '_';
}

/* ---- lexer ------------------------------------------------------------- */

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_name_start(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static bool is_name_char(uint8_t c) { return is_name_start(c) || is_digit(c); }

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool ident_codepoint(uint32_t cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           cp == '_';
}

static bool ascii_ieq(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = p[i], y = (uint8_t)s[i];
        if (x >= 'a' && x <= 'z')
            x = (uint8_t)(x - 32);
        if (x != y)
            return false;
    }
    return true;
}

/* the character a \N{...} escape names, for the names that spell identifiers */
static uint32_t named_codepoint(const uint8_t *p, size_t n)
{
    static const char *const digits[] = {"ZERO", "ONE", "TWO",   "THREE", "FOUR",
                                         "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"};
    if (ascii_ieq(p, n, "LOW LINE"))
        return '_';
    if (n == 20 && ascii_ieq(p, 19, "LATIN SMALL LETTER ")) {
        uint8_t c = p[19] | 0x20;
        if (c >= 'a' && c <= 'z')
            return c;
    }
    if (n == 22 && ascii_ieq(p, 21, "LATIN CAPITAL LETTER ")) {
        uint8_t c = p[21] & (uint8_t)~0x20;
        if (c >= 'A' && c <= 'Z')
            return c;
    }
    if (n > 6 && ascii_ieq(p, 6, "DIGIT "))
        for (int d = 0; d < 10; d++)
            if (ascii_ieq(p + 6, n - 6, digits[d]))
                return (uint32_t)('0' + d);
    return 0xfffd;
}

/* Decodes a string literal's body [s, e) into a->vals with Python's escape
 * rules (Jinja2 decodes literals with "unicode-escape"). */
static void decode_string(analyser *a, tok *k, size_t s, size_t e)
{
    const uint8_t *t = a->text;
    k->vstart = a->vals_len;
    for (size_t j = s; j < e;) {
        uint8_t c = t[j];
        if (c != '\\' || j + 1 >= e) {
            put_byte(a, c);
            j++;
            continue;
        }
        uint8_t d = t[j + 1];
        uint32_t cp = 0;
        bool numeric = false;
        switch (d) {
        case '\n': j += 2; continue; /* line continuation */
        case '\\':
        case '\'':
        case '"': put_byte(a, d); j += 2; continue;
        case 'a': put_byte(a, 7); j += 2; continue;
        case 'b': put_byte(a, 8); j += 2; continue;
        case 'f': put_byte(a, 12); j += 2; continue;
        case 'n': put_byte(a, 10); j += 2; continue;
        case 'r': put_byte(a, 13); j += 2; continue;
        case 't': put_byte(a, 9); j += 2; continue;
        case 'v': put_byte(a, 11); j += 2; continue;
        case 'x':
        case 'u':
        case 'U': {
            size_t digits = d == 'x' ? 2 : d == 'u' ? 4 : 8;
            size_t q = j + 2;
            for (size_t i = 0; i < digits; i++, q++) {
                int h = q < e ? hex_value(t[q]) : -1;
                if (h < 0) {
                    a->res->lex_error = true; /* Python refuses a short \x escape */
                    cp = 0xfffd;
                    break;
                }
                cp = cp * 16 + (uint32_t)h;
            }
            if (cp > 0x10ffff) {
                a->res->lex_error = true;
                cp = 0xfffd;
            }
            numeric = true;
            j = q;
            break;
        }
        case 'N': {
            size_t close = SIZE_MAX;
            if (j + 2 < e && t[j + 2] == '{')
                for (size_t q = j + 3; q < e && q < j + 80; q++)
                    if (t[q] == '}') {
                        close = q;
                        break;
                    }
            if (close == SIZE_MAX) {
                a->res->lex_error = true;
                put_byte(a, '\\');
                j++;
                continue;
            }
            cp = named_codepoint(t + j + 3, close - (j + 3));
            k->escaped_ident = true; /* no chat template spells text by character names */
            numeric = true;
            j = close + 1;
            break;
        }
        default:
            if (d >= '0' && d <= '7') {
                size_t q = j + 1;
                for (int i = 0; i < 3 && q < e && t[q] >= '0' && t[q] <= '7'; i++, q++)
                    cp = cp * 8 + (uint32_t)(t[q] - '0');
                numeric = true;
                j = q;
                break;
            }
            put_byte(a, '\\'); /* unknown escapes stay as they are */
            put_byte(a, d);
            j += 2;
            continue;
        }
        if (numeric) {
            if (ident_codepoint(cp))
                k->escaped_ident = true;
            put_codepoint(a, cp);
        }
    }
    k->vlen = a->vals_len - k->vstart;
}

static size_t lex_string(analyser *a, size_t p)
{
    const uint8_t *t = a->text;
    uint8_t q = t[p];
    size_t i = p + 1;
    while (i < a->len && t[i] != q)
        i += t[i] == '\\' ? 2 : 1;
    if (i >= a->len) {
        a->res->lex_error = true; /* unterminated: Jinja2 refuses the template */
        i = a->len;
    }
    tok *k = push_tok(a, TOK_STRING, p, i < a->len ? i + 1 : a->len);
    if (k)
        decode_string(a, k, p + 1, i);
    return i < a->len ? i + 1 : a->len;
}

static uint8_t opener_of(uint8_t c) { return c == ')' ? '(' : c == ']' ? '[' : '{'; }

/* Lexes the body of a tag starting at p up to its closing delimiter
 * (closer '}' for "}}", '%' for "%}"); returns the offset after it, or the
 * end of the text when the tag is unterminated (a lexing error). */
static size_t lex_tag(analyser *a, size_t p, uint8_t closer)
{
    const uint8_t *s = a->text;
    size_t n = a->len;
    uint8_t stack[STACK_KEPT];
    size_t depth = 0;
    a->ntoks = 0;
    a->vals_len = 0;
    while (p < n && !a->res->nomem) {
        uint8_t c = s[p];
        if (is_space(c)) {
            p++;
            continue;
        }
        if (depth == 0 && c == closer && p + 1 < n && s[p + 1] == '}')
            return p + 2;
        if (c == '\'' || c == '"') {
            p = lex_string(a, p);
            continue;
        }
        if (is_name_start(c)) {
            size_t q = p + 1;
            while (q < n && is_name_char(s[q]))
                q++;
            push_tok(a, TOK_NAME, p, q);
            p = q;
            continue;
        }
        if (is_digit(c)) {
            size_t q = p;
            uint64_t v = 0;
            while (q < n && (is_digit(s[q]) || s[q] == '_')) {
                if (s[q] != '_')
                    v = v > UINT64_MAX / 16 ? UINT64_MAX : v * 10 + (uint64_t)(s[q] - '0');
                q++;
            }
            if (q + 1 < n && s[q] == '.' && is_digit(s[q + 1]))
                for (q++; q < n && (is_digit(s[q]) || s[q] == '_'); q++)
                    ;
            if (q < n && (s[q] == 'e' || s[q] == 'E')) {
                size_t r = q + 1;
                if (r < n && (s[r] == '+' || s[r] == '-'))
                    r++;
                if (r < n && is_digit(s[r]))
                    for (q = r; q < n && (is_digit(s[q]) || s[q] == '_'); q++)
                        ;
            }
            tok *k = push_tok(a, TOK_NUMBER, p, q);
            if (k)
                k->num = v;
            p = q;
            continue;
        }
        if (c != 0 && strchr("+-*/%~[](){}=.:|,<>!;", c)) {
            if (c == '(' || c == '[' || c == '{') {
                if (depth < STACK_KEPT)
                    stack[depth] = c;
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) {
                    a->res->lex_error = true; /* Jinja2: unexpected closing bracket */
                } else {
                    depth--;
                    if (depth < STACK_KEPT && stack[depth] != opener_of(c))
                        a->res->lex_error = true;
                }
            } else if (c == '!' && !(p + 1 < n && s[p + 1] == '=')) {
                a->res->lex_error = true;
            }
            tok *k = push_tok(a, TOK_OP, p, p + 1);
            if (k)
                k->op = c;
            p++;
            continue;
        }
        a->res->lex_error = true; /* a character Jinja2's lexer does not know */
        p++;
    }
    a->res->lex_error = true; /* the tag never closes */
    return n;
}

/* "{%" [-+] raw [-] "%}" at p: returns the offset after it, or 0 */
static size_t raw_tag(const uint8_t *s, size_t n, size_t p, const char *word)
{
    size_t j = p + 2;
    if (j < n && (s[j] == '-' || s[j] == '+'))
        j++;
    while (j < n && is_space(s[j]))
        j++;
    size_t m = strlen(word);
    if (j + m > n || memcmp(s + j, word, m) != 0)
        return 0;
    j += m;
    if (j < n && is_name_char(s[j]))
        return 0;
    while (j < n && is_space(s[j]))
        j++;
    if (j < n && (s[j] == '-' || s[j] == '+'))
        j++;
    if (j + 2 > n || s[j] != '%' || s[j + 1] != '}')
        return 0;
    return j + 2;
}

/* ---- analysis of one tag ----------------------------------------------- */

static bool is_op(const tok *k, uint8_t c) { return k->type == TOK_OP && k->op == c; }

static const uint8_t *tok_text(const analyser *a, const tok *k) { return a->text + k->start; }

static size_t tok_len(const tok *k) { return k->end - k->start; }

static bool name_is(const analyser *a, const tok *k, const char *s)
{
    return k->type == TOK_NAME && bytes_eq(tok_text(a, k), tok_len(k), s);
}

static const uint8_t *val(const analyser *a, const tok *k) { return a->vals + k->vstart; }

/* Does "[" at index b open a subscript (rather than a list literal)? */
static bool is_subscript(const analyser *a, size_t b)
{
    if (b == 0)
        return false;
    const tok *p = &a->toks[b - 1];
    if (p->type == TOK_STRING)
        return true;
    if (p->type == TOK_OP)
        return p->op == ')' || p->op == ']';
    if (p->type == TOK_NAME)
        return table_index(keywords, COUNT(keywords), tok_text(a, p), tok_len(p)) < 0;
    return false;
}

static size_t matching_close(const analyser *a, size_t open)
{
    return a->match && open < a->ntoks ? a->match[open] : a->ntoks;
}

/* A constant string operand at i - 'x', 'x' * N or N * 'x' - appended to
 * out; returns the index after it (i when there is none). */
static size_t fold_operand(const analyser *a, size_t i, ms_strbuf *out)
{
    const tok *t = a->toks;
    size_t n = a->ntoks;
    size_t s = i, next;
    uint64_t reps = 1;
    if (t[i].type == TOK_STRING) {
        next = i + 1;
        if (i + 2 < n && is_op(&t[i + 1], '*') && t[i + 2].type == TOK_NUMBER) {
            reps = t[i + 2].num;
            next = i + 3;
        }
    } else if (t[i].type == TOK_NUMBER && i + 2 < n && is_op(&t[i + 1], '*') &&
               t[i + 2].type == TOK_STRING) {
        reps = t[i].num;
        s = i + 2;
        next = i + 3;
    } else {
        return i;
    }
    if (reps > REPEAT_MAX)
        reps = REPEAT_MAX;
    for (uint64_t r = 0; r < reps && out->len < FOLD_MAX; r++)
        if (t[s].vlen)
            ms_strbuf_append(out, (const char *)val(a, &t[s]), t[s].vlen);
    return next;
}

static bool contains_listed_dunder(const uint8_t *p, size_t n, size_t *which)
{
    for (size_t d = 0; d < COUNT(dunders); d++)
        if (find_dunder(p, n, 0, dunders[d]) != SIZE_MAX) {
            *which = d;
            return true;
        }
    return false;
}

/* A listed dunder inside a longer string counts when the word holding it is
 * code-like: the whole string is one word, or the word has a format field
 * ("{0.__class__}") - not when prose mentions "__init__". */
static bool code_like_dunder(const uint8_t *v, size_t n, size_t *which)
{
    if (!has_dunder_pair(v, n))
        return false;
    size_t i = 0;
    bool one_word = true;
    for (size_t k = 0; k < n; k++)
        if (is_space(v[k]))
            one_word = false;
    while (i < n) {
        while (i < n && is_space(v[i]))
            i++;
        size_t w = i;
        while (i < n && !is_space(v[i]))
            i++;
        if (i > w && contains_listed_dunder(v + w, i - w, which) &&
            (one_word || memchr(v + w, '{', i - w)))
            return true;
    }
    return false;
}

/* Checks a constant string: tokens [rs, re) folded to v. */
static void check_string_value(analyser *a, size_t rs, size_t re, const uint8_t *v, size_t n)
{
    const tok *t = a->toks;
    size_t off = t[rs].start;
    const tok *next = re < a->ntoks ? &t[re] : NULL;
    bool key = rs > 0 && is_op(&t[rs - 1], '[') && next && is_op(next, ']') &&
               is_subscript(a, rs - 1);
    size_t which;
    if (key && ((n >= 1 && v[0] == '_') || has_dunder_pair(v, n) ||
                table_index(dangerous_attrs, COUNT(dangerous_attrs), v, n) >= 0 ||
                table_index(dangerous_keys, COUNT(dangerous_keys), v, n) >= 0)) {
        add(a, "subscript with a dangerous name", v, n, off);
        return;
    }
    if (identifier_like(v, n) && n >= 2 &&
        ((v[0] == '_' && v[1] == '_') || (v[n - 2] == '_' && v[n - 1] == '_')))
        add(a, "dunder name in a string", v, n, off);
    else if (identifier_like(v, n) &&
             table_index(dangerous_strings, COUNT(dangerous_strings), v, n) >= 0)
        add(a, "dangerous name in a string", v, n, off);
    else if (code_like_dunder(v, n, &which))
        add(a, "dunder name in a string", (const uint8_t *)dunders[which],
            strlen(dunders[which]), off);
    bool charcode = find_bytes(v, n, 0, "%c") != SIZE_MAX || find_bytes(v, n, 0, ":c}") != SIZE_MAX;
    if (charcode && next) {
        bool fmt = is_op(next, '%') ||
                   (re + 1 < a->ntoks && (is_op(next, '|') || is_op(next, '.')) &&
                    name_is(a, &t[re + 1], "format"));
        if (fmt)
            add(a, "character-code format string", v, n, off);
    }
}

static void check_filter(analyser *a, size_t i)
{
    const tok *t = a->toks;
    size_t n = a->ntoks;
    const tok *k = &t[i];
    if (name_is(a, k, "attr")) {
        if (i + 1 >= n || !is_op(&t[i + 1], '('))
            return;
        size_t close = matching_close(a, i + 1);
        if (i + 3 < n && t[i + 2].type == TOK_STRING &&
            (is_op(&t[i + 3], ')') || is_op(&t[i + 3], ','))) {
            const uint8_t *v = val(a, &t[i + 2]);
            size_t vl = t[i + 2].vlen;
            if ((vl && v[0] == '_') || has_dunder_pair(v, vl) ||
                table_index(dangerous_attrs, COUNT(dangerous_attrs), v, vl) >= 0)
                add(a, "attr filter with a dangerous name", v, vl, k->start);
            return;
        }
        size_t from = t[i + 1].end, to = close < n ? t[close].start : a->tag_end;
        add(a, "attr filter with a computed name", a->text + from, to > from ? to - from : 0,
            k->start);
        return;
    }
    if (name_is(a, k, "map")) {
        if (i + 2 < n && is_op(&t[i + 1], '(') && t[i + 2].type == TOK_STRING &&
            bytes_eq(val(a, &t[i + 2]), t[i + 2].vlen, "attr"))
            add(a, "map filter applying attr", (const uint8_t *)"attr", 4, k->start);
        return;
    }
    if (name_is(a, k, "string") && i >= 3 && is_op(&t[i - 3], '|') &&
        t[i - 2].type == TOK_NAME) {
        static const char *const generators[] = {"select", "reject", "unique", "map",
                                                 "batch",  "slice",  "groupby"};
        if (table_index(generators, COUNT(generators), tok_text(a, &t[i - 2]),
                        tok_len(&t[i - 2])) >= 0)
            add(a, "object repr used as a character source", tok_text(a, &t[i - 2]),
                tok_len(&t[i - 2]), t[i - 2].start);
    }
}

static void check_name(analyser *a, size_t i, size_t filter_at)
{
    const tok *t = a->toks;
    size_t n = a->ntoks;
    const tok *k = &t[i];
    const uint8_t *s = tok_text(a, k);
    size_t l = tok_len(k);
    bool attr = i > 0 && is_op(&t[i - 1], '.');
    bool filter = (i > 0 && is_op(&t[i - 1], '|')) || i == filter_at;
    bool kwarg = i + 1 < n && is_op(&t[i + 1], '=') && !(i + 2 < n && is_op(&t[i + 2], '='));
    bool test = i > 0 && (name_is(a, &t[i - 1], "is") ||
                          (i > 1 && name_is(a, &t[i - 1], "not") && name_is(a, &t[i - 2], "is")));
    if (l >= 2 && s[0] == '_' && s[1] == '_') {
        const char *kind = is_dunder(s, l) ? (attr ? "dunder attribute" : "dunder name")
                                           : (attr ? "double-underscore attribute"
                                                   : "double-underscore name");
        add(a, kind, s, l, k->start);
        return;
    }
    if (attr) {
        if (has_dunder_pair(s, l))
            add(a, "name-mangled private attribute", s, l, k->start);
        else if (s[0] == '_')
            add(a, "private attribute", s, l, k->start);
        else if (table_index(dangerous_attrs, COUNT(dangerous_attrs), s, l) >= 0)
            add(a, "dangerous attribute", s, l, k->start);
        return;
    }
    if (filter) {
        check_filter(a, i);
        return;
    }
    if (test || kwarg)
        return;
    if (table_index(dangerous_names, COUNT(dangerous_names), s, l) >= 0)
        add(a, "dangerous name", s, l, k->start);
    int g = table_index(gadgets, COUNT(gadgets), s, l);
    if (g < 0 || (a->bound & (1u << g)))
        return;
    const tok *next = i + 1 < n ? &t[i + 1] : NULL;
    bool used_as_object =
        next && (is_op(next, '.') || is_op(next, '[') || is_op(next, '|') ||
                 (is_op(next, ')') && i + 2 < n &&
                  (is_op(&t[i + 2], '.') || is_op(&t[i + 2], '[') || is_op(&t[i + 2], '|'))));
    bool called = next && is_op(next, '(');
    if (g < GADGETS_CALLABLE ? used_as_object : !called)
        add(a, "gadget global", s, l, k->start);
}

static void bind(analyser *a, const tok *k)
{
    int g = table_index(gadgets, COUNT(gadgets), tok_text(a, k), tok_len(k));
    if (g >= 0)
        a->bound |= 1u << g;
}

/* names a statement binds: set x / set a, b / for x, y in / macro m(p, q=1) / with x = */
static void record_bindings(analyser *a, size_t f)
{
    const tok *t = a->toks + f; /* the statement keyword, after "-" or "+" */
    size_t n = a->ntoks - f;
    if (name_is(a, &t[0], "set") || name_is(a, &t[0], "for")) {
        for (size_t i = 1; i < n; i++) {
            if (is_op(&t[i], ','))
                continue;
            if (t[i].type != TOK_NAME || name_is(a, &t[i], "in"))
                break;
            bind(a, &t[i]);
        }
    } else if (name_is(a, &t[0], "macro") || name_is(a, &t[0], "call")) {
        for (size_t i = 1; i < n; i++)
            if (t[i].type == TOK_NAME &&
                (i == 1 || (i + 1 < n && (is_op(&t[i + 1], ',') || is_op(&t[i + 1], ')') ||
                                          is_op(&t[i + 1], '=')))))
                bind(a, &t[i]);
    } else if (name_is(a, &t[0], "with")) {
        for (size_t i = 1; i + 1 < n; i++)
            if (t[i].type == TOK_NAME && is_op(&t[i + 1], '='))
                bind(a, &t[i]);
    }
}

typedef struct bracket {
    size_t open;
    bool has_string, has_concat, has_filter;
} bracket;

/* Checks a subscript [b, e]: a key that folds to one constant is checked as
 * a string (check_string_value); any other key built from strings with
 * operators or filters is a computed key. */
static void check_subscript(analyser *a, const bracket *f, size_t e)
{
    const tok *t = a->toks;
    size_t b = f->open;
    if (e == b + 1 || !is_subscript(a, b))
        return;
    ms_strbuf sb;
    ms_strbuf_init(&sb, FOLD_MAX + 64);
    size_t j = fold_operand(a, b + 1, &sb);
    while (j > b + 1 && j + 1 < e && (is_op(&t[j], '~') || is_op(&t[j], '+'))) {
        size_t k = fold_operand(a, j + 1, &sb);
        if (k == j + 1)
            break;
        j = k;
    }
    ms_strbuf_free(&sb);
    if (j == e)
        return;
    if (f->has_filter || (f->has_string && f->has_concat))
        add(a, "subscript with a computed key", a->text + t[b + 1].start,
            t[e - 1].end - t[b + 1].start, t[b].start);
}

/* One pass over the tag: matches brackets (a->match) and checks every
 * subscript on closing it, so nested brackets cost no rescans. */
static bool match_brackets(analyser *a)
{
    const tok *t = a->toks;
    size_t n = a->ntoks;
    size_t *m = grow_array(a, a->match, &a->match_cap, n, sizeof(*m));
    bracket *stack = malloc((n ? n : 1) * sizeof(*stack));
    if (!m || !stack) {
        free(stack);
        a->res->nomem = true;
        return false;
    }
    a->match = m;
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        const tok *k = &t[i];
        m[i] = n;
        if (k->type == TOK_OP && (k->op == '(' || k->op == '[' || k->op == '{')) {
            bracket f = {i, false, false, false};
            stack[depth++] = f;
            continue;
        }
        if (depth == 0)
            continue;
        bracket *top = &stack[depth - 1];
        if (k->type == TOK_OP && (k->op == ')' || k->op == ']' || k->op == '}')) {
            m[top->open] = i;
            if (is_op(&t[top->open], '['))
                check_subscript(a, top, i);
            if (depth >= 2 && top->has_string)
                stack[depth - 2].has_string = true;
            depth--;
        } else if (k->type == TOK_STRING) {
            top->has_string = true;
        } else if (k->type == TOK_OP &&
                   (k->op == '~' || k->op == '+' || k->op == '*' || k->op == '%')) {
            top->has_concat = true;
        } else if (is_op(k, '|')) {
            top->has_filter = true;
        }
    }
    free(stack);
    return true;
}

static void analyse_tag(analyser *a, bool block)
{
    const tok *t = a->toks;
    size_t n = a->ntoks;
    if (n == 0 || !match_brackets(a))
        return;
    /* the statement keyword follows "{%", "{%-" or "{%+" */
    size_t f = n > 1 && (is_op(&t[0], '-') || is_op(&t[0], '+')) ? 1 : 0;
    if (block && t[f].type == TOK_NAME) {
        static const char *const loaders[] = {"import", "from", "include", "extends"};
        if (table_index(loaders, COUNT(loaders), tok_text(a, &t[f]), tok_len(&t[f])) >= 0)
            add(a, "template loading statement", tok_text(a, &t[f]), tok_len(&t[f]),
                t[f].start);
        record_bindings(a, f);
    }
    bool filter_tag = block && name_is(a, &t[f], "filter");
    for (size_t i = 0; i < n; i++)
        if (t[i].type == TOK_NAME)
            check_name(a, i, filter_tag ? f + 1 : SIZE_MAX);
    ms_strbuf sb;
    for (size_t i = 0; i < n;) {
        ms_strbuf_init(&sb, FOLD_MAX + 64);
        size_t j = fold_operand(a, i, &sb);
        if (j == i) {
            ms_strbuf_free(&sb);
            i++;
            continue;
        }
        while (j + 1 < n && (is_op(&t[j], '~') || is_op(&t[j], '+'))) {
            size_t k = fold_operand(a, j + 1, &sb);
            if (k == j + 1)
                break;
            j = k;
        }
        if (!sb.nomem)
            check_string_value(a, i, j, (const uint8_t *)(sb.data ? sb.data : ""), sb.len);
        ms_strbuf_free(&sb);
        i = j;
    }
    for (size_t i = 0; i < n; i++) {
        const tok *k = &t[i];
        if (k->type != TOK_STRING)
            continue;
        if (k->escaped_ident)
            add(a, "escaped identifier character in a string", tok_text(a, k), tok_len(k),
                k->start);
        /* remember the value for the whole-template join */
        uint8_t *j = grow_array(a, a->joined, &a->joined_cap, a->joined_len + k->vlen + 1, 1);
        piece *p = j ? grow_array(a, a->pieces, &a->pieces_cap, a->npieces + 1, sizeof(*p))
                     : NULL;
        if (j)
            a->joined = j;
        if (!j || !p)
            return;
        a->pieces = p;
        a->pieces[a->npieces].joined_at = a->joined_len;
        a->pieces[a->npieces].src_at = k->start;
        a->npieces++;
        if (k->vlen)
            memcpy(a->joined + a->joined_len, val(a, k), k->vlen);
        a->joined_len += k->vlen;
    }
}

/* String pieces spread over the template ('_' in one tag, '_class' in the
 * next ...) that join into a dunder name not already reported. */
static void check_joined(analyser *a)
{
    template_result *r = a->res;
    for (size_t d = 0; d < COUNT(dunders); d++) {
        size_t m = strlen(dunders[d]), at = 0, piece_i = 0;
        /* only a name that spans two or more pieces: a name inside one
         * string was judged with that string */
        for (;;) {
            at = find_dunder(a->joined, a->joined_len, at, dunders[d]);
            if (at == SIZE_MAX)
                break;
            while (piece_i + 1 < a->npieces && a->pieces[piece_i + 1].joined_at <= at)
                piece_i++;
            size_t piece_end = piece_i + 1 < a->npieces ? a->pieces[piece_i + 1].joined_at
                                                        : a->joined_len;
            if (at + m > piece_end)
                break;
            at++;
        }
        if (at == SIZE_MAX)
            continue;
        bool known = false;
        for (size_t i = 0; i < r->count && !known; i++)
            known = strcmp(r->items[i].name, dunders[d]) == 0;
        if (known)
            continue;
        size_t src = a->npieces ? a->pieces[piece_i].src_at : 0;
        a->tag_start = src;
        a->tag_end = src + SNIPPET_MAX < a->len ? src + SNIPPET_MAX : a->len;
        add(a, "string pieces joined into a dunder name", (const uint8_t *)dunders[d],
            strlen(dunders[d]), src);
    }
}

/* Template text becomes a string too ({% set k %}__class__{% endset %},
 * macro output): a text segment that is a dunder name is as suspect as a
 * string literal that is one. */
static void check_text(analyser *a, size_t from, size_t to)
{
    while (from < to && is_space(a->text[from]))
        from++;
    while (to > from && is_space(a->text[to - 1]))
        to--;
    if (to == from)
        return;
    const uint8_t *v = a->text + from;
    size_t n = to - from, which;
    a->tag_start = from;
    a->tag_end = to;
    if (identifier_like(v, n) && n >= 2 &&
        ((v[0] == '_' && v[1] == '_') || (v[n - 2] == '_' && v[n - 1] == '_')))
        add(a, "dunder name in template text", v, n, from);
    else if (code_like_dunder(v, n, &which))
        add(a, "dunder name in template text", (const uint8_t *)dunders[which],
            strlen(dunders[which]), from);
}

void template_analyse(const uint8_t *text, size_t len, template_result *out)
{
    memset(out, 0, sizeof(*out));
    analyser a;
    memset(&a, 0, sizeof(a));
    a.text = text;
    a.len = len;
    a.res = out;
    a.line_no = 1;
    size_t p = 0, seg = 0; /* seg: start of the current text segment */
    while (p + 1 < len && !out->nomem) {
        const uint8_t *o = memchr(text + p, '{', len - p);
        if (!o)
            break;
        size_t i = (size_t)(o - text);
        if (i + 1 >= len)
            break;
        uint8_t k = text[i + 1];
        if (k == '#' || k == '%' || k == '{')
            check_text(&a, seg, i);
        if (k == '#') {
            size_t e = find_bytes(text, len, i + 2, "#}");
            if (e == SIZE_MAX) {
                out->lex_error = true; /* unterminated comment */
                break;
            }
            p = seg = e + 2;
            continue;
        }
        size_t after;
        if (k == '%' && (after = raw_tag(text, len, i, "raw")) != 0) {
            size_t q = after, end = 0;
            while (!end) {
                q = find_bytes(text, len, q, "{%");
                if (q == SIZE_MAX)
                    break;
                end = raw_tag(text, len, q, "endraw");
                q += 2;
            }
            if (!end) {
                out->lex_error = true; /* unterminated raw block */
                break;
            }
            check_text(&a, after, q - 2);
            p = seg = end;
            continue;
        }
        if (k == '{' || k == '%') {
            size_t end = lex_tag(&a, i + 2, k == '{' ? '}' : '%');
            out->tags++;
            a.tag_start = i;
            a.tag_end = end;
            analyse_tag(&a, k == '%');
            p = seg = end;
            continue;
        }
        p = i + 1;
    }
    if (!out->nomem && !out->lex_error)
        check_text(&a, seg, len);
    if (!out->nomem)
        check_joined(&a);
    free(a.toks);
    free(a.match);
    free(a.vals);
    free(a.joined);
    free(a.pieces);
}

void template_result_free(template_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].name);
        free(r->items[i].snippet);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

/* case-insensitive search for a lower-case ASCII needle */
static bool contains_ci(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        size_t k = 0;
        while (k < m && (hay[i + k] | (hay[i + k] >= 'A' && hay[i + k] <= 'Z' ? 0x20 : 0)) ==
                            (uint8_t)needle[k])
            k++;
        if (k == m)
            return true;
    }
    return false;
}

bool template_looks_like_chat_template(const uint8_t *text, size_t len)
{
    if ((find_bytes(text, len, 0, "{%") == SIZE_MAX && find_bytes(text, len, 0, "{{") == SIZE_MAX) ||
        find_bytes(text, len, 0, "message") == SIZE_MAX)
        return false;
    /* a web page template (Flask's get_flashed_messages) is no chat template */
    static const char *const html[] = {"<!doctype", "<html", "<body", "<div"};
    for (size_t i = 0; i < COUNT(html); i++)
        if (contains_ci(text, len, html[i]))
            return false;
    return true;
}

/* constructs that reach dunder names: suspect in a template of any kind */
static bool reaches_dunders(const template_construct *c)
{
    return strstr(c->name, "__") != NULL || strstr(c->kind, "escaped") != NULL ||
           strstr(c->kind, "character-code") != NULL || strstr(c->kind, "object repr") != NULL;
}

size_t template_check(ms_scan_ctx *ctx, const char *key, const uint8_t *text, size_t len,
                      template_origin origin)
{
    const char *where = key ? key : "template";
    if (len > TEMPLATE_MAX_BYTES && origin == TEMPLATE_OTHER_TEXT)
        return 0; /* a large text with a "{{" somewhere is no template to vouch for */
    if (len > TEMPLATE_MAX_BYTES) {
        ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                      key ? json_pack("{s:s, s:s, s:I, s:I}", "limit", "chat template bytes",
                                      "key", key, "size", (json_int_t)len, "max",
                                      (json_int_t)TEMPLATE_MAX_BYTES)
                          : json_pack("{s:s, s:I, s:I}", "limit", "chat template bytes", "size",
                                      (json_int_t)len, "max", (json_int_t)TEMPLATE_MAX_BYTES),
                      "The chat template (%s) is %zu bytes, above the %u-byte limit; it was not "
                      "analysed for template injection.",
                      where, len, (unsigned)TEMPLATE_MAX_BYTES);
        return 0;
    }
    template_result r;
    template_analyse(text, len, &r);
    if (r.nomem)
        ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                      json_pack("{s:s, s:s}", "limit", "memory", "key", where),
                      "Memory ran out while analysing the chat template (%s); the analysis is "
                      "incomplete.",
                      where);
    if (origin != TEMPLATE_DECLARED && r.lex_error) {
        template_result_free(&r); /* no Jinja2 environment would render it */
        return 0;
    }
    if (origin == TEMPLATE_OTHER_TEXT) {
        size_t kept = 0;
        for (size_t i = 0; i < r.count; i++) {
            if (reaches_dunders(&r.items[i])) {
                r.items[kept++] = r.items[i];
            } else {
                free(r.items[i].name);
                free(r.items[i].snippet);
            }
        }
        r.total = r.count = kept;
    }
    size_t total = r.total;
    if (total == 0) {
        template_result_free(&r);
        return 0;
    }
    ms_strbuf seen;
    ms_strbuf_init(&seen, 4096);
    json_t *list = json_array();
    for (size_t i = 0; i < r.count; i++) {
        const template_construct *c = &r.items[i];
        if (i < 4)
            ms_strbuf_printf(&seen, "%s%s '%s' in `%s` (line %u)", i ? "; " : "", c->kind,
                             c->name, c->snippet, c->line);
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "construct", c->kind, "name", c->name,
                              "snippet", c->snippet, "line", (json_int_t)c->line, "offset",
                              (json_int_t)c->offset);
        if (list && o)
            json_array_append_new(list, o);
        else
            json_decref(o);
    }
    if (total > 4)
        ms_strbuf_printf(&seen, "; %zu construct(s) in all", total);
    json_t *d = json_pack("{s:o*, s:I, s:I, s:b}", "constructs", list, "count",
                          (json_int_t)total, "template_bytes", (json_int_t)len, "lexes_as_jinja",
                          !r.lex_error);
    if (d && key)
        json_object_set_new(d, "key", json_string(key));
    ms_report_add(ctx->report, "TEMPLATE-INJECTION", ctx->location, d,
                  "The %s%s%s%s reaches Python internals when it is rendered: %s. "
                  "A Jinja2 environment without a sandbox (llama-cpp-python before 0.2.72, "
                  "CVE-2024-34359, or any server formatting prompts with jinja2.Environment) "
                  "runs such a chain as code on the machine that loads the model.",
                  origin == TEMPLATE_OTHER_TEXT ? "Jinja2 template in this text" : "chat template",
                  key ? " (" : "", key ? key : "", key ? ")" : "",
                  seen.data ? seen.data : "");
    ms_strbuf_free(&seen);
    template_result_free(&r);
    return total;
}
