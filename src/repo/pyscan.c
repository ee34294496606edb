/*
 * pyscan.c - a static analyser for the Python code shipped with a model
 * (modeling_*.py, configuration_*.py, tokenization_*.py ... loaded by
 * transformers when the user passes trust_remote_code=True) and for the code
 * cells of Jupyter notebooks.
 *
 * Specifications: Python 3 lexical analysis
 * (https://docs.python.org/3/reference/lexical_analysis.html), f-strings as
 * PEP 701 reads them (https://peps.python.org/pep-0701/), identifiers NFKC-
 * normalised (PEP 3131), the notebook format
 * (https://nbformat.readthedocs.io/en/latest/format_description.html).
 *
 *   notebook := {"nbformat": 4, "cells": [cell*]}    (3: "worksheets": [{"cells": [...]}])
 *   cell     := {"cell_type": "code", "source": "text" | ["line\n", ...]}  (3: "input")
 *               lines may be IPython: !cmd, x = !cmd, %magic args, %%cellmagic
 *
 *   source  := logical-line*            (NEWLINE ends one outside brackets)
 *   logical := token* NEWLINE           ("\" newline and open brackets join lines)
 *   token   := NAME | NUMBER | STRING | OP         (comments, indentation dropped)
 *   STRING  := prefix? quote body quote             prefix: r u b f t br rb fr rf tr rt
 *              quote: ' " ''' """   f-string body: text { expr [=] [!conv] [:spec] } text
 *
 *   statements walked: import a.b as c | from m import x as y, * | x = y = expr |
 *     x += expr | x: T = expr | def/class/if/for/while/with/try/match headers |
 *     del/return/raise/assert | expression statements | decorators
 *   values tracked:   modules and their attributes (through aliases, getattr,
 *     __import__, importlib, vars()/globals()/__dict__/__builtins__),
 *     constant strings (literals, +, join, f-strings, base64/hex/zlib/rot13
 *     decoding, chr, bytes, [::-1]), paths (absolute, ~, .., $HOME, Path.home)
 *
 * Why a tokenizer of our own: the scanner never runs Python (no `ast` module
 * at scan time), and reporting dangerous call sites needs tokens, bracket
 * structure and a light expression walker, not a full grammar: tree-sitter's
 * Python grammar would add a dependency and a C parser generated from a
 * grammar we would still have to walk the same way. Tokenizing is where
 * scanners go wrong (string prefixes, triple quotes, escapes, nested
 * f-strings, line continuations), so that part follows CPython's tokenizer
 * closely and is tested against Python's own `tokenize` output
 * (tests/fixtures/pycode/tokens); the 9,200 .py files of Debian 12's
 * Python 3.11 and its dist-packages tokenize without one error (measured
 * while writing it; not part of the test suite). Identifiers are NFKC-folded for the
 * compatibility characters that fold to ASCII (fullwidth, mathematical
 * alphanumerics, ligatures ...), as Python does: `ｅｘｅｃ` is `exec`.
 *
 * Everything is bounded: bracket nesting (200, as CPython), expression
 * recursion, tokens per logical line, value memory, decoded bytes, findings
 * per file. A file Python would refuse (unterminated string, stray
 * character) is analysed as far as possible and reported
 * (CUSTOM-CODE-MALFORMED); a limit is reported (SCAN-LIMIT).
 */
#include "pyscan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../core/limits.h"
#include "../util/checked.h"
#include "../util/strbuf.h"

/* ======================================================================
 * Tokenizer
 * ====================================================================== */

static bool is_id_start(uint8_t c)
{
    return c == '_' || ((c | 32) >= 'a' && (c | 32) <= 'z') || c >= 0x80;
}

static bool is_id_char(uint8_t c)
{
    return is_id_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

void py_lexer_init(py_lexer *lx, const uint8_t *src, size_t start, size_t end, uint32_t line)
{
    memset(lx, 0, sizeof(*lx));
    lx->src = src;
    lx->pos = start;
    lx->end = end;
    lx->line = line ? line : 1;
    lx->line_start = start;
    if (start == 0 && end >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0) {
        lx->pos = 3; /* UTF-8 byte order mark */
        lx->line_start = 3;
    }
}

/* Consumes a newline (\n, \r\n or \r) at lx->pos and counts the line. */
static void lex_newline(py_lexer *lx)
{
    if (lx->src[lx->pos] == '\r' && lx->pos + 1 < lx->end && lx->src[lx->pos + 1] == '\n')
        lx->pos++;
    lx->pos++;
    lx->line++;
    lx->line_start = lx->pos;
}

static bool at_newline(const py_lexer *lx)
{
    return lx->pos < lx->end && (lx->src[lx->pos] == '\n' || lx->src[lx->pos] == '\r');
}

/* Flags for a string prefix of length n (1 or 2 letters), or -1 when the
 * letters are not a valid prefix. */
static int string_prefix_flags(const uint8_t *p, size_t n)
{
    int flags = 0;
    bool u = false;
    for (size_t i = 0; i < n; i++) {
        int f;
        switch (p[i] | 32) {
        case 'r': f = PY_STR_RAW; break;
        case 'b': f = PY_STR_BYTES; break;
        case 'f': f = PY_STR_FORMAT; break;
        case 't': f = PY_STR_TEMPLATE; break;
        case 'u': f = 0; u = true; break;
        default: return -1;
        }
        if (flags & f)
            return -1;
        flags |= f;
    }
    if (u && n != 1)
        return -1;
    /* b combines with r only; f and t with r only */
    int kinds = !!(flags & PY_STR_BYTES) + !!(flags & PY_STR_FORMAT) + !!(flags & PY_STR_TEMPLATE);
    if (kinds > 1)
        return -1;
    return flags;
}

/* The visitor the analyser passes to walk the fields of an f-string. */
typedef struct fstr_visitor {
    void (*literal)(void *ud, size_t start, size_t end);
    /* a replacement field: the expression is [start, end); `plain` when it
     * has no conversion, format spec or '=' and is not inside a spec */
    void (*field)(void *ud, size_t start, size_t end, bool plain);
    void *ud;
} fstr_visitor;

enum { FSTRING_MAX_NESTING = 32 };

static bool scan_string_body(py_lexer *lx, uint8_t q, bool triple, int flags,
                             const fstr_visitor *v, const char **err);

/* At a quote (lx->pos), possibly after a prefix already consumed: scans the
 * whole literal. Returns false (err set) when it is unterminated. */
static bool scan_string(py_lexer *lx, int flags, const fstr_visitor *v, const char **err,
                        bool *triple_out)
{
    uint8_t q = lx->src[lx->pos];
    bool triple = lx->pos + 2 < lx->end && lx->src[lx->pos + 1] == q && lx->src[lx->pos + 2] == q;
    lx->pos += triple ? 3 : 1;
    if (triple_out)
        *triple_out = triple;
    return scan_string_body(lx, q, triple, flags, v, err);
}

/* Is the closing quote at lx->pos? Consumes it when so. */
static bool at_close_quote(py_lexer *lx, uint8_t q, bool triple)
{
    if (lx->src[lx->pos] != q)
        return false;
    if (!triple) {
        lx->pos++;
        return true;
    }
    if (lx->pos + 2 < lx->end && lx->src[lx->pos + 1] == q && lx->src[lx->pos + 2] == q) {
        lx->pos += 3;
        return true;
    }
    return false;
}

static bool scan_fstring_field(py_lexer *lx, uint8_t q, bool triple, int flags, bool in_spec,
                               const fstr_visitor *v, const char **err);

/* Literal text of an f-string (or of a format spec when `spec`): up to the
 * closing quote (consumed) or, in a spec, the '}' closing the field (not
 * consumed). */
static bool scan_fstring_text(py_lexer *lx, uint8_t q, bool triple, int flags, bool spec,
                              const fstr_visitor *v, const char **err)
{
    size_t lit = lx->pos;
    while (lx->pos < lx->end) {
        uint8_t c = lx->src[lx->pos];
        if (c == '\\') {
            if (!(flags & PY_STR_RAW) && lx->pos + 2 < lx->end && lx->src[lx->pos + 1] == 'N' &&
                lx->src[lx->pos + 2] == '{') {
                /* \N{NAME}: the braces belong to the escape */
                const uint8_t *close =
                    memchr(lx->src + lx->pos + 3, '}', lx->end - (lx->pos + 3));
                if (close && !memchr(lx->src + lx->pos, '\n', (size_t)(close - (lx->src + lx->pos)))) {
                    lx->pos = (size_t)(close - lx->src) + 1;
                    continue;
                }
            }
            lx->pos++;
            if (lx->pos >= lx->end)
                break;
            if (at_newline(lx))
                lex_newline(lx);
            else if (lx->src[lx->pos] != '{' && lx->src[lx->pos] != '}')
                lx->pos++;
            continue;
        }
        if (c == '{') {
            if (!spec && lx->pos + 1 < lx->end && lx->src[lx->pos + 1] == '{') {
                lx->pos += 2;
                continue;
            }
            if (!spec && v && v->literal && lx->pos > lit)
                v->literal(v->ud, lit, lx->pos);
            lx->pos++;
            if (!scan_fstring_field(lx, q, triple, flags, spec, v, err))
                return false;
            lit = lx->pos;
            continue;
        }
        if (c == '}') {
            if (spec)
                break; /* closes the field this spec belongs to */
            lx->pos += (lx->pos + 1 < lx->end && lx->src[lx->pos + 1] == '}') ? 2 : 1;
            continue;
        }
        if (c == q) {
            size_t at = lx->pos;
            if (at_close_quote(lx, q, triple)) {
                if (spec) {
                    lx->pos = at; /* a quote inside a spec ends the string: malformed */
                    *err = "unterminated f-string replacement field";
                    return false;
                }
                if (v && v->literal && at > lit)
                    v->literal(v->ud, lit, at);
                return true;
            }
            lx->pos++;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (!triple) {
                *err = "unterminated string literal";
                return false;
            }
            lex_newline(lx);
            continue;
        }
        lx->pos++;
    }
    if (spec && lx->pos < lx->end)
        return true;
    *err = triple ? "unterminated triple-quoted string literal" : "unterminated string literal";
    return false;
}

/* Reports the expression [start, end) of a field; `{x=}` (a trailing '='
 * that is not part of ==, !=, <=, >=) is the debug form, not part of it. */
static void report_field(const py_lexer *lx, const fstr_visitor *v, size_t start, size_t end,
                         bool plain)
{
    if (!v || !v->field || end == (size_t)-1 || end < start)
        return;
    size_t e = end;
    while (e > start && (lx->src[e - 1] == ' ' || lx->src[e - 1] == '\t'))
        e--;
    if (e > start && lx->src[e - 1] == '=' && !(e - 1 > start && strchr("=!<>", lx->src[e - 2]))) {
        e--;
        plain = false;
    }
    if (e > start)
        v->field(v->ud, start, e, plain);
}

/* After the '{' of a replacement field: the expression (with nested
 * brackets and strings), optional '=', '!conv' and ':spec', up to and
 * including the closing '}'. Strings nest with any quotes (PEP 701); on code
 * valid for older Pythons both readings agree. */
static bool scan_fstring_field(py_lexer *lx, uint8_t q, bool triple, int flags, bool in_spec,
                               const fstr_visitor *v, const char **err)
{
    if (++lx->fstring_depth > FSTRING_MAX_NESTING) {
        lx->fstring_depth--;
        *err = "f-strings nested too deeply";
        return false;
    }
    size_t expr_start = lx->pos, expr_end = (size_t)-1;
    unsigned depth = 0;
    bool plain = !in_spec, ok = false;
    *err = "unterminated f-string replacement field";
    while (lx->pos < lx->end) {
        uint8_t c = lx->src[lx->pos];
        if (c == '(' || c == '[' || c == '{') {
            if (++depth > PY_LEX_MAX_BRACKETS) {
                *err = "too many nested brackets in an f-string";
                break;
            }
            lx->pos++;
        } else if (c == ')' || c == ']') {
            if (depth)
                depth--;
            lx->pos++;
        } else if (c == '}') {
            lx->pos++;
            if (depth) {
                depth--;
                continue;
            }
            if (expr_end == (size_t)-1)
                expr_end = lx->pos - 1;
            report_field(lx, v, expr_start, expr_end, plain);
            ok = true;
            break;
        } else if (c == '\'' || c == '"') {
            /* a nested literal: its prefix letters were just passed */
            size_t p = lx->pos, k = 0;
            int nflags = 0;
            while (k < 2 && p - k > expr_start && is_id_char(lx->src[p - k - 1]))
                k++;
            if (k && !(p - k > expr_start && is_id_char(lx->src[p - k - 1]))) {
                int f = string_prefix_flags(lx->src + p - k, k);
                if (f >= 0)
                    nflags = f;
            }
            const char *e2 = NULL;
            if (!scan_string(lx, nflags, NULL, &e2, NULL)) {
                *err = e2;
                break;
            }
        } else if (c == '#') {
            while (lx->pos < lx->end && !at_newline(lx))
                lx->pos++;
        } else if (c == '\\') {
            lx->pos++;
            if (lx->pos < lx->end) {
                if (at_newline(lx))
                    lex_newline(lx);
                else
                    lx->pos++;
            }
        } else if (c == '\n' || c == '\r') {
            lex_newline(lx);
        } else if (depth == 0 && c == '!' &&
                   !(lx->pos + 1 < lx->end && lx->src[lx->pos + 1] == '=')) {
            if (expr_end == (size_t)-1)
                expr_end = lx->pos;
            plain = false;
            lx->pos++;
        } else if (depth == 0 && c == ':') {
            if (expr_end == (size_t)-1)
                expr_end = lx->pos;
            report_field(lx, v, expr_start, expr_end, false);
            lx->pos++;
            if (scan_fstring_text(lx, q, triple, flags, true, v, err)) {
                lx->pos++; /* the '}' closing the field */
                ok = true;
            }
            break;
        } else {
            lx->pos++;
        }
    }
    lx->fstring_depth--;
    return ok;
}

static bool scan_string_body(py_lexer *lx, uint8_t q, bool triple, int flags,
                             const fstr_visitor *v, const char **err)
{
    if (flags & (PY_STR_FORMAT | PY_STR_TEMPLATE))
        return scan_fstring_text(lx, q, triple, flags, false, v, err);
    while (lx->pos < lx->end) {
        uint8_t c = lx->src[lx->pos];
        if (c == '\\') {
            /* also in raw strings: a backslash keeps the next quote */
            lx->pos++;
            if (lx->pos >= lx->end)
                break;
            if (at_newline(lx))
                lex_newline(lx);
            else
                lx->pos++;
            continue;
        }
        if (c == q && at_close_quote(lx, q, triple))
            return true;
        if (c == '\n' || c == '\r') {
            if (!triple) {
                *err = "unterminated string literal";
                return false;
            }
            lex_newline(lx);
            continue;
        }
        lx->pos++;
    }
    *err = triple ? "unterminated triple-quoted string literal" : "unterminated string literal";
    return false;
}

static void lex_number(py_lexer *lx)
{
    const uint8_t *s = lx->src;
    size_t p = lx->pos, e = lx->end;
    if (s[p] == '0' && p + 1 < e && strchr("xXoObB", s[p + 1]) && s[p + 1]) {
        p += 2;
        while (p < e && (isalnum(s[p]) || s[p] == '_'))
            p++;
        lx->pos = p;
        return;
    }
    while (p < e && (is_digit(s[p]) || s[p] == '_'))
        p++;
    if (p < e && s[p] == '.') {
        p++;
        while (p < e && (is_digit(s[p]) || s[p] == '_'))
            p++;
    }
    if (p < e && (s[p] == 'e' || s[p] == 'E')) {
        size_t q = p + 1;
        if (q < e && (s[q] == '+' || s[q] == '-'))
            q++;
        if (q < e && is_digit(s[q])) {
            p = q;
            while (p < e && (is_digit(s[p]) || s[p] == '_'))
                p++;
        }
    }
    if (p < e && (s[p] == 'j' || s[p] == 'J'))
        p++;
    lx->pos = p;
}

static const char *const ops3[] = {"**=", "//=", ">>=", "<<=", "...", NULL};
static const char *const ops2[] = {"**", "//", "<<", ">>", "<=", ">=", "==", "!=", "->", "+=",
                                   "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", ":=", "<>",
                                   NULL};

static void emit(py_lexer *lx, py_token *t, py_tok_type type, size_t start)
{
    t->type = type;
    t->end = lx->pos;
    t->start = start;
    if (type != PY_TOK_NEWLINE && type != PY_TOK_END)
        lx->line_has_tokens = true;
    if (type == PY_TOK_ERROR)
        lx->errors++;
}

void py_lexer_next(py_lexer *lx, py_token *t)
{
    memset(t, 0, sizeof(*t));
    const uint8_t *s = lx->src;
    for (;;) {
        t->line = lx->line;
        t->col = (uint32_t)(lx->pos - lx->line_start);
        size_t start = lx->pos;
        if (lx->pos >= lx->end) {
            t->start = t->end = lx->pos;
            if (lx->line_has_tokens) {
                lx->line_has_tokens = false;
                t->type = PY_TOK_NEWLINE;
                return;
            }
            if (lx->depth) {
                lx->depth = 0;
                t->type = PY_TOK_ERROR;
                t->error = "unclosed bracket at end of file";
                lx->errors++;
                return;
            }
            lx->done = true;
            t->type = PY_TOK_END;
            return;
        }
        uint8_t c = s[lx->pos];
        if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
            lx->pos++;
            continue;
        }
        if (c == '\n' || c == '\r') {
            uint32_t line = lx->line;
            lex_newline(lx);
            if (lx->depth == 0 && lx->line_has_tokens) {
                lx->line_has_tokens = false;
                t->type = PY_TOK_NEWLINE;
                t->line = line;
                t->start = start;
                t->end = lx->pos;
                return;
            }
            continue;
        }
        if (c == '#') {
            while (lx->pos < lx->end && !at_newline(lx))
                lx->pos++;
            continue;
        }
        if (c == '\\') {
            lx->pos++;
            if (lx->pos < lx->end && at_newline(lx)) {
                lex_newline(lx);
                continue;
            }
            t->error = lx->pos >= lx->end ? "unexpected end of file after line continuation"
                                          : "unexpected character after line continuation";
            emit(lx, t, PY_TOK_ERROR, start);
            return;
        }
        if (c == 0) {
            lx->pos++;
            t->error = "source code contains a null byte";
            emit(lx, t, PY_TOK_ERROR, start);
            return;
        }
        if (c == '\'' || c == '"' || is_id_start(c)) {
            int flags = 0;
            if (c != '\'' && c != '"') {
                size_t p = lx->pos;
                while (p < lx->end && is_id_char(s[p]))
                    p++;
                int f = -1;
                if (p - lx->pos <= 2 && p < lx->end && (s[p] == '\'' || s[p] == '"'))
                    f = string_prefix_flags(s + lx->pos, p - lx->pos);
                if (f < 0) {
                    lx->pos = p;
                    emit(lx, t, PY_TOK_NAME, start);
                    return;
                }
                flags = f;
                t->prefix_len = (uint8_t)(p - lx->pos);
                lx->pos = p;
            }
            const char *err = NULL;
            bool triple = false;
            bool ok = scan_string(lx, flags, NULL, &err, &triple);
            t->str_flags = (uint8_t)(flags | (triple ? PY_STR_TRIPLE : 0));
            if (!ok) {
                t->str_flags |= PY_STR_UNTERMINATED;
                t->error = err;
                lx->errors++;
            }
            emit(lx, t, PY_TOK_STRING, start);
            return;
        }
        if (is_digit(c) || (c == '.' && lx->pos + 1 < lx->end && is_digit(s[lx->pos + 1]))) {
            lex_number(lx);
            emit(lx, t, PY_TOK_NUMBER, start);
            return;
        }
        size_t left = lx->end - lx->pos;
        for (int i = 0; ops3[i]; i++)
            if (left >= 3 && memcmp(s + lx->pos, ops3[i], 3) == 0) {
                lx->pos += 3;
                emit(lx, t, PY_TOK_OP, start);
                return;
            }
        for (int i = 0; ops2[i]; i++)
            if (left >= 2 && memcmp(s + lx->pos, ops2[i], 2) == 0) {
                lx->pos += 2;
                emit(lx, t, PY_TOK_OP, start);
                return;
            }
        lx->pos++;
        if (c == '(' || c == '[' || c == '{') {
            if (lx->depth >= PY_LEX_MAX_BRACKETS) {
                lx->depth++;
                t->error = "too many nested brackets";
                emit(lx, t, PY_TOK_ERROR, start);
                return;
            }
            lx->stack[lx->depth++] = (char)c;
            emit(lx, t, PY_TOK_OP, start);
            return;
        }
        if (c == ')' || c == ']' || c == '}') {
            if (lx->depth == 0) {
                t->error = "unmatched closing bracket";
                emit(lx, t, PY_TOK_ERROR, start);
                return;
            }
            lx->depth--;
            if (lx->depth < PY_LEX_MAX_BRACKETS) {
                char open = lx->stack[lx->depth];
                char want = c == ')' ? '(' : c == ']' ? '[' : '{';
                if (open != want) {
                    t->error = "closing bracket does not match the opening one";
                    emit(lx, t, PY_TOK_ERROR, start);
                    return;
                }
            }
            emit(lx, t, PY_TOK_OP, start);
            return;
        }
        if (strchr("+-*/%@&|^~<>,:;.=", c)) {
            emit(lx, t, PY_TOK_OP, start);
            return;
        }
        /* '$', '?', '`', '!' alone and any other byte: not Python 3 */
        t->error = "invalid character";
        emit(lx, t, PY_TOK_ERROR, start);
        return;
    }
}

/* Walks the fields of the f-string token `t` (for the analyser). */
static void fstring_walk(const uint8_t *src, const py_token *t, const fstr_visitor *v)
{
    py_lexer lx;
    py_lexer_init(&lx, src, t->start + t->prefix_len, t->end, t->line);
    lx.line_start = t->start - t->col; /* keep columns meaningful */
    const char *err = NULL;
    (void)scan_string(&lx, t->str_flags & (PY_STR_RAW | PY_STR_FORMAT | PY_STR_TEMPLATE), v, &err,
                      NULL);
}

/* ======================================================================
 * Identifiers: NFKC folding of the compatibility characters that fold to
 * ASCII letters and digits (Python normalises identifiers with NFKC, so
 * `ｅｖａｌ`, `𝐞𝐯𝐚𝐥` and `ℯval` all name `eval`). Other non-ASCII
 * characters are kept as they are: they never fold to an ASCII name.
 * ====================================================================== */

static uint32_t utf8_decode(const uint8_t *p, size_t n, size_t *used)
{
    size_t k = ms_utf8_seq_len(p, n);
    if (k == 0) {
        *used = 1;
        return 0xFFFD;
    }
    *used = k;
    if (k == 1)
        return p[0];
    if (k == 2)
        return ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
    if (k == 3)
        return ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
    return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
           ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
}

typedef struct fold_entry {
    uint32_t cp;
    const char *ascii;
} fold_entry;

/* Letterlike symbols, ligatures, Roman numerals, modifier letters. */
static const fold_entry fold_table[] = {
    {0x00AA, "a"},   {0x00BA, "o"},   {0x017F, "s"},   {0x02B0, "h"},   {0x02B2, "j"},
    {0x02B3, "r"},   {0x02B7, "w"},   {0x02B8, "y"},   {0x02E1, "l"},   {0x02E2, "s"},
    {0x02E3, "x"},   {0x1D2C, "A"},   {0x1D2E, "B"},   {0x1D30, "D"},   {0x1D31, "E"},
    {0x1D33, "G"},   {0x1D34, "H"},   {0x1D35, "I"},   {0x1D36, "J"},   {0x1D37, "K"},
    {0x1D38, "L"},   {0x1D39, "M"},   {0x1D3A, "N"},   {0x1D3C, "O"},   {0x1D3E, "P"},
    {0x1D3F, "R"},   {0x1D40, "T"},   {0x1D41, "U"},   {0x1D42, "W"},   {0x1D43, "a"},
    {0x1D47, "b"},   {0x1D48, "d"},   {0x1D49, "e"},   {0x1D4D, "g"},   {0x1D4F, "k"},
    {0x1D50, "m"},   {0x1D52, "o"},   {0x1D56, "p"},   {0x1D57, "t"},   {0x1D58, "u"},
    {0x1D5B, "v"},   {0x1D62, "i"},   {0x1D63, "r"},   {0x1D64, "u"},   {0x1D65, "v"},
    {0x1D9C, "c"},   {0x1DA0, "f"},   {0x1DBB, "z"},   {0x2071, "i"},   {0x207F, "n"},
    {0x2090, "a"},   {0x2091, "e"},   {0x2092, "o"},   {0x2093, "x"},   {0x2095, "h"},
    {0x2096, "k"},   {0x2097, "l"},   {0x2098, "m"},   {0x2099, "n"},   {0x209A, "p"},
    {0x209B, "s"},   {0x209C, "t"},   {0x2102, "C"},   {0x210A, "g"},   {0x210B, "H"},
    {0x210C, "H"},   {0x210D, "H"},   {0x210E, "h"},   {0x2110, "I"},   {0x2111, "I"},
    {0x2112, "L"},   {0x2113, "l"},   {0x2115, "N"},   {0x2119, "P"},   {0x211A, "Q"},
    {0x211B, "R"},   {0x211C, "R"},   {0x211D, "R"},   {0x2124, "Z"},   {0x2128, "Z"},
    {0x212A, "K"},   {0x212C, "B"},   {0x212D, "C"},   {0x212F, "e"},   {0x2130, "E"},
    {0x2131, "F"},   {0x2133, "M"},   {0x2134, "o"},   {0x2139, "i"},   {0x2145, "D"},
    {0x2146, "d"},   {0x2147, "e"},   {0x2148, "i"},   {0x2149, "j"},   {0x2160, "I"},
    {0x2161, "II"},  {0x2162, "III"}, {0x2163, "IV"},  {0x2164, "V"},   {0x2165, "VI"},
    {0x2166, "VII"}, {0x2167, "VIII"}, {0x2168, "IX"}, {0x2169, "X"},   {0x216A, "XI"},
    {0x216B, "XII"}, {0x216C, "L"},   {0x216D, "C"},   {0x216E, "D"},   {0x216F, "M"},
    {0x2170, "i"},   {0x2171, "ii"},  {0x2172, "iii"}, {0x2173, "iv"},  {0x2174, "v"},
    {0x2175, "vi"},  {0x2176, "vii"}, {0x2177, "viii"}, {0x2178, "ix"}, {0x2179, "x"},
    {0x217A, "xi"},  {0x217B, "xii"}, {0x217C, "l"},   {0x217D, "c"},   {0x217E, "d"},
    {0x217F, "m"},   {0xFB00, "ff"},  {0xFB01, "fi"},  {0xFB02, "fl"},  {0xFB03, "ffi"},
    {0xFB04, "ffl"}, {0xFB05, "st"},  {0xFB06, "st"},
};

/* The ASCII a code point folds to, or NULL. `buf` holds one-letter results. */
static const char *fold_codepoint(uint32_t cp, char buf[2])
{
    buf[1] = '\0';
    if (cp >= 0xFF10 && cp <= 0xFF19) {
        buf[0] = (char)('0' + (cp - 0xFF10));
        return buf;
    }
    if (cp >= 0xFF21 && cp <= 0xFF3A) {
        buf[0] = (char)('A' + (cp - 0xFF21));
        return buf;
    }
    if (cp >= 0xFF41 && cp <= 0xFF5A) {
        buf[0] = (char)('a' + (cp - 0xFF41));
        return buf;
    }
    if (cp == 0xFF3F) {
        buf[0] = '_';
        return buf;
    }
    if (cp >= 0x1D400 && cp <= 0x1D6A3) { /* 13 alphabets of A-Z a-z */
        uint32_t k = (cp - 0x1D400) % 52;
        buf[0] = (char)(k < 26 ? 'A' + k : 'a' + (k - 26));
        return buf;
    }
    if (cp >= 0x1D7CE && cp <= 0x1D7FF) {
        buf[0] = (char)('0' + (cp - 0x1D7CE) % 10);
        return buf;
    }
    size_t lo = 0, hi = sizeof(fold_table) / sizeof(fold_table[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fold_table[mid].cp == cp)
            return fold_table[mid].ascii;
        if (fold_table[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ======================================================================
 * Memory: two bump arenas. `scratch` holds the values of one logical line
 * (released to a mark after it); `keep` holds what the symbol table binds.
 * Both are capped: an exhausted arena makes values unknown (reported once
 * as SCAN-LIMIT), never an overflow.
 * ====================================================================== */

typedef struct arena_chunk {
    struct arena_chunk *prev;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

typedef struct arena {
    arena_chunk *cur;
    size_t total, max;
    bool exhausted;
} arena;

typedef struct arena_mark {
    arena_chunk *chunk;
    size_t used, total;
} arena_mark;

enum { ARENA_CHUNK = 64 * 1024 };

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (!a->cur || a->cur->cap - a->cur->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        if (a->total + cap > a->max) {
            a->exhausted = true;
            return NULL;
        }
        arena_chunk *c = malloc(sizeof(*c) + cap);
        if (!c) {
            a->exhausted = true;
            return NULL;
        }
        c->prev = a->cur;
        c->used = 0;
        c->cap = cap;
        a->cur = c;
        a->total += cap;
    }
    void *p = (uint8_t *)a->cur->data + a->cur->used;
    a->cur->used += n;
    return p;
}

static arena_mark arena_get_mark(const arena *a)
{
    arena_mark m = {a->cur, a->cur ? a->cur->used : 0, a->total};
    return m;
}

static void arena_release(arena *a, arena_mark m)
{
    while (a->cur && a->cur != m.chunk) {
        arena_chunk *p = a->cur->prev;
        free(a->cur);
        a->cur = p;
    }
    if (a->cur)
        a->cur->used = m.used;
    a->total = m.total;
}

static void arena_free(arena *a)
{
    arena_mark zero = {NULL, 0, 0};
    arena_release(a, zero);
}

static char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ======================================================================
 * Values
 * ====================================================================== */

typedef enum pv_kind {
    PV_UNKNOWN = 0,
    PV_NAME,   /* a module or something reached from one: qual "os.system" */
    PV_INST,   /* what calling qual returned: qual "pathlib.Path" */
    PV_BOUND,  /* method `qual` of the value `recv` ("str.join", "pathlib.Path.write_text") */
    PV_STR,    /* a constant str or bytes */
    PV_INT,    /* a constant int */
    PV_CONST,  /* another constant: None, True, False, float, ... (`truth`) */
    PV_SEQ,    /* tuple, list or set of values */
    PV_DICT,   /* items: key, value, key, value ... */
    PV_NS,     /* a namespace: vars(module), module.__dict__, globals(); qual "" = this file */
    PV_ATTRGETTER,   /* operator.attrgetter(qual) */
    PV_METHODCALLER, /* operator.methodcaller(qual) */
    PV_LOCAL,  /* a function, class or lambda defined in the file */
} pv_kind;

enum {
    PVF_ABS = 1u << 0,      /* a path that starts absolute (/, C:\, \\host) */
    PVF_HOME = 1u << 1,     /* a path in the user's home (~, $HOME, Path.home()) */
    PVF_DOTDOT = 1u << 2,   /* a path with a '..' component */
    PVF_NET = 1u << 3,      /* data received from the network */
    PVF_DECODED = 1u << 4,  /* data passed through a decoder */
    PVF_COMPUTED = 1u << 5, /* a name reached through a computed string */
    PVF_GETATTR = 1u << 6,  /* a name reached through getattr/vars/__dict__ */
    PVF_DYNIMPORT = 1u << 7, /* a module reached through __import__/importlib */
};
#define PVF_PATHS (PVF_ABS | PVF_HOME | PVF_DOTDOT)
#define PVF_DATA (PVF_PATHS | PVF_NET | PVF_DECODED)

/* decoders a constant went through (for descriptions) */
enum {
    DEC_BASE64 = 1u << 0,
    DEC_HEX = 1u << 1,
    DEC_ZLIB = 1u << 2,
    DEC_ROT13 = 1u << 3,
    DEC_REVERSE = 1u << 4,
    DEC_CHR = 1u << 5,
    DEC_BASE32 = 1u << 6,
    DEC_OTHER = 1u << 7, /* bz2, lzma, base85 ... not decoded statically */
    DEC_MARSHAL = 1u << 8,
    DEC_JOIN = 1u << 9, /* built by concatenation or join */
};

typedef struct pv {
    uint8_t kind;
    bool bytes; /* PV_STR: a bytes value */
    bool truth; /* PV_CONST */
    uint16_t flags;
    uint16_t dec;
    const char *qual;
    const struct pv *recv; /* PV_BOUND */
    const uint8_t *s;      /* PV_STR */
    size_t n;
    int64_t i; /* PV_INT */
    const struct pv **items;
    uint32_t nitems;
} pv;

static const pv pv_unknown = {0};


/* ======================================================================
 * Policy: what a resolved name does. Names are canonical (posix/nt -> os,
 * __builtin__ -> builtins, _pickle/cPickle -> pickle, urllib2 ->
 * urllib.request ...). A pattern is exact ("os.system"), a prefix
 * ("os.exec*") or a whole module ("subprocess.*": every attribute below it,
 * except constants and exception classes). Instances are written
 * "<class>()": "pathlib.Path().write_text"; a pattern without "()" never
 * matches a method of an instance (the call that made it was reported).
 * ====================================================================== */

typedef enum category {
    CAT_NONE = 0,
    CAT_PROCESS,
    CAT_EVAL,
    CAT_IMPORT,
    CAT_GADGET,
    CAT_INTROSPECT,
    CAT_NETWORK,
    CAT_DESER,
    CAT_NATIVE,
    CAT_HIJACK,
    CAT_BUILTINS,
    CAT_WRITE,
    CAT_FS,
    CAT_READ,
    CAT_PATCH,
    CAT_REMOTE,
    CAT_DOWNLOAD,
    CAT_COUNT
} category;

static const struct {
    const char *name;
    const char *rule;
    const char *what;
} categories[CAT_COUNT] = {
    [CAT_NONE] = {"none", NULL, ""},
    [CAT_PROCESS] = {"process-execution", "CUSTOM-CODE-DANGEROUS",
                     "starts a process or shell command"},
    [CAT_EVAL] = {"code-evaluation", "CUSTOM-CODE-DANGEROUS",
                  "evaluates or runs Python code built at run time"},
    [CAT_IMPORT] = {"dynamic-import", "CUSTOM-CODE-DANGEROUS",
                    "imports a module chosen at run time"},
    [CAT_GADGET] = {"attribute-gadget", "CUSTOM-CODE-DANGEROUS",
                    "looks up an attribute of a dangerous module by a computed name, hiding "
                    "what it calls"},
    [CAT_INTROSPECT] = {"introspection", "CUSTOM-CODE-DANGEROUS",
                        "walks interpreter internals such as frames, globals, builtins or "
                        "subclasses, a sandbox-escape technique"},
    [CAT_NETWORK] = {"network", "CUSTOM-CODE-DANGEROUS",
                     "opens a network connection or sends data through a socket or an HTTP "
                     "client"},
    [CAT_DESER] = {"deserialisation", "CUSTOM-CODE-DANGEROUS",
                   "deserialises data with pickle, marshal or unsafe YAML, which runs code "
                   "when loaded"},
    [CAT_NATIVE] = {"native-code", "CUSTOM-CODE-DANGEROUS",
                    "loads or calls native code through ctypes, cffi or a C++ extension"},
    [CAT_HIJACK] = {"import-hijack", "CUSTOM-CODE-DANGEROUS",
                    "changes sys.modules, import hooks or trace hooks, so that later imports or "
                    "calls can be replaced"},
    [CAT_BUILTINS] = {"builtins-patching", "CUSTOM-CODE-DANGEROUS",
                      "replaces a builtin for every later caller"},
    [CAT_WRITE] = {"file-write-outside", "CUSTOM-CODE-RISKY",
                   "writes a file outside the repository"},
    [CAT_FS] = {"file-system", "CUSTOM-CODE-RISKY",
                "deletes, moves, copies, links or changes permissions of files"},
    [CAT_READ] = {"sensitive-read", "CUSTOM-CODE-RISKY",
                  "reads a file in the user's home directory, where credentials live"},
    [CAT_PATCH] = {"module-patching", "CUSTOM-CODE-RISKY",
                   "monkey-patches a library module or class for every later caller"},
    [CAT_REMOTE] = {"remote-code", "CUSTOM-CODE-RISKY",
                    "loads and runs code from another repository"},
    [CAT_DOWNLOAD] = {"network-download", "CUSTOM-CODE-NETWORK",
                      "downloads files from the Hugging Face Hub or a model hub"},
};

typedef enum special {
    SP_NONE = 0,  /* reported whenever called or referenced */
    SP_CALL_ONLY, /* reported when called (a class tested with isinstance is no danger) */
    SP_OPEN,      /* open(path, mode): a write outside / a read in home */
    SP_OS_OPEN,   /* os.open(path, flags) */
    SP_FS_OUTSIDE, /* reported when a path argument is outside the repository */
    SP_GETATTR,
    SP_SETATTR,
    SP_IMPORT,
    SP_EVAL,      /* eval/exec/compile: the payload is analysed */
    SP_EVAL_STR,  /* timeit & co: reported when given a string */
    SP_TORCH_LOAD, /* unless weights_only=True */
    SP_NUMPY_LOAD, /* when allow_pickle is not False */
    SP_YAML_LOAD,  /* unless Loader is a safe loader */
    SP_PATH_WRITE, /* pathlib method on a path outside the repository */
    SP_PATH_READ,  /* pathlib read of a path in home */
    SP_PATH_OPEN,
} special;

typedef struct py_rule {
    const char *pattern;
    uint8_t cat;
    uint8_t special;
} py_rule;

static const py_rule py_rules[] = {
    /* process execution */
    {"os.system", CAT_PROCESS, SP_NONE},
    {"os.popen*", CAT_PROCESS, SP_NONE},
    {"os.exec*", CAT_PROCESS, SP_NONE},
    {"os.spawn*", CAT_PROCESS, SP_NONE},
    {"os.posix_spawn*", CAT_PROCESS, SP_NONE},
    {"os.startfile", CAT_PROCESS, SP_NONE},
    {"subprocess.*", CAT_PROCESS, SP_NONE},
    {"pty.spawn", CAT_PROCESS, SP_NONE},
    {"commands.*", CAT_PROCESS, SP_NONE},
    {"popen2.*", CAT_PROCESS, SP_NONE},
    {"platform.popen", CAT_PROCESS, SP_NONE},
    {"distutils.spawn.spawn", CAT_PROCESS, SP_NONE},
    {"asyncio.create_subprocess_shell", CAT_PROCESS, SP_NONE},
    {"asyncio.create_subprocess_exec", CAT_PROCESS, SP_NONE},
    {"asyncio.subprocess.*", CAT_PROCESS, SP_NONE},
    {"webbrowser.*", CAT_PROCESS, SP_NONE},
    {"pexpect.*", CAT_PROCESS, SP_NONE},
    {"sh.*", CAT_PROCESS, SP_NONE},
    {"IPython.get_ipython().system*", CAT_PROCESS, SP_NONE},
    {"IPython.get_ipython().getoutput", CAT_PROCESS, SP_NONE},
    {"IPython.get_ipython().run_line_magic", CAT_PROCESS, SP_NONE},
    {"IPython.get_ipython().run_cell_magic", CAT_PROCESS, SP_NONE},
    {"IPython.get_ipython().magic", CAT_PROCESS, SP_NONE},
    {"IPython.get_ipython().run_cell", CAT_EVAL, SP_NONE},
    {"IPython.get_ipython().ex", CAT_EVAL, SP_NONE},
    {"IPython.get_ipython().ev", CAT_EVAL, SP_NONE},
    {"IPython.utils.process.*", CAT_PROCESS, SP_NONE},
    /* code evaluation */
    {"builtins.eval", CAT_EVAL, SP_EVAL},
    {"builtins.exec", CAT_EVAL, SP_EVAL},
    {"builtins.compile", CAT_EVAL, SP_EVAL},
    {"builtins.execfile", CAT_EVAL, SP_NONE},
    {"runpy.*", CAT_EVAL, SP_NONE},
    {"code.*", CAT_EVAL, SP_NONE},
    {"codeop.*", CAT_EVAL, SP_NONE},
    {"types.FunctionType", CAT_EVAL, SP_CALL_ONLY},
    {"types.LambdaType", CAT_EVAL, SP_CALL_ONLY},
    {"types.CodeType", CAT_EVAL, SP_CALL_ONLY},
    {"timeit.timeit", CAT_EVAL, SP_EVAL_STR},
    {"timeit.repeat", CAT_EVAL, SP_EVAL_STR},
    {"timeit.Timer", CAT_EVAL, SP_EVAL_STR},
    {"cProfile.run*", CAT_EVAL, SP_NONE},
    {"profile.run*", CAT_EVAL, SP_NONE},
    {"pdb.run*", CAT_EVAL, SP_NONE},
    /* imports chosen at run time, loaders of files as modules */
    {"builtins.__import__", CAT_IMPORT, SP_IMPORT},
    {"importlib.import_module", CAT_IMPORT, SP_IMPORT},
    {"importlib.__import__", CAT_IMPORT, SP_IMPORT},
    {"importlib.reload", CAT_IMPORT, SP_NONE},
    {"importlib.util.spec_from_file_location", CAT_IMPORT, SP_NONE},
    {"importlib.util.spec_from_loader", CAT_IMPORT, SP_NONE},
    {"importlib.util.module_from_spec", CAT_IMPORT, SP_NONE},
    {"importlib.machinery.SourceFileLoader", CAT_IMPORT, SP_NONE},
    {"importlib.machinery.SourcelessFileLoader", CAT_IMPORT, SP_NONE},
    {"importlib.machinery.ExtensionFileLoader", CAT_NATIVE, SP_NONE},
    {"imp.*", CAT_IMPORT, SP_NONE},
    {"zipimport.*", CAT_IMPORT, SP_NONE},
    /* interpreter internals */
    {"sys._getframe", CAT_INTROSPECT, SP_NONE},
    {"sys.modules.update", CAT_HIJACK, SP_NONE},
    {"sys.modules.pop", CAT_HIJACK, SP_NONE},
    {"sys.modules.popitem", CAT_HIJACK, SP_NONE},
    {"sys.modules.setdefault", CAT_HIJACK, SP_NONE},
    {"sys.modules.clear", CAT_HIJACK, SP_NONE},
    {"sys.modules.__setitem__", CAT_HIJACK, SP_NONE},
    {"sys.modules.__delitem__", CAT_HIJACK, SP_NONE},
    {"sys.meta_path.*", CAT_HIJACK, SP_NONE},
    {"sys.path_hooks.*", CAT_HIJACK, SP_NONE},
    {"sys.settrace", CAT_HIJACK, SP_NONE},
    {"sys.setprofile", CAT_HIJACK, SP_NONE},
    {"threading.settrace", CAT_HIJACK, SP_NONE},
    {"threading.setprofile", CAT_HIJACK, SP_NONE},
    /* network: uploads first, then hub downloads, then clients */
    {"huggingface_hub.upload_file", CAT_NETWORK, SP_NONE},
    {"huggingface_hub.upload_folder", CAT_NETWORK, SP_NONE},
    {"huggingface_hub.create_commit", CAT_NETWORK, SP_NONE},
    {"huggingface_hub.HfApi().upload*", CAT_NETWORK, SP_NONE},
    {"huggingface_hub.HfApi().create_commit", CAT_NETWORK, SP_NONE},
    {"huggingface_hub.HfApi().*", CAT_DOWNLOAD, SP_NONE},
    {"huggingface_hub.hf_hub_download", CAT_DOWNLOAD, SP_NONE},
    {"huggingface_hub.snapshot_download", CAT_DOWNLOAD, SP_NONE},
    {"huggingface_hub.cached_download", CAT_DOWNLOAD, SP_NONE},
    {"huggingface_hub.file_download.*", CAT_DOWNLOAD, SP_NONE},
    {"huggingface_hub.HfFileSystem", CAT_DOWNLOAD, SP_NONE},
    {"huggingface_hub.list_repo_files", CAT_DOWNLOAD, SP_NONE},
    {"transformers.utils.hub.cached_file", CAT_DOWNLOAD, SP_NONE},
    {"transformers.utils.cached_file", CAT_DOWNLOAD, SP_NONE},
    {"transformers.utils.hub.get_file_from_repo", CAT_DOWNLOAD, SP_NONE},
    {"transformers.file_utils.cached_path", CAT_DOWNLOAD, SP_NONE},
    {"datasets.load_dataset", CAT_DOWNLOAD, SP_NONE},
    {"torch.hub.download_url_to_file", CAT_DOWNLOAD, SP_NONE},
    {"torch.hub.load_state_dict_from_url", CAT_DESER, SP_TORCH_LOAD},
    {"torch.utils.model_zoo.load_url", CAT_DESER, SP_TORCH_LOAD},
    {"torch.hub.load", CAT_REMOTE, SP_NONE},
    {"torch.hub.list", CAT_REMOTE, SP_NONE},
    {"torch.hub.help", CAT_REMOTE, SP_NONE},
    {"transformers.dynamic_module_utils.get_class_from_dynamic_module", CAT_REMOTE, SP_NONE},
    {"transformers.dynamic_module_utils.get_cached_module_file", CAT_REMOTE, SP_NONE},
    {"socket.*", CAT_NETWORK, SP_NONE},
    {"socketserver.*", CAT_NETWORK, SP_NONE},
    {"ssl.wrap_socket", CAT_NETWORK, SP_NONE},
    {"urllib.request.*", CAT_NETWORK, SP_NONE},
    {"urllib.urlopen", CAT_NETWORK, SP_NONE},
    {"urllib.urlretrieve", CAT_NETWORK, SP_NONE},
    {"urllib.URLopener", CAT_NETWORK, SP_NONE},
    {"urllib3.*", CAT_NETWORK, SP_NONE},
    {"requests.*", CAT_NETWORK, SP_NONE},
    {"httpx.*", CAT_NETWORK, SP_NONE},
    {"aiohttp.*", CAT_NETWORK, SP_NONE},
    {"http.client.*", CAT_NETWORK, SP_NONE},
    {"httplib.*", CAT_NETWORK, SP_NONE},
    {"http.server.*", CAT_NETWORK, SP_NONE},
    {"ftplib.*", CAT_NETWORK, SP_NONE},
    {"telnetlib.*", CAT_NETWORK, SP_NONE},
    {"smtplib.*", CAT_NETWORK, SP_NONE},
    {"poplib.*", CAT_NETWORK, SP_NONE},
    {"imaplib.*", CAT_NETWORK, SP_NONE},
    {"nntplib.*", CAT_NETWORK, SP_NONE},
    {"xmlrpc.client.*", CAT_NETWORK, SP_NONE},
    {"xmlrpclib.*", CAT_NETWORK, SP_NONE},
    {"paramiko.*", CAT_NETWORK, SP_NONE},
    {"pycurl.*", CAT_NETWORK, SP_NONE},
    {"websocket.*", CAT_NETWORK, SP_NONE},
    {"websockets.*", CAT_NETWORK, SP_NONE},
    {"wget.*", CAT_NETWORK, SP_NONE},
    {"gdown.*", CAT_NETWORK, SP_NONE},
    {"asyncio.open_connection", CAT_NETWORK, SP_NONE},
    {"asyncio.open_unix_connection", CAT_NETWORK, SP_NONE},
    {"asyncio.start_server", CAT_NETWORK, SP_NONE},
    {"asyncio.start_unix_server", CAT_NETWORK, SP_NONE},
    /* deserialisation */
    {"pickle.load", CAT_DESER, SP_NONE},
    {"pickle.loads", CAT_DESER, SP_NONE},
    {"pickle.Unpickler", CAT_DESER, SP_NONE},
    {"pickle._load", CAT_DESER, SP_NONE},
    {"pickle._loads", CAT_DESER, SP_NONE},
    {"pickle._Unpickler", CAT_DESER, SP_NONE},
    {"dill.load*", CAT_DESER, SP_NONE},
    {"dill.Unpickler", CAT_DESER, SP_NONE},
    {"cloudpickle.load*", CAT_DESER, SP_NONE},
    {"joblib.load", CAT_DESER, SP_NONE},
    {"torch.load", CAT_DESER, SP_TORCH_LOAD},
    {"torch.serialization.load", CAT_DESER, SP_TORCH_LOAD},
    {"torch.package.PackageImporter", CAT_DESER, SP_NONE},
    {"numpy.load", CAT_DESER, SP_NUMPY_LOAD},
    {"numpy.lib.npyio.load", CAT_DESER, SP_NUMPY_LOAD},
    {"numpy.lib.format.read_array", CAT_DESER, SP_NUMPY_LOAD},
    {"marshal.load", CAT_DESER, SP_NONE},
    {"marshal.loads", CAT_DESER, SP_NONE},
    {"shelve.open", CAT_DESER, SP_NONE},
    {"pandas.read_pickle", CAT_DESER, SP_NONE},
    {"jsonpickle.decode", CAT_DESER, SP_NONE},
    {"jsonpickle.loads", CAT_DESER, SP_NONE},
    {"yaml.load", CAT_DESER, SP_YAML_LOAD},
    {"yaml.load_all", CAT_DESER, SP_YAML_LOAD},
    {"yaml.unsafe_load", CAT_DESER, SP_NONE},
    {"yaml.unsafe_load_all", CAT_DESER, SP_NONE},
    /* native code */
    {"ctypes.*", CAT_NATIVE, SP_NONE},
    {"cffi.*", CAT_NATIVE, SP_NONE},
    {"torch.ops.load_library", CAT_NATIVE, SP_NONE},
    {"torch.classes.load_library", CAT_NATIVE, SP_NONE},
    {"torch.utils.cpp_extension.load", CAT_NATIVE, SP_NONE},
    {"torch.utils.cpp_extension.load_inline", CAT_NATIVE, SP_NONE},
    /* files */
    {"builtins.open", CAT_WRITE, SP_OPEN},
    {"io.open", CAT_WRITE, SP_OPEN},
    {"io.FileIO", CAT_WRITE, SP_OPEN},
    {"codecs.open", CAT_WRITE, SP_OPEN},
    {"gzip.open", CAT_WRITE, SP_OPEN},
    {"bz2.open", CAT_WRITE, SP_OPEN},
    {"lzma.open", CAT_WRITE, SP_OPEN},
    {"os.open", CAT_WRITE, SP_OS_OPEN},
    {"shutil.rmtree", CAT_FS, SP_FS_OUTSIDE},
    {"shutil.move", CAT_FS, SP_FS_OUTSIDE},
    {"shutil.copy*", CAT_FS, SP_FS_OUTSIDE},
    {"shutil.chown", CAT_FS, SP_FS_OUTSIDE},
    {"shutil.make_archive", CAT_FS, SP_FS_OUTSIDE},
    {"shutil.unpack_archive", CAT_FS, SP_FS_OUTSIDE},
    {"os.remove", CAT_FS, SP_FS_OUTSIDE},
    {"os.unlink", CAT_FS, SP_FS_OUTSIDE},
    {"os.rmdir", CAT_FS, SP_FS_OUTSIDE},
    {"os.removedirs", CAT_FS, SP_FS_OUTSIDE},
    {"os.rename", CAT_FS, SP_FS_OUTSIDE},
    {"os.renames", CAT_FS, SP_FS_OUTSIDE},
    {"os.replace", CAT_FS, SP_FS_OUTSIDE},
    {"os.truncate", CAT_FS, SP_FS_OUTSIDE},
    {"os.makedirs", CAT_FS, SP_FS_OUTSIDE},
    {"os.mkdir", CAT_FS, SP_FS_OUTSIDE},
    {"os.utime", CAT_FS, SP_FS_OUTSIDE},
    {"os.chmod", CAT_FS, SP_NONE},
    {"os.lchmod", CAT_FS, SP_NONE},
    {"os.fchmod", CAT_FS, SP_NONE},
    {"os.chown", CAT_FS, SP_NONE},
    {"os.lchown", CAT_FS, SP_NONE},
    {"os.chflags", CAT_FS, SP_NONE},
    {"os.symlink", CAT_FS, SP_NONE},
    {"os.link", CAT_FS, SP_NONE},
    {"os.chroot", CAT_FS, SP_NONE},
    {"os.setuid", CAT_FS, SP_NONE},
    {"os.setgid", CAT_FS, SP_NONE},
    {"pathlib.Path().write_text", CAT_WRITE, SP_PATH_WRITE},
    {"pathlib.Path().write_bytes", CAT_WRITE, SP_PATH_WRITE},
    {"pathlib.Path().touch", CAT_WRITE, SP_PATH_WRITE},
    {"pathlib.Path().mkdir", CAT_FS, SP_PATH_WRITE},
    {"pathlib.Path().unlink", CAT_FS, SP_PATH_WRITE},
    {"pathlib.Path().rmdir", CAT_FS, SP_PATH_WRITE},
    {"pathlib.Path().rename", CAT_FS, SP_PATH_WRITE},
    {"pathlib.Path().replace", CAT_FS, SP_PATH_WRITE},
    {"pathlib.Path().symlink_to", CAT_FS, SP_NONE},
    {"pathlib.Path().hardlink_to", CAT_FS, SP_NONE},
    {"pathlib.Path().chmod", CAT_FS, SP_NONE},
    {"pathlib.Path().open", CAT_WRITE, SP_PATH_OPEN},
    {"pathlib.Path().read_text", CAT_READ, SP_PATH_READ},
    {"pathlib.Path().read_bytes", CAT_READ, SP_PATH_READ},
};

/* Modules whose attributes must not be looked up by a computed name and
 * whose dynamic import is reported. */
static const char *const dangerous_modules[] = {
    "os", "subprocess", "builtins", "sys", "importlib", "socket", "ctypes", "pty", "shutil",
    "pickle", "marshal", "code", "runpy", "types", "commands", "platform", "asyncio",
    "webbrowser", "pexpect", "cffi", "dill", "io", "codecs", "requests", "urllib",
    "urllib.request", "http.client", "ftplib", "telnetlib", "smtplib", "operator", "posix", "nt",
    "antigravity", "imp", "multiprocessing", NULL,
};

static const struct {
    const char *from, *to;
} canonical_roots[] = {
    {"posix", "os"},          {"nt", "os"},
    {"posixpath", "os.path"}, {"ntpath", "os.path"},
    {"genericpath", "os.path"}, {"__builtin__", "builtins"},
    {"__builtins__", "builtins"}, {"_pickle", "pickle"},
    {"cPickle", "pickle"},    {"pickle5", "pickle"},
    {"urllib2", "urllib.request"}, {"_socket", "socket"},
    {"_ctypes", "ctypes"},    {"_io", "io"},
    {"_posixsubprocess", "subprocess"}, {"_codecs", "codecs"},
    {"_operator", "operator"}, {"importlib._bootstrap", "importlib"},
};

/* Writes the canonical spelling of the dotted name `q` into the arena. */
static const char *canonical_name(arena *a, const char *q)
{
    for (size_t i = 0; i < sizeof(canonical_roots) / sizeof(canonical_roots[0]); i++) {
        const char *from = canonical_roots[i].from, *to = canonical_roots[i].to;
        size_t n = strlen(from);
        if (strncmp(q, from, n) == 0 && (q[n] == '\0' || q[n] == '.')) {
            size_t tn = strlen(to), rest = strlen(q + n);
            char *s = arena_alloc(a, tn + rest + 1);
            if (!s)
                return q;
            memcpy(s, to, tn);
            memcpy(s + tn, q + n, rest + 1);
            return s;
        }
    }
    return q;
}

/* Components of a module that are not its dangerous callables: exception
 * classes and, unless called (ctypes.CDLL is called, subprocess.PIPE is
 * not), upper-case constants. */
static bool is_constant_or_exception(const char *last, bool call)
{
    size_t n = strlen(last);
    bool upper = false, lower = false;
    for (size_t i = 0; i < n; i++) {
        if (last[i] >= 'a' && last[i] <= 'z')
            lower = true;
        if (last[i] >= 'A' && last[i] <= 'Z')
            upper = true;
    }
    if (upper && !lower && !call)
        return true; /* PIPE, AF_INET, SOCK_STREAM */
    static const char *const suffixes[] = {"error", "exception", "warning", "timeout", NULL};
    for (int i = 0; suffixes[i]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n >= k && strcasecmp(last + n - k, suffixes[i]) == 0)
            return true; /* socket.error, requests.HTTPError, socket.timeout */
    }
    return strcmp(last, "exceptions") == 0;
}

static bool pattern_match(const char *pat, const char *q, bool call, bool q_inst)
{
    size_t n = strlen(pat);
    bool inst_pat = strchr(pat, '(') != NULL;
    if (!inst_pat && q_inst)
        return false;
    if (n >= 2 && pat[n - 1] == '*' && pat[n - 2] == '.') {
        if (strncmp(q, pat, n - 1) != 0 || q[n - 1] == '\0')
            return false;
        /* every component below the module, except constants and exceptions */
        for (const char *c = q + n - 1; *c;) {
            const char *dot = strchr(c, '.');
            size_t len = dot ? (size_t)(dot - c) : strlen(c);
            char comp[128];
            if (len >= sizeof(comp))
                len = sizeof(comp) - 1;
            memcpy(comp, c, len);
            comp[len] = '\0';
            if (is_constant_or_exception(comp, call))
                return false;
            c = dot ? dot + 1 : c + strlen(c);
        }
        return true;
    }
    if (n >= 1 && pat[n - 1] == '*')
        return strncmp(q, pat, n - 1) == 0 && !strchr(q + n - 1, '.');
    return strcmp(pat, q) == 0;
}

static const py_rule *policy_lookup(const char *q, bool call)
{
    if (!q || !*q)
        return NULL;
    bool q_inst = strchr(q, '(') != NULL;
    size_t root = strcspn(q, ".(");
    for (size_t i = 0; i < sizeof(py_rules) / sizeof(py_rules[0]); i++) {
        /* cheap filter on the first component before the full match */
        const char *pat = py_rules[i].pattern;
        if (pat[0] != q[0] || strncmp(pat, q, root) != 0 ||
            (pat[root] != '.' && pat[root] != '\0' && pat[root] != '*' && pat[root] != '('))
            continue;
        if (pattern_match(pat, q, call, q_inst))
            return &py_rules[i];
    }
    return NULL;
}

/* The rule for calling `q` */
static const py_rule *policy_find(const char *q)
{
    return policy_lookup(q, true);
}

/* The rule for `q` used as a value (stored, passed, imported) */
static const py_rule *policy_find_ref(const char *q)
{
    return policy_lookup(q, false);
}

static bool module_is_dangerous(const char *q)
{
    if (!q)
        return false;
    for (int i = 0; dangerous_modules[i]; i++)
        if (strcmp(q, dangerous_modules[i]) == 0)
            return true;
    return false;
}

/* Python's builtins that a bare name may resolve to and that matter here. */
static const char *const tracked_builtins[] = {
    "eval", "exec", "compile", "execfile", "__import__", "open", "getattr", "setattr", "delattr",
    "globals", "locals", "vars", "chr", "bytes", "bytearray", "str", "reversed", "map", "list",
    "tuple", "breakpoint", "input", "__builtins__", NULL,
};

/* ======================================================================
 * Analyser state
 * ====================================================================== */

typedef struct symtab_entry {
    const char *key;
    const pv *val;
} symtab_entry;

typedef struct symtab {
    symtab_entry *slots;
    size_t cap, count;
} symtab;

enum { SYMTAB_MAX = 1u << 20, MAX_QUAL = 512, MAX_CONST_STR = 16u << 20, MAX_SEQ = 1u << 16,
       MAX_STAR = 64, CALL_TEXT_MAX = 160, DEDUPE_MAX = 1u << 22, MAX_COMP_NEST = 8 };

typedef struct pline {
    py_token *t;
    size_t n, i, cap;
    /* comprehension index (find_comp_for), built on first use per line:
     * for each token, where its element ends and its first `for` */
    size_t *cstop, *cfor;
    size_t ccap;
    bool cready;
} pline;

typedef struct pyan {
    ms_scan_ctx *ctx;
    const char *location; /* path of the file (relative to the model folder) */
    uint32_t cell;        /* notebook cell (from 1), 0 for a .py file */
    uint32_t line_base;   /* added to token lines (notebook cells: 0) */
    arena scratch, keep;
    symtab syms;
    const char *star[MAX_STAR]; /* modules imported with `*` */
    size_t nstar;
    pline *pl;
    const uint8_t *src; /* source the current tokens point into */
    unsigned depth, max_depth;
    unsigned target_mode; /* parsing assignment targets: no references */
    unsigned comp_nest;
    /* payloads handed to exec/eval, analysed in place */
    unsigned nest;
    uint32_t outer_line;
    const char *nest_desc;
    uint64_t payload_bytes;
    /* findings */
    uint32_t nfindings, omitted, max_findings;
    uint64_t *dedupe; /* hash set of reported (line, category, name) */
    size_t ndedupe, dedupe_cap;
    /* problems */
    uint32_t lex_errors;
    uint32_t first_error_line, first_error_cell;
    const char *first_error;
    bool limit_values, limit_depth, limit_tokens, limit_nesting, limit_payload;
    bool nomem, stopped;
    uint32_t lines_done;
} pyan;

static const py_token end_token = {PY_TOK_END, 0, 0, 0, 0, 0, 0, NULL};

/* ---- symbols ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static const pv *sym_get(pyan *an, const char *key)
{
    if (!an->syms.cap || !key)
        return NULL;
    size_t mask = an->syms.cap - 1, i = (size_t)hash_str(key) & mask;
    while (an->syms.slots[i].key) {
        if (strcmp(an->syms.slots[i].key, key) == 0)
            return an->syms.slots[i].val;
        i = (i + 1) & mask;
    }
    return NULL;
}

static symtab_entry *sym_slot(pyan *an, const char *key)
{
    if (an->syms.count * 2 >= an->syms.cap) {
        size_t cap = an->syms.cap ? an->syms.cap * 2 : 256;
        if (cap > SYMTAB_MAX * 2) {
            an->limit_values = true;
            return NULL;
        }
        symtab_entry *slots = calloc(cap, sizeof(*slots));
        if (!slots) {
            an->nomem = true;
            return NULL;
        }
        for (size_t i = 0; i < an->syms.cap; i++) {
            if (!an->syms.slots[i].key)
                continue;
            size_t j = (size_t)hash_str(an->syms.slots[i].key) & (cap - 1);
            while (slots[j].key)
                j = (j + 1) & (cap - 1);
            slots[j] = an->syms.slots[i];
        }
        free(an->syms.slots);
        an->syms.slots = slots;
        an->syms.cap = cap;
    }
    size_t mask = an->syms.cap - 1, i = (size_t)hash_str(key) & mask;
    while (an->syms.slots[i].key) {
        if (strcmp(an->syms.slots[i].key, key) == 0)
            return &an->syms.slots[i];
        i = (i + 1) & mask;
    }
    char *k = arena_strndup(&an->keep, key, strlen(key));
    if (!k) {
        an->limit_values = true;
        return NULL;
    }
    an->syms.slots[i].key = k;
    an->syms.slots[i].val = &pv_unknown;
    an->syms.count++;
    return &an->syms.slots[i];
}

/* A copy of v that lives as long as the file's analysis. */
static const pv *pv_keep(pyan *an, const pv *v, unsigned depth)
{
    if (!v || v == &pv_unknown)
        return &pv_unknown;
    pv *c = arena_alloc(&an->keep, sizeof(*c));
    if (!c) {
        an->limit_values = true;
        return &pv_unknown;
    }
    *c = *v;
    if (v->qual)
        c->qual = arena_strndup(&an->keep, v->qual, strlen(v->qual));
    if (v->s && v->n) {
        uint8_t *s = arena_alloc(&an->keep, v->n);
        if (s)
            memcpy(s, v->s, v->n);
        c->s = s;
        if (!s)
            c->kind = PV_UNKNOWN;
    }
    c->recv = v->recv && depth < 8 ? pv_keep(an, v->recv, depth + 1) : NULL;
    c->items = NULL;
    c->nitems = 0;
    if (v->nitems && depth < 8) {
        uint32_t n = v->nitems > 4096 ? 4096 : v->nitems;
        const pv **items = arena_alloc(&an->keep, n * sizeof(*items));
        if (items) {
            for (uint32_t i = 0; i < n; i++)
                items[i] = pv_keep(an, v->items[i], depth + 1);
            c->items = items;
            c->nitems = n;
        }
    }
    if ((v->qual && !c->qual) || an->keep.exhausted) {
        an->limit_values = true;
        return &pv_unknown;
    }
    return c;
}

/* Binds `key`. A name once bound to a module or a dangerous callable keeps
 * that binding when rebound to something unknown (the walker does not
 * follow scopes or control flow, so it keeps the more dangerous reading). */
static void sym_set(pyan *an, const char *key, const pv *v)
{
    if (!key || !*key)
        return;
    symtab_entry *e = sym_slot(an, key);
    if (!e)
        return;
    if (e->val && (e->val->kind == PV_NAME || e->val->kind == PV_NS) && v->kind != PV_NAME &&
        v->kind != PV_NS && v->kind != PV_ATTRGETTER && v->kind != PV_METHODCALLER)
        return;
    e->val = pv_keep(an, v, 0);
}

/* ---- value constructors (scratch arena) ---- */

static pv *pv_new(pyan *an, uint8_t kind)
{
    pv *v = arena_alloc(&an->scratch, sizeof(*v));
    if (!v) {
        an->limit_values = true;
        return NULL;
    }
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    return v;
}

static const pv *mk_flags(pyan *an, uint8_t kind, uint16_t flags)
{
    if (kind == PV_UNKNOWN && !flags)
        return &pv_unknown;
    pv *v = pv_new(an, kind);
    if (!v)
        return &pv_unknown;
    v->flags = flags;
    return v;
}

static const pv *mk_name(pyan *an, uint8_t kind, const char *qual, uint16_t flags)
{
    if (!qual || strlen(qual) > MAX_QUAL)
        return mk_flags(an, PV_UNKNOWN, flags & PVF_DATA);
    pv *v = pv_new(an, kind);
    if (!v)
        return &pv_unknown;
    v->qual = qual;
    v->flags = flags;
    return v;
}

static const char *qual_join(pyan *an, const char *a, const char *sep, const char *b)
{
    size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);
    if (na + ns + nb > MAX_QUAL)
        return NULL;
    char *s = arena_alloc(&an->scratch, na + ns + nb + 1);
    if (!s) {
        an->limit_values = true;
        return NULL;
    }
    memcpy(s, a, na);
    memcpy(s + na, sep, ns);
    memcpy(s + na + ns, b, nb + 1);
    return s;
}

static bool has_sub(const uint8_t *s, size_t n, const char *sub)
{
    size_t k = strlen(sub);
    if (k == 0 || k > n)
        return k == 0;
    const uint8_t *p = s, *end = s + n - k + 1;
    while (p < end && (p = memchr(p, sub[0], (size_t)(end - p))) != NULL) {
        if (memcmp(p, sub, k) == 0)
            return true;
        p++;
    }
    return false;
}

/* Path facts about a constant string (one pass over the few characters
 * that matter: '$', '%' and '.'). */
static uint16_t str_path_flags(const uint8_t *s, size_t n)
{
    uint16_t f = 0;
    if (n == 0)
        return 0;
    if (s[0] == '~')
        f |= PVF_HOME;
    if ((memchr(s, '$', n) && (has_sub(s, n, "$HOME") || has_sub(s, n, "${HOME}"))) ||
        (memchr(s, '%', n) && (has_sub(s, n, "%USERPROFILE%") || has_sub(s, n, "%APPDATA%"))))
        f |= PVF_HOME;
    if (s[0] == '/' || (n >= 2 && s[0] == '\\' && s[1] == '\\') ||
        (n >= 3 && isalpha(s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/'))) {
        /* a lone "/" is a separator more often than the root */
        if (n > 1)
            f |= PVF_ABS;
        if ((n >= 6 && memcmp(s, "/home/", 6) == 0) || (n >= 5 && memcmp(s, "/root", 5) == 0) ||
            (n >= 7 && memcmp(s, "/Users/", 7) == 0))
            f |= PVF_HOME;
    }
    for (const uint8_t *p = s; (p = memchr(p, '.', (size_t)(s + n - p))) != NULL; p++) {
        size_t i = (size_t)(p - s);
        if (i + 1 < n && s[i + 1] == '.' && (i == 0 || s[i - 1] == '/' || s[i - 1] == '\\') &&
            (i + 2 == n || s[i + 2] == '/' || s[i + 2] == '\\')) {
            f |= PVF_DOTDOT;
            break;
        }
        if (p + 1 >= s + n)
            break;
    }
    return f;
}

static const pv *mk_str(pyan *an, const uint8_t *s, size_t n, bool bytes, uint16_t flags,
                        uint16_t dec)
{
    if (n > MAX_CONST_STR)
        return mk_flags(an, PV_UNKNOWN, (uint16_t)(flags | (dec ? PVF_DECODED : 0)));
    pv *v = pv_new(an, PV_STR);
    if (!v)
        return &pv_unknown;
    uint8_t *c = arena_alloc(&an->scratch, n ? n : 1);
    if (!c) {
        an->limit_values = true;
        return &pv_unknown;
    }
    if (n)
        memcpy(c, s, n);
    v->s = c;
    v->n = n;
    v->bytes = bytes;
    v->flags = (uint16_t)(flags | str_path_flags(s, n) | (dec & ~DEC_JOIN ? PVF_DECODED : 0));
    v->dec = dec;
    return v;
}

static const pv *mk_int(pyan *an, int64_t i)
{
    pv *v = pv_new(an, PV_INT);
    if (!v)
        return &pv_unknown;
    v->i = i;
    return v;
}

static const pv *mk_const(pyan *an, bool truth)
{
    pv *v = pv_new(an, PV_CONST);
    if (!v)
        return &pv_unknown;
    v->truth = truth;
    return v;
}

static bool is_outside(const pv *v)
{
    return v && (v->flags & PVF_PATHS);
}

static bool pv_is_name(const pv *v)
{
    return v && (v->kind == PV_NAME || v->kind == PV_NS) && v->qual;
}

static bool pv_const_false(const pv *v)
{
    return v && ((v->kind == PV_CONST && !v->truth) || (v->kind == PV_INT && v->i == 0));
}

static bool pv_const_true(const pv *v)
{
    return v && ((v->kind == PV_CONST && v->truth) || (v->kind == PV_INT && v->i != 0));
}

/* ---- findings ---- */

/* The source text [start, end) on one line, shortened, for a description. */
static char *call_text(pyan *an, size_t start, size_t end)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, CALL_TEXT_MAX + 8);
    bool space = false;
    size_t shown = 0;
    for (size_t i = start; i < end && an->src; i++) {
        uint8_t c = an->src[i];
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = true;
            continue;
        }
        if (space && shown) {
            ms_strbuf_append(&sb, " ", 1);
            shown++;
        }
        space = false;
        if (shown >= CALL_TEXT_MAX) {
            ms_strbuf_puts(&sb, "...");
            break;
        }
        char ch = (char)c;
        ms_strbuf_append(&sb, &ch, 1);
        shown++;
    }
    char *s = ms_strbuf_take(&sb);
    ms_sanitize_text(s);
    return s;
}

/* Whether (line, category, what) was reported already; remembers it. An
 * open-addressing set of 64-bit keys (0 marks a free slot). */
static bool dedupe_seen(pyan *an, uint32_t line, category cat, const char *what)
{
    uint64_t h = hash_str(what ? what : "") ^ ((uint64_t)line * 0x9E3779B97F4A7C15ULL) ^
                 ((uint64_t)cat << 56) ^ ((uint64_t)an->cell << 40);
    if (h == 0)
        h = 1;
    if ((an->ndedupe + 1) * 2 > an->dedupe_cap) {
        size_t cap = an->dedupe_cap ? an->dedupe_cap * 2 : 64;
        if (cap > DEDUPE_MAX)
            return false; /* past the cap every finding counts as new */
        uint64_t *t = calloc(cap, sizeof(*t));
        if (!t) {
            an->nomem = true;
            return false;
        }
        for (size_t i = 0; i < an->dedupe_cap; i++) {
            if (!an->dedupe[i])
                continue;
            size_t j = (size_t)an->dedupe[i] & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = an->dedupe[i];
        }
        free(an->dedupe);
        an->dedupe = t;
        an->dedupe_cap = cap;
    }
    size_t mask = an->dedupe_cap - 1, i = (size_t)h & mask;
    while (an->dedupe[i]) {
        if (an->dedupe[i] == h)
            return true;
        i = (i + 1) & mask;
    }
    an->dedupe[i] = h;
    an->ndedupe++;
    return false;
}

static char *location_for(pyan *an, uint32_t line)
{
    if (an->cell)
        return ms_strdup_printf("%s:cell%u:line%u", an->location, an->cell, line);
    return ms_strdup_printf("%s:%u", an->location, line);
}

static void describe_decoders(ms_strbuf *sb, uint16_t dec)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } names[] = {{DEC_BASE64, "base64"},   {DEC_BASE32, "base32"}, {DEC_HEX, "hex"},
                 {DEC_ZLIB, "zlib"},       {DEC_ROT13, "rot13"},   {DEC_REVERSE, "reversal"},
                 {DEC_CHR, "chr()/bytes() of numbers"},            {DEC_MARSHAL, "marshal"},
                 {DEC_OTHER, "bz2/lzma/base85"}};
    bool first = true;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (dec & names[i].bit) {
            ms_strbuf_printf(sb, "%s%s", first ? "" : ", ", names[i].name);
            first = false;
        }
}

/* Reports a finding of category `cat` at `line` of the current source.
 * `resolved` is the canonical name reached ("os.system") or NULL; [start,
 * end) the source text of the call or statement. The description is
 * "`<text>` <what the category does> (<detail>)". */
static void py_report(pyan *an, uint32_t line, category cat, const char *resolved, size_t start,
                      size_t end, const char *detail_fmt, ...) MS_PRINTF(7, 8);

static void py_report(pyan *an, uint32_t line, category cat, const char *resolved, size_t start,
                      size_t end, const char *detail_fmt, ...)
{
    uint32_t at = an->nest ? an->outer_line : line + an->line_base;
    char *text = call_text(an, start, end);
    if (dedupe_seen(an, at, cat, resolved ? resolved : text)) {
        free(text);
        return;
    }
    if (an->nfindings >= an->max_findings) {
        an->omitted++;
        free(text);
        return;
    }
    an->nfindings++;
    ms_strbuf sb;
    ms_strbuf_init(&sb, 4096);
    if (an->nest)
        ms_strbuf_printf(&sb, "%s: ", an->nest_desc);
    ms_strbuf_printf(&sb, "`%s` %s", text, categories[cat].what);
    if (detail_fmt && *detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        ms_strbuf_puts(&sb, " (");
        ms_strbuf_vprintf(&sb, detail_fmt, ap);
        ms_strbuf_puts(&sb, ")");
        va_end(ap);
    } else if (resolved) {
        ms_strbuf_printf(&sb, " (%s)", resolved);
    }
    ms_strbuf_puts(&sb, ".");
    char *desc = ms_strbuf_take(&sb);
    char *loc = location_for(an, at);
    json_t *details = json_pack("{s:s, s:I, s:s, s:s}", "file", an->location, "line",
                                (json_int_t)at, "call", text, "category", categories[cat].name);
    if (details && resolved)
        json_object_set_new(details, "resolved", json_string(resolved));
    if (details && an->cell)
        json_object_set_new(details, "cell", json_integer(an->cell));
    if (details && an->nest) {
        json_object_set_new(details, "payload", json_true());
        json_object_set_new(details, "payload_line", json_integer(line));
    }
    if (!loc || !desc ||
        !ms_report_add(an->ctx->report, categories[cat].rule, loc, details, "%s", desc))
        an->nomem = true;
    free(loc);
    free(desc);
    free(text);
}

/* ======================================================================
 * Token helpers
 * ====================================================================== */

static const py_token *peek(pyan *an, size_t k)
{
    pline *pl = an->pl;
    if (pl->i + k < pl->n)
        return &pl->t[pl->i + k];
    return &end_token;
}

static const py_token *advance(pyan *an)
{
    const py_token *t = peek(an, 0);
    if (an->pl->i < an->pl->n)
        an->pl->i++;
    return t;
}

static bool tok_is(pyan *an, const py_token *t, py_tok_type type, const char *text)
{
    if (t->type != type)
        return false;
    size_t n = t->end - t->start;
    const uint8_t *s = an->src + t->start;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)text[i] != s[i]) /* also stops at text's NUL */
            return false;
    return text[n] == '\0';
}

static bool is_op(pyan *an, const py_token *t, const char *op)
{
    return tok_is(an, t, PY_TOK_OP, op);
}

static bool is_kw(pyan *an, const py_token *t, const char *kw)
{
    return tok_is(an, t, PY_TOK_NAME, kw);
}

static bool at_stmt_end(pyan *an)
{
    const py_token *t = peek(an, 0);
    return t->type == PY_TOK_END || t->type == PY_TOK_NEWLINE || is_op(an, t, ";");
}

static const char *const keywords[] = {
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
    "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
    "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
    "return", "try", "while", "with", "yield", NULL,
};

static bool is_keyword_text(const uint8_t *s, size_t n)
{
    if (n < 2 || n > 8 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == 'F' || s[0] == 'N' ||
                            s[0] == 'T'))
        return false;
    for (int i = 0; keywords[i]; i++)
        if (keywords[i][0] == s[0] && strncmp(keywords[i], (const char *)s, n) == 0 &&
            keywords[i][n] == '\0')
            return true;
    return false;
}

static bool tok_is_keyword(pyan *an, const py_token *t)
{
    return t->type == PY_TOK_NAME && is_keyword_text(an->src + t->start, t->end - t->start);
}

/* The identifier of a NAME token, NFKC-folded, in the scratch arena.
 * `*folded` is set when compatibility characters were folded. */
static const char *tok_name(pyan *an, const py_token *t, bool *folded)
{
    const uint8_t *s = an->src + t->start;
    size_t n = t->end - t->start, out = 0;
    if (n > MAX_QUAL)
        n = MAX_QUAL;
    bool ascii = true;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80)
            ascii = false;
    if (ascii)
        return arena_strndup(&an->scratch, (const char *)s, n);
    char *buf = arena_alloc(&an->scratch, n * 4 + 1);
    if (!buf)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t used;
        uint32_t cp = utf8_decode(s + i, n - i, &used);
        char one[2];
        const char *f = cp >= 0x80 ? fold_codepoint(cp, one) : NULL;
        if (f) {
            size_t k = strlen(f);
            memcpy(buf + out, f, k);
            out += k;
            if (folded)
                *folded = true;
        } else {
            memcpy(buf + out, s + i, used);
            out += used;
        }
        i += used;
    }
    buf[out] = '\0';
    return buf;
}

/* ======================================================================
 * String literals
 * ====================================================================== */

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 32) >= 'a' && (c | 32) <= 'f')
        return (c | 32) - 'a' + 10;
    return -1;
}

static void put_utf8(ms_strbuf *sb, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        if (cp > 0x10FFFF)
            cp = 0xFFFD;
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    ms_strbuf_append(sb, b, n);
}

/* Appends the value of literal text s[0, n) (the body of a string, without
 * quotes) to sb, processing escapes unless raw. In f-string text `{{` and
 * `}}` stand for one brace. */
static void decode_literal(ms_strbuf *sb, const uint8_t *s, size_t n, bool raw, bool bytes,
                           bool fstring)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (fstring && (c == '{' || c == '}') && i + 1 < n && s[i + 1] == c) {
            ms_strbuf_append(sb, (const char *)&c, 1);
            i += 2;
            continue;
        }
        if (c != '\\' || raw || i + 1 >= n) {
            if (c == '\\' && raw && i + 1 < n) { /* raw: the backslash stays */
                ms_strbuf_append(sb, (const char *)s + i, 2);
                i += 2;
                continue;
            }
            ms_strbuf_append(sb, (const char *)&c, 1);
            i++;
            continue;
        }
        uint8_t e = s[i + 1];
        i += 2;
        switch (e) {
        case '\n': break;
        case '\r':
            if (i < n && s[i] == '\n')
                i++;
            break;
        case '\\': ms_strbuf_append(sb, "\\", 1); break;
        case '\'': ms_strbuf_append(sb, "'", 1); break;
        case '"': ms_strbuf_append(sb, "\"", 1); break;
        case 'a': ms_strbuf_append(sb, "\a", 1); break;
        case 'b': ms_strbuf_append(sb, "\b", 1); break;
        case 'f': ms_strbuf_append(sb, "\f", 1); break;
        case 'n': ms_strbuf_append(sb, "\n", 1); break;
        case 'r': ms_strbuf_append(sb, "\r", 1); break;
        case 't': ms_strbuf_append(sb, "\t", 1); break;
        case 'v': ms_strbuf_append(sb, "\v", 1); break;
        case 'x':
            if (i + 1 < n && hexval(s[i]) >= 0 && hexval(s[i + 1]) >= 0) {
                uint32_t v = (uint32_t)(hexval(s[i]) * 16 + hexval(s[i + 1]));
                if (bytes) {
                    uint8_t b = (uint8_t)v;
                    ms_strbuf_append(sb, (const char *)&b, 1);
                } else {
                    put_utf8(sb, v);
                }
                i += 2;
            } else {
                ms_strbuf_append(sb, "\\x", 2);
            }
            break;
        case 'u':
        case 'U': {
            size_t k = e == 'u' ? 4 : 8;
            uint32_t v = 0;
            bool ok = !bytes && i + k <= n;
            for (size_t j = 0; ok && j < k; j++) {
                int h = hexval(s[i + j]);
                if (h < 0)
                    ok = false;
                else
                    v = v * 16 + (uint32_t)h;
            }
            if (ok) {
                put_utf8(sb, v);
                i += k;
            } else {
                ms_strbuf_append(sb, "\\", 1);
                ms_strbuf_append(sb, (const char *)&e, 1);
            }
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                uint32_t v = (uint32_t)(e - '0');
                for (int j = 0; j < 2 && i < n && s[i] >= '0' && s[i] <= '7'; j++, i++)
                    v = v * 8 + (uint32_t)(s[i] - '0');
                if (bytes) {
                    uint8_t b = (uint8_t)v;
                    ms_strbuf_append(sb, (const char *)&b, 1);
                } else {
                    put_utf8(sb, v);
                }
            } else {
                /* unknown escapes (and \N{...}) keep the backslash */
                ms_strbuf_append(sb, "\\", 1);
                ms_strbuf_append(sb, (const char *)&e, 1);
            }
        }
    }
}

/* Body range of a string token (without prefix and quotes). */
static void string_body(pyan *an, const py_token *t, size_t *bs, size_t *be)
{
    size_t q = (t->str_flags & PY_STR_TRIPLE) ? 3 : 1;
    size_t s = t->start + t->prefix_len + q;
    size_t e = t->end;
    if (!(t->str_flags & PY_STR_UNTERMINATED) && e >= s + q)
        e -= q;
    if (e < s)
        e = s;
    (void)an;
    *bs = s;
    *be = e;
}

static void parse_source_range(pyan *an, size_t start, size_t end, uint32_t line, bool expr_only,
                               const pv **value);

/* State while evaluating one f-string. */
typedef struct fstr_eval {
    pyan *an;
    const py_token *t;
    ms_strbuf text;
    bool constant;
    bool first;
    uint16_t flags;
    bool raw;
    size_t line_pos; /* lines counted up to here (fields come in order) */
    uint32_t line;
} fstr_eval;

static void fstr_literal(void *ud, size_t start, size_t end)
{
    fstr_eval *fe = ud;
    size_t before = fe->text.len;
    decode_literal(&fe->text, fe->an->src + start, end - start, fe->raw, false, true);
    uint16_t f = str_path_flags((const uint8_t *)fe->text.data + before, fe->text.len - before);
    fe->flags |= (uint16_t)(f & PVF_DOTDOT);
    if (fe->first)
        fe->flags |= (uint16_t)(f & (PVF_ABS | PVF_HOME));
    fe->first = false;
}

/* The line of `pos` inside the f-string being evaluated: counted on from
 * the previous field, so a long f-string costs one pass. */
static uint32_t line_of(fstr_eval *fe, size_t pos)
{
    const uint8_t *src = fe->an->src;
    size_t end = fe->t->end;
    for (size_t i = fe->line_pos; i < pos && i < end; i++)
        if (src[i] == '\n' || (src[i] == '\r' && !(i + 1 < end && src[i + 1] == '\n')))
            fe->line++;
    if (pos > fe->line_pos)
        fe->line_pos = pos;
    return fe->line;
}

static void fstr_field(void *ud, size_t start, size_t end, bool plain)
{
    fstr_eval *fe = ud;
    const pv *v = &pv_unknown;
    parse_source_range(fe->an, start, end, line_of(fe, start), true, &v);
    if (fe->first)
        fe->flags |= (uint16_t)(v->flags & (PVF_ABS | PVF_HOME));
    fe->flags |= (uint16_t)(v->flags & (PVF_DOTDOT | PVF_NET | PVF_DECODED));
    fe->first = false;
    if (plain && v->kind == PV_STR && !v->bytes)
        ms_strbuf_append(&fe->text, (const char *)v->s, v->n);
    else if (plain && v->kind == PV_INT)
        ms_strbuf_printf(&fe->text, "%lld", (long long)v->i);
    else
        fe->constant = false;
}

/* The value of one string token. */
static const pv *string_value(pyan *an, const py_token *t)
{
    size_t bs, be;
    string_body(an, t, &bs, &be);
    bool raw = t->str_flags & PY_STR_RAW, bytes = t->str_flags & PY_STR_BYTES;
    if (t->str_flags & (PY_STR_FORMAT | PY_STR_TEMPLATE)) {
        fstr_eval fe = {an, t, {0}, true, true, 0, raw, t->start, t->line};
        ms_strbuf_init(&fe.text, MAX_CONST_STR);
        fstr_visitor v = {fstr_literal, fstr_field, &fe};
        const uint8_t *saved_src = an->src;
        fstring_walk(an->src, t, &v);
        an->src = saved_src;
        const pv *r;
        if (fe.constant && !fe.text.truncated && !(t->str_flags & PY_STR_TEMPLATE))
            r = mk_str(an, (const uint8_t *)(fe.text.data ? fe.text.data : ""), fe.text.len,
                       false, fe.flags, 0);
        else
            r = mk_flags(an, PV_UNKNOWN, fe.flags);
        ms_strbuf_free(&fe.text);
        return r;
    }
    ms_strbuf sb;
    ms_strbuf_init(&sb, MAX_CONST_STR);
    decode_literal(&sb, an->src + bs, be - bs, raw, bytes, false);
    const pv *r;
    if (sb.truncated)
        r = &pv_unknown;
    else
        r = mk_str(an, (const uint8_t *)(sb.data ? sb.data : ""), sb.len, bytes, 0, 0);
    ms_strbuf_free(&sb);
    return r;
}

/* ======================================================================
 * Expressions
 * ====================================================================== */

enum { LV_NONE = 0, LV_NAME, LV_ATTR, LV_SUBSCR, LV_SEQ, LV_STAR };

typedef struct ex {
    const pv *v;
    const char *dotted;      /* `a.b.c` as written (folded): symbol-table key */
    const char *attr;        /* LV_ATTR */
    const pv *base;          /* LV_ATTR, LV_SUBSCR */
    const char *base_dotted; /* LV_ATTR */
    const pv *index;         /* LV_SUBSCR */
    struct ex *elts;         /* LV_SEQ */
    uint32_t nelts;
    uint8_t lv;
    bool literal; /* one plain string literal */
    bool folded;  /* an identifier was NFKC-folded */
    size_t start, end;
    uint32_t line;
} ex;

typedef struct carg {
    const char *kw; /* NULL: positional; "*" / "**": unpacked */
    ex e;
} carg;

typedef struct callargs {
    carg *a;
    uint32_t n, cap;
} callargs;

typedef struct subscr {
    bool slice;
    const pv *lo, *hi, *step;
    ex index;
} subscr;

static ex parse_expr(pyan *an);
static ex parse_or(pyan *an);
static ex parse_primary(pyan *an);
static ex parse_exprlist(pyan *an);
static void parse_call_args(pyan *an, callargs *ca, bool refs);
static const pv *eval_call(pyan *an, const ex *callee, callargs *ca, size_t start, size_t end);
static void bind_target(pyan *an, const ex *target, const pv *v, const ex *rhs, uint32_t col);
static void fallback_scan(pyan *an, size_t from, size_t to);
static void analyse_payload(pyan *an, const pv *code, uint32_t line, const char *what);

static const char *describe_how(pyan *an, const struct ex *callee, const pv *f, const char *cq);

static ex ex_here(pyan *an)
{
    ex e;
    memset(&e, 0, sizeof(e));
    const py_token *t = peek(an, 0);
    e.v = &pv_unknown;
    e.start = e.end = t->start;
    e.line = t->line;
    return e;
}

static size_t prev_end(pyan *an)
{
    pline *pl = an->pl;
    return pl->i ? pl->t[pl->i - 1].end : (pl->n ? pl->t[0].start : 0);
}

static bool enter(pyan *an)
{
    if (an->depth >= an->max_depth) {
        an->limit_depth = true;
        return false;
    }
    an->depth++;
    return true;
}

static void leave(pyan *an)
{
    an->depth--;
}

static bool can_start_expr(pyan *an, const py_token *t)
{
    if (t->type == PY_TOK_NUMBER || t->type == PY_TOK_STRING)
        return true;
    if (t->type == PY_TOK_NAME) {
        if (!tok_is_keyword(an, t))
            return true;
        return is_kw(an, t, "None") || is_kw(an, t, "True") || is_kw(an, t, "False") ||
               is_kw(an, t, "lambda") || is_kw(an, t, "not") || is_kw(an, t, "await") ||
               is_kw(an, t, "yield");
    }
    if (t->type == PY_TOK_OP) {
        static const char *const starts[] = {"(", "[", "{", "-", "+", "~", "*", "**", "...", NULL};
        for (int i = 0; starts[i]; i++)
            if (is_op(an, t, starts[i]))
                return true;
    }
    return false;
}

/* ---- names ---- */

static bool is_tracked_builtin(const char *name)
{
    for (int i = 0; tracked_builtins[i]; i++)
        if (strcmp(tracked_builtins[i], name) == 0)
            return true;
    return false;
}

/* A bare name: bound in the file, reached by `from m import *`, a builtin,
 * or unknown (a local variable, a parameter). */
static const pv *resolve_bare(pyan *an, const char *name)
{
    if (!name)
        return &pv_unknown;
    const pv *v = sym_get(an, name);
    if (v)
        return v;
    for (size_t i = 0; i < an->nstar; i++) {
        const char *q = qual_join(an, an->star[i], ".", name);
        if (q && policy_find(canonical_name(&an->scratch, q)))
            return mk_name(an, PV_NAME, canonical_name(&an->scratch, q), 0);
    }
    if (strcmp(name, "__builtins__") == 0)
        return mk_name(an, PV_NS, "builtins", 0);
    if (is_tracked_builtin(name))
        return mk_name(an, PV_NAME, qual_join(an, "builtins", ".", name), 0);
    if (strcmp(name, "get_ipython") == 0)
        return mk_name(an, PV_NAME, "IPython.get_ipython", 0);
    return &pv_unknown;
}

static bool is_dict_method(const char *name)
{
    static const char *const m[] = {"get", "__getitem__", "pop", "setdefault", "update", "items",
                                    "keys", "values", "__setitem__", "copy", NULL};
    for (int i = 0; m[i]; i++)
        if (strcmp(m[i], name) == 0)
            return true;
    return false;
}

static const char *const introspection_attrs[] = {
    "__globals__", "__subclasses__", "__builtins__", "func_globals", "f_globals", "f_builtins",
    "f_locals", "gi_frame", "tb_frame", "cr_frame", NULL,
};

/* `v.name` */
static const pv *attr_of(pyan *an, const pv *v, const char *name, const ex *e)
{
    if (!name)
        return &pv_unknown;
    for (int i = 0; introspection_attrs[i]; i++)
        if (strcmp(name, introspection_attrs[i]) == 0) {
            if (e)
                py_report(an, e->line, CAT_INTROSPECT, NULL, e->start, prev_end(an),
                          "attribute %s", name);
            if (strcmp(name, "__globals__") == 0 || strcmp(name, "f_globals") == 0 ||
                strcmp(name, "func_globals") == 0)
                return mk_name(an, PV_NS, "", PVF_GETATTR);
            if (strcmp(name, "__builtins__") == 0 || strcmp(name, "f_builtins") == 0)
                return mk_name(an, PV_NS, "builtins", PVF_GETATTR);
            return &pv_unknown;
        }
    if (strcmp(name, "__call__") == 0 && v->kind == PV_NAME)
        return v;
    if (strcmp(name, "__dict__") == 0)
        return pv_is_name(v) && *v->qual ? mk_name(an, PV_NS, v->qual, PVF_GETATTR) : &pv_unknown;
    switch (v->kind) {
    case PV_NAME:
        return mk_name(an, PV_NAME, qual_join(an, v->qual, ".", name),
                       v->flags & (PVF_GETATTR | PVF_COMPUTED | PVF_DYNIMPORT));
    case PV_NS:
        if (strcmp(v->qual, "builtins") == 0 && !is_dict_method(name))
            return mk_name(an, PV_NAME, qual_join(an, "builtins", ".", name), v->flags);
        {
            pv *b = (pv *)mk_name(an, PV_BOUND, qual_join(an, "dict", ".", name), 0);
            if (b != &pv_unknown)
                b->recv = v;
            return b;
        }
    case PV_INST:
        if (strcmp(v->qual, "pathlib.Path") == 0 &&
            (strcmp(name, "parent") == 0 || strcmp(name, "parents") == 0))
            return mk_name(an, PV_INST, "pathlib.Path", v->flags & PVF_DATA);
        /* fall through */
    case PV_BOUND: {
        const char *q = v->kind == PV_INST ? qual_join(an, v->qual, "().", name)
                                           : qual_join(an, v->qual, ".", name);
        pv *b = (pv *)mk_name(an, PV_BOUND, q, v->flags & PVF_DATA);
        if (b != &pv_unknown)
            b->recv = v;
        return b;
    }
    case PV_STR: {
        pv *b = (pv *)mk_name(an, PV_BOUND, qual_join(an, v->bytes ? "bytes" : "str", ".", name),
                              v->flags & PVF_DATA);
        if (b != &pv_unknown)
            b->recv = v;
        return b;
    }
    default:
        return v->flags ? mk_flags(an, PV_UNKNOWN, v->flags & (PVF_NET | PVF_DECODED))
                        : &pv_unknown;
    }
}

static const pv *env_value(pyan *an, const pv *key)
{
    static const char *const home_vars[] = {"HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA",
                                            "XDG_CONFIG_HOME", "XDG_DATA_HOME", NULL};
    if (key && key->kind == PV_STR)
        for (int i = 0; home_vars[i]; i++)
            if (key->n == strlen(home_vars[i]) && memcmp(key->s, home_vars[i], key->n) == 0)
                return mk_flags(an, PV_UNKNOWN, PVF_HOME | PVF_ABS);
    return &pv_unknown;
}

static const char *pv_cstr(pyan *an, const pv *v)
{
    if (!v || v->kind != PV_STR || memchr(v->s, 0, v->n))
        return NULL;
    return arena_strndup(&an->scratch, (const char *)v->s, v->n);
}

/* `base[index]` */
static const pv *subscript_of(pyan *an, const pv *base, const subscr *sub, const ex *e)
{
    const pv *idx = sub->index.v;
    if (sub->slice) {
        if (base->kind != PV_STR)
            return mk_flags(an, PV_UNKNOWN, base->flags & (PVF_NET | PVF_DECODED));
        int64_t n = (int64_t)base->n, lo = 0, hi = n, step = 1;
        if (sub->step) {
            if (sub->step->kind != PV_INT)
                return mk_flags(an, PV_UNKNOWN, base->flags & (PVF_NET | PVF_DECODED));
            step = sub->step->i;
        }
        if (step == -1 && !sub->lo && !sub->hi) {
            uint8_t *r = arena_alloc(&an->scratch, base->n ? base->n : 1);
            if (!r)
                return &pv_unknown;
            /* reverse by code point for text, by byte for bytes */
            size_t o = base->n;
            for (size_t i = 0; i < base->n;) {
                size_t k = base->bytes ? 1 : ms_utf8_seq_len(base->s + i, base->n - i);
                if (k == 0)
                    k = 1;
                o -= k;
                memcpy(r + o, base->s + i, k);
                i += k;
            }
            return mk_str(an, r, base->n, base->bytes, base->flags & (PVF_NET | PVF_DECODED),
                          (uint16_t)(base->dec | DEC_REVERSE));
        }
        if (step != 1 || (sub->lo && sub->lo->kind != PV_INT) ||
            (sub->hi && sub->hi->kind != PV_INT))
            return mk_flags(an, PV_UNKNOWN, base->flags & (PVF_NET | PVF_DECODED));
        if (sub->lo)
            lo = sub->lo->i < 0 ? n + sub->lo->i : sub->lo->i;
        if (sub->hi)
            hi = sub->hi->i < 0 ? n + sub->hi->i : sub->hi->i;
        lo = lo < 0 ? 0 : lo > n ? n : lo;
        hi = hi < lo ? lo : hi > n ? n : hi;
        return mk_str(an, base->s + lo, (size_t)(hi - lo), base->bytes,
                      base->flags & (PVF_NET | PVF_DECODED), base->dec);
    }
    switch (base->kind) {
    case PV_SEQ:
        if (idx->kind == PV_INT) {
            int64_t i = idx->i < 0 ? (int64_t)base->nitems + idx->i : idx->i;
            if (i >= 0 && i < (int64_t)base->nitems)
                return base->items[i];
        }
        return &pv_unknown;
    case PV_DICT:
        for (uint32_t i = 0; i + 1 < base->nitems; i += 2) {
            const pv *k = base->items[i];
            if (k->kind == PV_STR && idx->kind == PV_STR && k->n == idx->n &&
                memcmp(k->s, idx->s, k->n) == 0)
                return base->items[i + 1];
            if (k->kind == PV_INT && idx->kind == PV_INT && k->i == idx->i)
                return base->items[i + 1];
        }
        return &pv_unknown;
    case PV_STR:
        if (idx->kind == PV_INT && !base->bytes) {
            int64_t i = idx->i < 0 ? (int64_t)base->n + idx->i : idx->i;
            if (i >= 0 && i < (int64_t)base->n)
                return mk_str(an, base->s + i, 1, false, 0, base->dec);
        }
        return &pv_unknown;
    case PV_NS: {
        const char *key = pv_cstr(an, idx);
        if (key) {
            const pv *r = *base->qual ? mk_name(an, PV_NAME, qual_join(an, base->qual, ".", key),
                                                PVF_GETATTR)
                                      : resolve_bare(an, key);
            if (!sub->index.literal && r->kind == PV_NAME) {
                pv *c = pv_new(an, PV_NAME);
                if (c) {
                    *c = *r;
                    c->flags |= PVF_COMPUTED;
                    return c;
                }
            }
            return r;
        }
        if (e && (!*base->qual || module_is_dangerous(base->qual)))
            py_report(an, e->line, CAT_GADGET, NULL, e->start, prev_end(an),
                      "a %s namespace indexed by a name computed at run time",
                      *base->qual ? base->qual : "module's global");
        return mk_flags(an, PV_UNKNOWN, PVF_COMPUTED);
    }
    case PV_NAME:
        if (strcmp(base->qual, "sys.modules") == 0) {
            const char *key = pv_cstr(an, idx);
            if (key)
                return mk_name(an, PV_NAME, canonical_name(&an->scratch, key), PVF_DYNIMPORT);
            if (e)
                py_report(an, e->line, CAT_GADGET, NULL, e->start, prev_end(an),
                          "sys.modules indexed by a name computed at run time");
            return &pv_unknown;
        }
        if (strcmp(base->qual, "os.environ") == 0)
            return env_value(an, idx);
        return &pv_unknown;
    default:
        return base->flags ? mk_flags(an, PV_UNKNOWN, base->flags & (PVF_NET | PVF_DECODED))
                           : &pv_unknown;
    }
}

/* ---- binary operators ---- */

static const pv *concat_values(pyan *an, const pv *a, const pv *b)
{
    if (a->kind == PV_STR && b->kind == PV_STR && a->bytes == b->bytes) {
        if (a->n + b->n > MAX_CONST_STR)
            return mk_flags(an, PV_UNKNOWN, a->flags & (PVF_ABS | PVF_HOME));
        uint8_t *s = arena_alloc(&an->scratch, a->n + b->n + 1);
        if (!s)
            return &pv_unknown;
        memcpy(s, a->s, a->n);
        memcpy(s + a->n, b->s, b->n);
        return mk_str(an, s, a->n + b->n, a->bytes,
                      (uint16_t)((a->flags | b->flags) & (PVF_NET | PVF_DECODED)),
                      (uint16_t)(a->dec | b->dec | DEC_JOIN));
    }
    uint16_t f = (uint16_t)(a->flags & (PVF_ABS | PVF_HOME));
    f |= (uint16_t)((a->flags | b->flags) & (PVF_DOTDOT | PVF_NET | PVF_DECODED));
    if (a->kind == PV_INST && strcmp(a->qual, "pathlib.Path") == 0)
        return mk_name(an, PV_INST, "pathlib.Path", f);
    return mk_flags(an, PV_UNKNOWN, f);
}

/* os.path.join / Path / "a" "b": a later absolute part replaces the start */
static uint16_t join_flags(const pv *const *parts, size_t n)
{
    uint16_t f = 0;
    for (size_t i = 0; i < n; i++) {
        const pv *p = parts[i];
        if (p->kind == PV_STR && (p->flags & (PVF_ABS | PVF_HOME)))
            f = (uint16_t)(f & ~(PVF_ABS | PVF_HOME));
        if (i == 0 || (p->kind == PV_STR && (p->flags & (PVF_ABS | PVF_HOME))))
            f |= (uint16_t)(p->flags & (PVF_ABS | PVF_HOME));
        f |= (uint16_t)(p->flags & (PVF_DOTDOT | PVF_NET | PVF_DECODED));
    }
    return f;
}

static const pv *binop_value(pyan *an, const char *op, const pv *a, const pv *b)
{
    if (strcmp(op, "+") == 0)
        return concat_values(an, a, b);
    if (strcmp(op, "%") == 0) {
        uint16_t f = (uint16_t)((a->flags | b->flags) & (PVF_DOTDOT | PVF_NET | PVF_DECODED));
        if (a->kind == PV_STR && a->n >= 2 && a->s[0] == '%') {
            const pv *first = b->kind == PV_SEQ && b->nitems ? b->items[0] : b;
            f |= (uint16_t)(first->flags & (PVF_ABS | PVF_HOME));
        } else {
            f |= (uint16_t)(a->flags & (PVF_ABS | PVF_HOME));
        }
        return mk_flags(an, PV_UNKNOWN, f);
    }
    if (strcmp(op, "/") == 0 && ((a->kind == PV_INST && strcmp(a->qual, "pathlib.Path") == 0) ||
                                 (a->flags & PVF_PATHS))) {
        const pv *parts[2] = {a, b};
        return mk_name(an, PV_INST, "pathlib.Path", join_flags(parts, 2));
    }
    if (strcmp(op, "*") == 0 || strcmp(op, "or") == 0 || strcmp(op, "and") == 0) {
        /* keep the more telling operand (x = a or b) */
        if (strcmp(op, "*") != 0) {
            if (pv_is_name(b) && !pv_is_name(a))
                return b;
            if (a->kind == PV_UNKNOWN && !a->flags)
                return b;
            return a;
        }
    }
    return mk_flags(an, PV_UNKNOWN, (uint16_t)((a->flags | b->flags) & (PVF_NET | PVF_DECODED)));
}

/* ---- sequences of expressions ---- */

static void ex_push(pyan *an, ex **elts, uint32_t *n, uint32_t *cap, const ex *e)
{
    if (*n >= MAX_SEQ)
        return;
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 4;
        ex *ne = arena_alloc(&an->scratch, nc * sizeof(*ne));
        if (!ne)
            return;
        if (*n)
            memcpy(ne, *elts, *n * sizeof(*ne));
        *elts = ne;
        *cap = nc;
    }
    (*elts)[(*n)++] = *e;
}

static const pv *seq_value(pyan *an, const ex *elts, uint32_t n, uint8_t kind)
{
    pv *v = pv_new(an, kind);
    if (!v)
        return &pv_unknown;
    if (n) {
        const pv **items = arena_alloc(&an->scratch, n * sizeof(*items));
        if (!items)
            return &pv_unknown;
        for (uint32_t i = 0; i < n; i++)
            items[i] = elts[i].v;
        v->items = items;
        v->nitems = n;
    }
    return v;
}

enum { COMP_LEVELS = 2 * PY_LEX_MAX_BRACKETS + 16 };

/* Builds the comprehension index of the current line in one right-to-left
 * pass: for each token, the first ',' / closing bracket / end of line at
 * its bracket level (where its element ends) and the first `for` before
 * that. Returns false when memory ran out. */
static bool comp_index(pyan *an)
{
    pline *pl = an->pl;
    if (pl->cready)
        return true;
    if (pl->ccap < pl->n) {
        size_t *a = realloc(pl->cstop, pl->n * sizeof(*a));
        if (a)
            pl->cstop = a;
        size_t *b = a ? realloc(pl->cfor, pl->n * sizeof(*b)) : NULL;
        if (b)
            pl->cfor = b;
        if (!a || !b) {
            an->nomem = true;
            return false;
        }
        pl->ccap = pl->n;
    }
    static const size_t none = (size_t)-1;
    size_t next_sep[COMP_LEVELS], next_for[COMP_LEVELS];
    for (size_t k = 0; k < COMP_LEVELS; k++) {
        next_sep[k] = pl->n;
        next_for[k] = none;
    }
    size_t d = COMP_LEVELS / 2;
    for (size_t i = pl->n; i-- > 0;) {
        const py_token *t = &pl->t[i];
        bool closer = is_op(an, t, ")") || is_op(an, t, "]") || is_op(an, t, "}");
        bool opener = is_op(an, t, "(") || is_op(an, t, "[") || is_op(an, t, "{");
        if (closer && d + 1 < COMP_LEVELS)
            d++; /* moving left into a bracket's content */
        if (t->type == PY_TOK_NEWLINE || closer || is_op(an, t, ",")) {
            next_sep[d] = i;
            next_for[d] = none;
            pl->cstop[i] = i;
            pl->cfor[i] = none;
            continue;
        }
        if (opener && d > 0)
            d--; /* leaving it: the opener starts an element outside */
        if (t->type == PY_TOK_NAME && is_kw(an, t, "for"))
            next_for[d] = i > 0 && is_kw(an, &pl->t[i - 1], "async") ? i - 1 : i;
        pl->cstop[i] = next_sep[d];
        pl->cfor[i] = next_for[d];
    }
    pl->cready = true;
    return true;
}

/* Index of a `for` (or `async for`) at bracket depth 0 before the end of
 * the current element (a ',' at depth 0 or a closing bracket), or
 * (size_t)-1. Constant time after the line's index is built. */
static size_t find_comp_for(pyan *an)
{
    pline *pl = an->pl;
    if (pl->i >= pl->n || !comp_index(an))
        return (size_t)-1;
    size_t f = pl->cfor[pl->i];
    return f != (size_t)-1 && f >= pl->i ? f : (size_t)-1;
}

/* Targets of `for ... in`, `with ... as`, `except ... as`: primaries and
 * starred primaries separated by commas. */
static ex parse_target_list(pyan *an)
{
    an->target_mode++;
    ex first = ex_here(an);
    ex *elts = NULL;
    uint32_t n = 0, cap = 0;
    bool tuple = false;
    for (;;) {
        bool star = false;
        if (is_op(an, peek(an, 0), "*")) {
            advance(an);
            star = true;
        }
        size_t before = an->pl->i;
        ex e = parse_primary(an);
        if (an->pl->i == before)
            break;
        if (star)
            e.lv = LV_STAR;
        if (n == 0)
            first = e;
        ex_push(an, &elts, &n, &cap, &e);
        if (!is_op(an, peek(an, 0), ","))
            break;
        advance(an);
        tuple = true;
        if (!can_start_expr(an, peek(an, 0)))
            break;
    }
    an->target_mode--;
    if (!tuple)
        return first;
    ex t = first;
    t.lv = LV_SEQ;
    t.elts = elts;
    t.nelts = n;
    t.v = seq_value(an, elts, n, PV_SEQ);
    t.end = prev_end(an);
    return t;
}

/* The value a loop variable takes: for a literal sequence of modules the
 * most dangerous element (the walker does not unroll loops). */
static const pv *loop_value(const pv *iter)
{
    if (iter->kind != PV_SEQ)
        return iter->flags & (PVF_NET | PVF_DECODED) ? iter : &pv_unknown;
    const pv *best = &pv_unknown;
    for (uint32_t i = 0; i < iter->nitems; i++) {
        const pv *it = iter->items[i];
        if (pv_is_name(it) && (module_is_dangerous(it->qual) || policy_find(it->qual)))
            return it;
        if (best == &pv_unknown && it->kind != PV_UNKNOWN)
            best = it;
    }
    return best;
}

/* `for x in it [if c]...` clauses of a comprehension; binds the targets. */
static void parse_comp_clauses(pyan *an)
{
    if (an->comp_nest >= MAX_COMP_NEST) {
        an->limit_depth = true;
        return;
    }
    an->comp_nest++;
    for (;;) {
        const py_token *t = peek(an, 0);
        if (is_kw(an, t, "async") && is_kw(an, peek(an, 1), "for"))
            advance(an), t = peek(an, 0);
        if (is_kw(an, t, "for")) {
            advance(an);
            ex target = parse_target_list(an);
            if (is_kw(an, peek(an, 0), "in"))
                advance(an);
            ex iter = parse_or(an);
            bind_target(an, &target, loop_value(iter.v), NULL, 1);
        } else if (is_kw(an, t, "if")) {
            advance(an);
            (void)parse_or(an);
        } else {
            break;
        }
    }
    an->comp_nest--;
}

/* One element that may be followed by comprehension clauses: the clauses
 * are walked first (they bind the names the element uses), then the
 * element, then parsing resumes after the clauses. `dict` parses `k: v`. */
static ex parse_element(pyan *an, bool dict, bool *was_comp, ex *value_out)
{
    size_t forpos = find_comp_for(an);
    *was_comp = false;
    if (forpos == (size_t)-1 || forpos == an->pl->i) {
        ex e = parse_expr(an);
        if (dict && is_op(an, peek(an, 0), ":")) {
            advance(an);
            ex val = parse_expr(an);
            if (value_out)
                *value_out = val;
        }
        return e;
    }
    pline *pl = an->pl;
    size_t elt = pl->i;
    pl->i = forpos;
    parse_comp_clauses(an);
    size_t after = pl->i;
    pl->i = elt;
    ex e = parse_expr(an);
    if (dict && is_op(an, peek(an, 0), ":")) {
        advance(an);
        ex val = parse_expr(an);
        if (value_out)
            *value_out = val;
    }
    if (pl->i < forpos)
        fallback_scan(an, pl->i, forpos);
    pl->i = after;
    *was_comp = true;
    return e;
}

/* ---- parameters (def, lambda) ---- */

static void parse_params(pyan *an, const char *closer, bool annotations)
{
    for (;;) {
        const py_token *t = peek(an, 0);
        if (t->type == PY_TOK_END || t->type == PY_TOK_NEWLINE || is_op(an, t, closer))
            return;
        size_t before = an->pl->i;
        if (is_op(an, t, "*") || is_op(an, t, "**") || is_op(an, t, "/") || is_op(an, t, ","))
            advance(an);
        else if (t->type == PY_TOK_NAME)
            advance(an);
        if (annotations && is_op(an, peek(an, 0), ":")) {
            advance(an);
            (void)parse_expr(an);
        }
        if (is_op(an, peek(an, 0), "=")) {
            advance(an);
            (void)parse_expr(an);
        }
        if (an->pl->i == before)
            advance(an); /* something else: skip it */
    }
}

static ex parse_lambda(pyan *an)
{
    ex e = ex_here(an);
    if (!enter(an))
        return e;
    advance(an); /* lambda */
    parse_params(an, ":", false);
    if (is_op(an, peek(an, 0), ":"))
        advance(an);
    (void)parse_expr(an);
    leave(an);
    e.v = mk_flags(an, PV_LOCAL, 0);
    e.end = prev_end(an);
    return e;
}

/* ---- atoms ---- */

static int64_t parse_int_token(pyan *an, const py_token *t, bool *ok)
{
    const uint8_t *s = an->src + t->start;
    size_t n = t->end - t->start, i = 0;
    int base = 10;
    *ok = false;
    if (n >= 2 && s[0] == '0' && strchr("xXoObB", s[1]) && s[1]) {
        base = (s[1] | 32) == 'x' ? 16 : (s[1] | 32) == 'o' ? 8 : 2;
        i = 2;
    }
    uint64_t v = 0;
    bool any = false;
    for (; i < n; i++) {
        if (s[i] == '_')
            continue;
        int d = hexval(s[i]);
        if (d < 0 || d >= base)
            return 0; /* a float, complex or something else */
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base || v * (uint64_t)base + (uint64_t)d > INT64_MAX)
            return 0;
        v = v * (uint64_t)base + (uint64_t)d;
        any = true;
    }
    *ok = any;
    return (int64_t)v;
}

static ex parse_bracketed(pyan *an, const char *close, uint8_t kind)
{
    ex e = ex_here(an);
    advance(an); /* the opener */
    ex *elts = NULL;
    uint32_t n = 0, cap = 0;
    bool tuple = kind != PV_UNKNOWN, comp = false, dict = false;
    ex single = e;
    while (!is_op(an, peek(an, 0), close)) {
        const py_token *t = peek(an, 0);
        if (t->type == PY_TOK_END || t->type == PY_TOK_NEWLINE)
            break;
        size_t before = an->pl->i;
        if (is_op(an, t, "**")) { /* {**d} */
            advance(an);
            (void)parse_or(an);
            dict = true;
        } else if (kind == PV_UNKNOWN && is_kw(an, t, "yield")) {
            advance(an);
            if (is_kw(an, peek(an, 0), "from"))
                advance(an);
            if (can_start_expr(an, peek(an, 0)))
                (void)parse_exprlist(an);
        } else {
            bool star = false;
            if (is_op(an, t, "*")) {
                advance(an);
                star = true;
            }
            ex val = ex_here(an);
            bool was_comp = false;
            ex el = parse_element(an, kind == PV_DICT, &was_comp, &val);
            if (star)
                el.lv = LV_STAR;
            comp |= was_comp;
            if (kind == PV_DICT && val.start != el.start) {
                dict = true;
                ex_push(an, &elts, &n, &cap, &el);
                ex_push(an, &elts, &n, &cap, &val);
            } else {
                ex_push(an, &elts, &n, &cap, &el);
            }
            if (n == 1)
                single = el;
        }
        if (is_op(an, peek(an, 0), ",")) {
            advance(an);
            tuple = true;
        } else if (!is_op(an, peek(an, 0), close) && an->pl->i == before) {
            advance(an);
        }
    }
    if (is_op(an, peek(an, 0), close))
        advance(an);
    if (kind == PV_UNKNOWN && !tuple && !comp && n == 1) {
        /* a parenthesised expression keeps its value and target shape */
        single.start = e.start;
        single.end = prev_end(an);
        return single;
    }
    e.end = prev_end(an);
    if (comp) {
        e.v = &pv_unknown;
        return e;
    }
    e.elts = elts;
    e.nelts = n;
    e.lv = LV_SEQ;
    if (kind == PV_DICT && dict) {
        e.lv = LV_NONE;
        e.v = seq_value(an, elts, n, PV_DICT);
    } else {
        e.v = seq_value(an, elts, n, PV_SEQ);
    }
    return e;
}

static ex parse_atom(pyan *an)
{
    const py_token *t = peek(an, 0);
    ex e = ex_here(an);
    switch (t->type) {
    case PY_TOK_NAME:
        if (tok_is_keyword(an, t)) {
            if (is_kw(an, t, "None") || is_kw(an, t, "False") || is_kw(an, t, "True")) {
                advance(an);
                e.v = mk_const(an, is_kw(an, t, "True"));
            } else if (is_kw(an, t, "lambda")) {
                return parse_lambda(an);
            }
            break;
        }
        advance(an);
        e.dotted = tok_name(an, t, &e.folded);
        e.v = resolve_bare(an, e.dotted);
        e.lv = LV_NAME;
        break;
    case PY_TOK_NUMBER: {
        advance(an);
        bool ok;
        int64_t v = parse_int_token(an, t, &ok);
        e.v = ok ? mk_int(an, v) : mk_const(an, true);
        break;
    }
    case PY_TOK_STRING: {
        advance(an);
        const pv *v = string_value(an, t);
        e.literal = !(t->str_flags & (PY_STR_FORMAT | PY_STR_TEMPLATE));
        if (peek(an, 0)->type == PY_TOK_STRING) {
            /* implicit concatenation: one buffer for the whole run */
            ms_strbuf sb;
            ms_strbuf_init(&sb, MAX_CONST_STR);
            bool constant = v->kind == PV_STR, bytes = v->bytes;
            uint16_t flags = (uint16_t)(v->flags & (PVF_ABS | PVF_HOME));
            uint16_t more = (uint16_t)(v->flags & (PVF_DOTDOT | PVF_NET | PVF_DECODED));
            if (constant)
                ms_strbuf_append(&sb, (const char *)v->s, v->n);
            while (peek(an, 0)->type == PY_TOK_STRING) {
                const py_token *u = advance(an);
                const pv *w = string_value(an, u);
                more |= (uint16_t)(w->flags & (PVF_DOTDOT | PVF_NET | PVF_DECODED));
                if (w->kind != PV_STR || w->bytes != bytes)
                    constant = false;
                else if (constant)
                    ms_strbuf_append(&sb, (const char *)w->s, w->n);
            }
            e.literal = false;
            if (constant && !sb.truncated)
                v = mk_str(an, (const uint8_t *)(sb.data ? sb.data : ""), sb.len, bytes,
                           (uint16_t)(flags | more), 0);
            else
                v = mk_flags(an, PV_UNKNOWN, (uint16_t)(flags | more));
            ms_strbuf_free(&sb);
        }
        e.v = v;
        break;
    }
    case PY_TOK_OP:
        if (is_op(an, t, "("))
            return parse_bracketed(an, ")", PV_UNKNOWN);
        if (is_op(an, t, "["))
            return parse_bracketed(an, "]", PV_SEQ);
        if (is_op(an, t, "{"))
            return parse_bracketed(an, "}", PV_DICT);
        if (is_op(an, t, "...")) {
            advance(an);
            e.v = mk_const(an, true);
        }
        break;
    default:
        break;
    }
    e.end = prev_end(an);
    return e;
}

/* ---- primaries: atom followed by .name, (args), [index] ---- */

static subscr parse_subscript(pyan *an)
{
    subscr s;
    memset(&s, 0, sizeof(s));
    s.index = ex_here(an);
    unsigned saved = an->target_mode;
    an->target_mode = 0;
    bool multi = false;
    while (!is_op(an, peek(an, 0), "]")) {
        const py_token *t = peek(an, 0);
        if (t->type == PY_TOK_END || t->type == PY_TOK_NEWLINE)
            break;
        size_t before = an->pl->i;
        const pv *parts[3] = {NULL, NULL, NULL};
        int k = 0;
        bool slice = false;
        ex first = ex_here(an);
        for (;;) {
            if (!is_op(an, peek(an, 0), ":") && !is_op(an, peek(an, 0), ",") &&
                !is_op(an, peek(an, 0), "]")) {
                ex x = parse_expr(an);
                if (k == 0)
                    first = x;
                parts[k] = x.v;
            }
            if (is_op(an, peek(an, 0), ":") && k < 2) {
                advance(an);
                slice = true;
                k++;
                continue;
            }
            break;
        }
        if (!multi) {
            s.slice = slice;
            s.lo = parts[0];
            s.hi = parts[1];
            s.step = parts[2];
            s.index = first;
        }
        if (is_op(an, peek(an, 0), ",")) {
            advance(an);
            multi = true;
        } else if (an->pl->i == before) {
            advance(an);
        }
    }
    if (multi) {
        s.slice = false;
        s.index.v = &pv_unknown;
    }
    an->target_mode = saved;
    if (is_op(an, peek(an, 0), "]"))
        advance(an);
    return s;
}

/* A dangerous callable used as a value (stored, passed on, returned): the
 * call happens elsewhere, possibly out of sight (a thread, a callback). */
static void report_reference(pyan *an, const ex *e)
{
    if (an->target_mode || !pv_is_name(e->v) || e->v->kind != PV_NAME)
        return;
    const char *cq = canonical_name(&an->scratch, e->v->qual);
    const py_rule *r = policy_find_ref(cq);
    if (!r || !(r->special == SP_NONE || r->special == SP_EVAL || r->special == SP_IMPORT))
        return;
    /* a reference is weaker evidence than a call: the first one per name */
    if (dedupe_seen(an, 0, CAT_COUNT, cq))
        return;
    py_report(an, e->line, (category)r->cat, cq, e->start, e->end,
              "%s; referenced without being called here: it is stored or passed on, and "
              "runs wherever it is called",
              describe_how(an, e, e->v, cq));
}

static ex parse_primary(pyan *an)
{
    size_t before = an->pl->i;
    ex e = parse_atom(an);
    if (an->pl->i == before)
        return e;
    for (;;) {
        const py_token *t = peek(an, 0);
        if (is_op(an, t, ".")) {
            advance(an);
            const py_token *nt = peek(an, 0);
            if (nt->type != PY_TOK_NAME)
                break;
            advance(an);
            bool folded = false;
            const char *name = tok_name(an, nt, &folded);
            e.folded |= folded;
            const char *nd = e.dotted && name ? qual_join(an, e.dotted, ".", name) : NULL;
            const pv *bound = nd ? sym_get(an, nd) : NULL;
            e.base = e.v;
            e.base_dotted = e.dotted;
            e.attr = name;
            e.lv = LV_ATTR;
            e.end = prev_end(an);
            e.v = bound ? bound : attr_of(an, e.v, name, &e);
            e.dotted = nd;
        } else if (is_op(an, t, "(")) {
            advance(an);
            callargs ca = {NULL, 0, 0};
            parse_call_args(an, &ca, true);
            size_t end = prev_end(an);
            e.v = eval_call(an, &e, &ca, e.start, end);
            e.lv = LV_NONE;
            e.dotted = NULL;
            e.literal = false;
            e.end = end;
        } else if (is_op(an, t, "[")) {
            advance(an);
            subscr s = parse_subscript(an);
            e.end = prev_end(an);
            e.base = e.v;
            e.index = s.index.v;
            e.lv = LV_SUBSCR;
            e.v = subscript_of(an, e.v, &s, &e);
            e.dotted = NULL;
            e.literal = false;
        } else {
            break;
        }
    }
    e.end = prev_end(an);
    report_reference(an, &e);
    return e;
}

/* ---- operators ---- */

static int binop_prec(pyan *an, const py_token *t, int *ntok, const char **op)
{
    *ntok = 1;
    if (t->type == PY_TOK_NAME) {
        *op = "cmp";
        if (is_kw(an, t, "in"))
            return 4;
        if (is_kw(an, t, "is")) {
            if (is_kw(an, peek(an, 1), "not"))
                *ntok = 2;
            return 4;
        }
        if (is_kw(an, t, "not") && is_kw(an, peek(an, 1), "in")) {
            *ntok = 2;
            return 4;
        }
        return -1;
    }
    if (t->type != PY_TOK_OP)
        return -1;
    static const struct {
        const char *op;
        int prec;
    } table[] = {{"<", 4},  {">", 4},  {"==", 4}, {">=", 4}, {"<=", 4}, {"!=", 4}, {"<>", 4},
                 {"|", 5},  {"^", 6},  {"&", 7},  {"<<", 8}, {">>", 8}, {"+", 9},  {"-", 9},
                 {"*", 10}, {"/", 10}, {"//", 10}, {"%", 10}, {"@", 10}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (is_op(an, t, table[i].op)) {
            *op = table[i].op;
            return table[i].prec;
        }
    return -1;
}

static ex parse_unary(pyan *an);

static ex parse_power(pyan *an)
{
    if (is_kw(an, peek(an, 0), "await"))
        advance(an);
    ex e = parse_primary(an);
    if (is_op(an, peek(an, 0), "**")) {
        advance(an);
        ex r = parse_unary(an);
        e.v = mk_flags(an, PV_UNKNOWN, 0);
        e.lv = LV_NONE;
        e.end = r.end;
        e.dotted = NULL;
    }
    return e;
}

static ex parse_unary(pyan *an)
{
    const py_token *t = peek(an, 0);
    if (is_op(an, t, "-") || is_op(an, t, "+") || is_op(an, t, "~")) {
        ex e = ex_here(an);
        if (!enter(an))
            return e;
        advance(an);
        ex r = parse_unary(an);
        leave(an);
        if (is_op(an, t, "-") && r.v->kind == PV_INT && r.v->i != INT64_MIN)
            e.v = mk_int(an, -r.v->i);
        else if (is_op(an, t, "+"))
            e.v = r.v;
        e.end = r.end;
        return e;
    }
    return parse_power(an);
}

/* Recursion is counted in parse_expr, parse_unary and parse_not: every
 * cycle through the grammar passes one of them (parse_binary only recurses
 * with a higher precedence). */
static ex parse_binary(pyan *an, int minprec)
{
    ex l = parse_unary(an);
    for (;;) {
        int ntok;
        const char *op = NULL;
        int prec = binop_prec(an, peek(an, 0), &ntok, &op);
        if (prec < 0 || prec < minprec)
            break;
        for (int i = 0; i < ntok; i++)
            advance(an);
        ex r = parse_binary(an, prec + 1);
        l.v = binop_value(an, op, l.v, r.v);
        l.lv = LV_NONE;
        l.dotted = NULL;
        l.literal = false;
        l.end = r.end;
    }
    return l;
}

static ex parse_not(pyan *an)
{
    if (is_kw(an, peek(an, 0), "not")) {
        ex e = ex_here(an);
        if (!enter(an))
            return e;
        advance(an);
        ex r = parse_not(an);
        leave(an);
        e.v = mk_flags(an, PV_UNKNOWN, 0);
        e.end = r.end;
        return e;
    }
    return parse_binary(an, 4);
}

static ex parse_and(pyan *an)
{
    ex l = parse_not(an);
    while (is_kw(an, peek(an, 0), "and")) {
        advance(an);
        ex r = parse_not(an);
        l.v = binop_value(an, "and", l.v, r.v);
        l.lv = LV_NONE;
        l.dotted = NULL;
        l.end = r.end;
    }
    return l;
}

static ex parse_or(pyan *an)
{
    ex l = parse_and(an);
    while (is_kw(an, peek(an, 0), "or")) {
        advance(an);
        ex r = parse_and(an);
        l.v = binop_value(an, "or", l.v, r.v);
        l.lv = LV_NONE;
        l.dotted = NULL;
        l.end = r.end;
    }
    return l;
}

/* expression: lambda, `name := value`, `a if c else b` */
static ex parse_expr(pyan *an)
{
    const py_token *t = peek(an, 0);
    if (is_kw(an, t, "lambda"))
        return parse_lambda(an);
    ex e = ex_here(an);
    if (!enter(an))
        return e;
    if (t->type == PY_TOK_NAME && !tok_is_keyword(an, t) && is_op(an, peek(an, 1), ":=")) {
        advance(an);
        advance(an);
        const char *name = tok_name(an, t, NULL);
        ex v = parse_expr(an);
        sym_set(an, name, v.v);
        v.start = e.start;
        leave(an);
        return v;
    }
    e = parse_or(an);
    if (is_kw(an, peek(an, 0), "if")) {
        /* a conditional expression; in a comprehension's element the clauses
         * were cut off before, so an `if` here is always this form */
        size_t save = an->pl->i;
        advance(an);
        (void)parse_or(an);
        if (is_kw(an, peek(an, 0), "else")) {
            advance(an);
            ex alt = parse_expr(an);
            if (pv_is_name(alt.v) && !pv_is_name(e.v))
                e.v = alt.v;
            e.lv = LV_NONE;
            e.dotted = NULL;
            e.end = alt.end;
        } else {
            an->pl->i = save; /* a comprehension `if` clause: leave it */
        }
    }
    leave(an);
    return e;
}

/* expression list: `a, *b, c` (a tuple when there is a comma) */
static ex parse_exprlist(pyan *an)
{
    ex first = ex_here(an);
    ex *elts = NULL;
    uint32_t n = 0, cap = 0;
    bool tuple = false;
    for (;;) {
        bool star = false;
        if (is_op(an, peek(an, 0), "*")) {
            advance(an);
            star = true;
        }
        size_t before = an->pl->i;
        ex e = parse_expr(an);
        if (an->pl->i == before && !star)
            break;
        if (star)
            e.lv = LV_STAR;
        if (n == 0)
            first = e;
        ex_push(an, &elts, &n, &cap, &e);
        if (!is_op(an, peek(an, 0), ","))
            break;
        advance(an);
        tuple = true;
        if (!can_start_expr(an, peek(an, 0)))
            break;
    }
    if (!tuple)
        return first;
    ex t = first;
    t.lv = LV_SEQ;
    t.elts = elts;
    t.nelts = n;
    t.v = seq_value(an, elts, n, PV_SEQ);
    t.dotted = NULL;
    t.end = prev_end(an);
    return t;
}

/* ---- call arguments ---- */

static void carg_push(pyan *an, callargs *ca, const char *kw, const ex *e)
{
    if (ca->n >= 4096)
        return;
    if (ca->n == ca->cap) {
        uint32_t nc = ca->cap ? ca->cap * 2 : 4;
        carg *na = arena_alloc(&an->scratch, nc * sizeof(*na));
        if (!na)
            return;
        if (ca->n)
            memcpy(na, ca->a, ca->n * sizeof(*na));
        ca->a = na;
        ca->cap = nc;
    }
    ca->a[ca->n].kw = kw;
    ca->a[ca->n].e = *e;
    ca->n++;
}

/* After '(': arguments up to and including ')'. References in arguments are
 * reported unless `refs` is false (class bases). */
static void parse_call_args(pyan *an, callargs *ca, bool refs)
{
    unsigned saved = an->target_mode;
    an->target_mode = refs ? 0 : 1;
    for (;;) {
        const py_token *t = peek(an, 0);
        if (is_op(an, t, ")")) {
            advance(an);
            break;
        }
        if (t->type == PY_TOK_END || t->type == PY_TOK_NEWLINE)
            break;
        size_t before = an->pl->i;
        if (is_op(an, t, "*") || is_op(an, t, "**")) {
            const char *kind = is_op(an, t, "*") ? "*" : "**";
            advance(an);
            ex e = parse_expr(an);
            carg_push(an, ca, kind, &e);
        } else if (t->type == PY_TOK_NAME && !tok_is_keyword(an, t) &&
                   is_op(an, peek(an, 1), "=")) {
            const char *kw = tok_name(an, t, NULL);
            advance(an);
            advance(an);
            ex e = parse_expr(an);
            carg_push(an, ca, kw ? kw : "?", &e);
        } else {
            bool comp = false;
            ex e = parse_element(an, false, &comp, NULL);
            if (comp)
                e.v = &pv_unknown;
            carg_push(an, ca, NULL, &e);
        }
        if (is_op(an, peek(an, 0), ","))
            advance(an);
        else if (!is_op(an, peek(an, 0), ")") && an->pl->i == before)
            advance(an);
    }
    an->target_mode = saved;
}

static const ex *arg_get(const callargs *ca, int pos, const char *kw)
{
    if (kw)
        for (uint32_t i = 0; i < ca->n; i++)
            if (ca->a[i].kw && strcmp(ca->a[i].kw, kw) == 0)
                return &ca->a[i].e;
    int k = 0;
    for (uint32_t i = 0; i < ca->n && pos >= 0; i++) {
        if (ca->a[i].kw)
            continue;
        if (k++ == pos)
            return &ca->a[i].e;
    }
    return NULL;
}

/* ======================================================================
 * Static decoders for constant strings (what obfuscated payloads use)
 * ====================================================================== */

static int b64val(uint8_t c, bool urlsafe)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (urlsafe ? '-' : '+'))
        return 62;
    if (c == (urlsafe ? '_' : '/'))
        return 63;
    return -1;
}

/* base64 as binascii.a2b_base64 without strict mode: characters outside
 * the alphabet are skipped; decoding stops at padding. */
static const pv *decode_base64(pyan *an, const pv *in, bool urlsafe)
{
    uint8_t *out = arena_alloc(&an->scratch, in->n / 4 * 3 + 3);
    if (!out)
        return &pv_unknown;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (in->s[i] == '=')
            break;
        int v = b64val(in->s[i], urlsafe);
        if (v < 0)
            continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return mk_str(an, out, o, true, in->flags & PVF_NET, (uint16_t)(in->dec | DEC_BASE64));
}

static const pv *decode_base32(pyan *an, const pv *in)
{
    uint8_t *out = arena_alloc(&an->scratch, in->n / 8 * 5 + 5);
    if (!out)
        return &pv_unknown;
    size_t o = 0;
    uint64_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < in->n; i++) {
        uint8_t c = in->s[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= '2' && c <= '7')
            v = c - '2' + 26;
        else if (c == '=')
            break;
        else
            return mk_flags(an, PV_UNKNOWN, PVF_DECODED);
        acc = (acc << 5) | (uint64_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return mk_str(an, out, o, true, in->flags & PVF_NET, (uint16_t)(in->dec | DEC_BASE32));
}

/* bytes.fromhex / binascii.unhexlify (whitespace between bytes allowed) */
static const pv *decode_hex(pyan *an, const pv *in)
{
    uint8_t *out = arena_alloc(&an->scratch, in->n / 2 + 1);
    if (!out)
        return &pv_unknown;
    size_t o = 0;
    for (size_t i = 0; i < in->n;) {
        if (isspace(in->s[i])) {
            i++;
            continue;
        }
        if (i + 1 >= in->n || hexval(in->s[i]) < 0 || hexval(in->s[i + 1]) < 0)
            return mk_flags(an, PV_UNKNOWN, PVF_DECODED);
        out[o++] = (uint8_t)(hexval(in->s[i]) * 16 + hexval(in->s[i + 1]));
        i += 2;
    }
    return mk_str(an, out, o, true, in->flags & PVF_NET, (uint16_t)(in->dec | DEC_HEX));
}

static const pv *decode_rot13(pyan *an, const pv *in)
{
    uint8_t *out = arena_alloc(&an->scratch, in->n ? in->n : 1);
    if (!out)
        return &pv_unknown;
    for (size_t i = 0; i < in->n; i++) {
        uint8_t c = in->s[i];
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)('a' + (c - 'a' + 13) % 26);
        else if (c >= 'A' && c <= 'Z')
            c = (uint8_t)('A' + (c - 'A' + 13) % 26);
        out[i] = c;
    }
    return mk_str(an, out, in->n, in->bytes, in->flags & PVF_NET, (uint16_t)(in->dec | DEC_ROT13));
}

/* zlib.decompress(data, wbits) / gzip.decompress: bounded by the payload
 * budget of the file. */
static const pv *decode_zlib(pyan *an, const pv *in, int wbits)
{
    uint64_t room = an->ctx->limits->nested_max_bytes > an->payload_bytes
                        ? an->ctx->limits->nested_max_bytes - an->payload_bytes
                        : 0;
    if (room > MAX_CONST_STR)
        room = MAX_CONST_STR;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, wbits) != Z_OK)
        return mk_flags(an, PV_UNKNOWN, PVF_DECODED);
    size_t cap = in->n * 4 + 64;
    if (cap > room)
        cap = (size_t)room;
    uint8_t *out = NULL;
    size_t used = 0;
    int rc = Z_OK;
    zs.next_in = (Bytef *)(uintptr_t)in->s;
    zs.avail_in = (uInt)(in->n > UINT32_MAX ? UINT32_MAX : in->n);
    while (rc == Z_OK) {
        if (!out || used == cap) {
            if (out && cap >= room) {
                an->limit_payload = true;
                break;
            }
            size_t ncap = out ? cap * 2 : cap;
            if (ncap > room)
                ncap = (size_t)room;
            if (ncap == 0)
                break;
            uint8_t *nb = arena_alloc(&an->scratch, ncap);
            if (!nb)
                break;
            if (used)
                memcpy(nb, out, used);
            out = nb;
            cap = ncap;
        }
        zs.next_out = out + used;
        zs.avail_out = (uInt)(cap - used);
        rc = inflate(&zs, Z_NO_FLUSH);
        used = cap - zs.avail_out;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || !out)
        return mk_flags(an, PV_UNKNOWN, PVF_DECODED);
    an->payload_bytes += used;
    return mk_str(an, out, used, true, in->flags & PVF_NET, (uint16_t)(in->dec | DEC_ZLIB));
}

/* "".join(parts) */
static const pv *join_values(pyan *an, const pv *sep, const pv *seq)
{
    if (seq->kind == PV_STR)
        return sep->n == 0 ? seq : mk_flags(an, PV_UNKNOWN, seq->flags & PVF_DATA);
    if (seq->kind != PV_SEQ)
        return mk_flags(an, PV_UNKNOWN, seq->flags & PVF_DATA);
    ms_strbuf sb;
    ms_strbuf_init(&sb, MAX_CONST_STR);
    uint16_t dec = DEC_JOIN, flags = 0;
    for (uint32_t i = 0; i < seq->nitems; i++) {
        const pv *p = seq->items[i];
        if (p->kind != PV_STR || p->bytes != sep->bytes) {
            ms_strbuf_free(&sb);
            return mk_flags(an, PV_UNKNOWN, PVF_COMPUTED);
        }
        if (i)
            ms_strbuf_append(&sb, (const char *)sep->s, sep->n);
        ms_strbuf_append(&sb, (const char *)p->s, p->n);
        dec |= p->dec;
        flags |= (uint16_t)(p->flags & (PVF_NET | PVF_DECODED));
    }
    const pv *r = sb.truncated ? &pv_unknown
                               : mk_str(an, (const uint8_t *)(sb.data ? sb.data : ""), sb.len,
                                        sep->bytes, flags, dec);
    ms_strbuf_free(&sb);
    return r;
}

static const pv *chr_value(pyan *an, const pv *code)
{
    if (code->kind != PV_INT || code->i < 0 || code->i > 0x10FFFF)
        return mk_flags(an, PV_UNKNOWN, PVF_COMPUTED);
    ms_strbuf sb;
    ms_strbuf_init(&sb, 8);
    put_utf8(&sb, (uint32_t)code->i);
    const pv *r = mk_str(an, (const uint8_t *)sb.data, sb.len, false, 0, DEC_CHR);
    ms_strbuf_free(&sb);
    return r;
}

static const pv *bytes_of_ints(pyan *an, const pv *seq)
{
    if (seq->kind == PV_STR)
        return seq;
    if (seq->kind != PV_SEQ)
        return mk_flags(an, PV_UNKNOWN, seq->flags & PVF_DATA);
    uint8_t *out = arena_alloc(&an->scratch, seq->nitems ? seq->nitems : 1);
    if (!out)
        return &pv_unknown;
    for (uint32_t i = 0; i < seq->nitems; i++) {
        const pv *p = seq->items[i];
        if (p->kind != PV_INT || p->i < 0 || p->i > 255)
            return mk_flags(an, PV_UNKNOWN, PVF_COMPUTED);
        out[i] = (uint8_t)p->i;
    }
    return mk_str(an, out, seq->nitems, true, 0, DEC_CHR);
}

/* the value as text (bytes.decode / str.encode keep the bytes) */
static const pv *retype_str(pyan *an, const pv *v, bool bytes)
{
    if (v->kind != PV_STR)
        return mk_flags(an, PV_UNKNOWN, v->flags & PVF_DATA);
    pv *c = pv_new(an, PV_STR);
    if (!c)
        return &pv_unknown;
    *c = *v;
    c->bytes = bytes;
    return c;
}

static const pv *case_value(pyan *an, const pv *v, int mode)
{
    if (v->kind != PV_STR)
        return mk_flags(an, PV_UNKNOWN, v->flags & PVF_DATA);
    uint8_t *out = arena_alloc(&an->scratch, v->n ? v->n : 1);
    if (!out)
        return &pv_unknown;
    for (size_t i = 0; i < v->n; i++) {
        uint8_t c = v->s[i];
        if (mode == 0 && c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        else if (mode == 1 && c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 32);
        else if (mode == 2 && isalpha(c))
            c = (uint8_t)(c ^ 32);
        out[i] = c;
    }
    return mk_str(an, out, v->n, v->bytes, v->flags & (PVF_NET | PVF_DECODED), v->dec);
}

static const pv *strip_value(pyan *an, const pv *v)
{
    if (v->kind != PV_STR)
        return mk_flags(an, PV_UNKNOWN, v->flags & PVF_DATA);
    size_t a = 0, b = v->n;
    while (a < b && isspace(v->s[a]))
        a++;
    while (b > a && isspace(v->s[b - 1]))
        b--;
    return mk_str(an, v->s + a, b - a, v->bytes, v->flags & (PVF_NET | PVF_DECODED), v->dec);
}

static const pv *replace_value(pyan *an, const pv *v, const pv *from, const pv *to)
{
    if (v->kind != PV_STR || !from || !to || from->kind != PV_STR || to->kind != PV_STR ||
        from->n == 0)
        return mk_flags(an, PV_UNKNOWN, v->flags & PVF_DATA);
    ms_strbuf sb;
    ms_strbuf_init(&sb, MAX_CONST_STR);
    for (size_t i = 0; i < v->n;) {
        if (i + from->n <= v->n && memcmp(v->s + i, from->s, from->n) == 0) {
            ms_strbuf_append(&sb, (const char *)to->s, to->n);
            i += from->n;
        } else {
            ms_strbuf_append(&sb, (const char *)v->s + i, 1);
            i++;
        }
    }
    const pv *r = sb.truncated ? &pv_unknown
                               : mk_str(an, (const uint8_t *)(sb.data ? sb.data : ""), sb.len,
                                        v->bytes, v->flags & (PVF_NET | PVF_DECODED),
                                        (uint16_t)(v->dec | DEC_JOIN));
    ms_strbuf_free(&sb);
    return r;
}

/* ======================================================================
 * Calls
 * ====================================================================== */

static const pv *argv_(const callargs *ca, int pos, const char *kw)
{
    const ex *e = arg_get(ca, pos, kw);
    return e ? e->v : NULL;
}

/* "os.system, reached as `o.system`, ..." for a description */
static const char *describe_how(pyan *an, const ex *callee, const pv *f, const char *cq)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, 600);
    ms_strbuf_puts(&sb, cq);
    if (callee && callee->dotted) {
        /* `P` for subprocess.Popen, `o.system` for os.system; not `exec`
         * for builtins.exec or `hf_hub_download` imported by its name */
        const char *cd = canonical_name(&an->scratch, callee->dotted);
        size_t lq = strlen(cq), ld = cd ? strlen(cd) : 0;
        bool same = cd && (strcmp(cd, cq) == 0 ||
                           (lq > ld && cq[lq - ld - 1] == '.' && strcmp(cq + lq - ld, cd) == 0));
        if (cd && !same)
            ms_strbuf_printf(&sb, ", reached as `%s`", callee->dotted);
    }
    if (f && (f->flags & PVF_GETATTR))
        ms_strbuf_puts(&sb, ", looked up by name (getattr, vars(), __dict__ or a namespace)");
    if (f && (f->flags & PVF_COMPUTED))
        ms_strbuf_puts(&sb, ", with a name built at run time");
    if (f && (f->flags & PVF_DYNIMPORT))
        ms_strbuf_puts(&sb, ", on a module imported through __import__, importlib or sys.modules");
    if (callee && callee->folded)
        ms_strbuf_puts(&sb, ", spelled with Unicode compatibility characters that Python folds "
                            "to ASCII");
    const char *r = arena_strndup(&an->scratch, sb.data ? sb.data : cq, sb.len);
    ms_strbuf_free(&sb);
    return r ? r : cq;
}

static bool mode_writes(const pv *mode)
{
    if (!mode || mode->kind != PV_STR)
        return false;
    for (size_t i = 0; i < mode->n; i++)
        if (mode->s[i] == 'w' || mode->s[i] == 'a' || mode->s[i] == 'x' || mode->s[i] == '+')
            return true;
    return false;
}

static const char *path_words(const pv *p)
{
    if (p->flags & PVF_HOME)
        return "a path in the user's home directory";
    if (p->flags & PVF_ABS)
        return "an absolute path";
    return "a path that climbs out with '..'";
}

static void report_open(pyan *an, const ex *callee, const pv *f, const char *cq, const pv *path,
                        const pv *mode, bool writes, size_t start, size_t end)
{
    if (!path)
        return;
    const char *how = describe_how(an, callee, f, cq);
    if (writes && is_outside(path))
        py_report(an, callee->line, CAT_WRITE, cq, start, end, "%s; mode %.*s on %s", how,
                  mode && mode->kind == PV_STR ? (int)mode->n : 5,
                  mode && mode->kind == PV_STR ? (const char *)mode->s : "write",
                  path_words(path));
    else if (!writes && (path->flags & PVF_HOME))
        py_report(an, callee->line, CAT_READ, cq, start, end, "%s; reads %s", how,
                  path_words(path));
}

static bool flags_text_writes(pyan *an, const ex *e)
{
    if (!e)
        return false;
    static const char *const w[] = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC", NULL};
    for (int i = 0; w[i]; i++)
        if (has_sub(an->src + e->start, e->end - e->start, w[i]))
            return true;
    return false;
}

static const char *payload_words(pyan *an, const pv *code)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, 300);
    if (!code || code->kind == PV_UNKNOWN || code->kind == PV_INST || code->kind == PV_BOUND) {
        if (code && (code->flags & PVF_NET))
            ms_strbuf_puts(&sb, "code received from the network");
        else if (code && (code->flags & PVF_DECODED))
            ms_strbuf_puts(&sb, "code decoded at run time");
        else
            ms_strbuf_puts(&sb, "code built at run time");
    } else if (code->kind == PV_STR) {
        if (code->dec & ~DEC_JOIN) {
            ms_strbuf_puts(&sb, "a constant decoded through ");
            describe_decoders(&sb, code->dec);
        } else if (code->dec & DEC_JOIN) {
            ms_strbuf_puts(&sb, "a string assembled from pieces");
        } else {
            ms_strbuf_puts(&sb, "a constant string");
        }
        if (code->flags & PVF_NET)
            ms_strbuf_puts(&sb, " of data received from the network");
    } else {
        ms_strbuf_puts(&sb, "a code object or another value");
    }
    const char *r = arena_strndup(&an->scratch, sb.data ? sb.data : "", sb.len);
    ms_strbuf_free(&sb);
    return r ? r : "";
}

/* The module `name` for __import__/import_module. `top` for __import__
 * without a fromlist, which returns the top-level package. */
static const pv *import_by_name(pyan *an, const ex *callee, const pv *f, const char *cq,
                                const ex *name, bool top, size_t start, size_t end)
{
    const pv *nv = name ? name->v : NULL;
    const char *mod = pv_cstr(an, nv);
    if (!mod) {
        py_report(an, callee->line, CAT_IMPORT, cq, start, end,
                  "%s with a module name computed at run time", describe_how(an, callee, f, cq));
        return mk_flags(an, PV_UNKNOWN, PVF_COMPUTED);
    }
    if (mod[0] == '.' || !*mod)
        return &pv_unknown; /* a module of this repository */
    const char *cmod = canonical_name(&an->scratch, mod);
    char *root = arena_strndup(&an->scratch, cmod, strcspn(cmod, "."));
    if (module_is_dangerous(cmod) || (root && module_is_dangerous(root)))
        py_report(an, callee->line, CAT_IMPORT, cq, start, end, "%s; imports %s%s",
                  describe_how(an, callee, f, cq), cmod,
                  name->literal ? "" : ", a module name built at run time");
    uint16_t fl = (uint16_t)(PVF_DYNIMPORT | (name->literal ? 0 : PVF_COMPUTED));
    if (top) {
        char *first = arena_strndup(&an->scratch, mod, strcspn(mod, "."));
        return mk_name(an, PV_NAME, first ? canonical_name(&an->scratch, first) : NULL, fl);
    }
    return mk_name(an, PV_NAME, cmod, fl);
}

/* getattr(obj, name[, default]) */
static const pv *do_getattr(pyan *an, const ex *callee, const callargs *ca, size_t start,
                            size_t end)
{
    const ex *obj = arg_get(ca, 0, NULL), *name = arg_get(ca, 1, NULL);
    if (!obj || !name)
        return &pv_unknown;
    const char *attr = pv_cstr(an, name->v);
    if (attr) {
        const pv *r = attr_of(an, obj->v, attr, NULL);
        if (r->kind == PV_NAME) {
            pv *c = pv_new(an, PV_NAME);
            if (c) {
                *c = *r;
                c->flags |= (uint16_t)(PVF_GETATTR | (name->literal ? 0 : PVF_COMPUTED));
                return c;
            }
        }
        return r;
    }
    const pv *o = obj->v;
    if ((o->kind == PV_NS && (!*o->qual || module_is_dangerous(o->qual))) ||
        (o->kind == PV_NAME && module_is_dangerous(canonical_name(&an->scratch, o->qual))))
        py_report(an, callee->line, CAT_GADGET, NULL, start, end,
                  "getattr on %s with an attribute name computed at run time",
                  o->kind == PV_NS && !*o->qual ? "the module's globals"
                                                : canonical_name(&an->scratch, o->qual));
    return mk_flags(an, PV_UNKNOWN, PVF_COMPUTED);
}

/* setattr(obj, name, value) / delattr(obj, name) */
static void do_setattr(pyan *an, const ex *callee, const callargs *ca, bool del, size_t start,
                       size_t end)
{
    const ex *obj = arg_get(ca, 0, NULL), *name = arg_get(ca, 1, NULL);
    if (!obj || !pv_is_name(obj->v))
        return;
    const char *base = *obj->v->qual ? canonical_name(&an->scratch, obj->v->qual) : "globals";
    const char *attr = name ? pv_cstr(an, name->v) : NULL;
    const char *what = attr ? qual_join(an, base, ".", attr) : base;
    if (strcmp(base, "builtins") == 0)
        py_report(an, callee->line, CAT_BUILTINS, what, start, end, "%s %s",
                  del ? "deletes" : "replaces", what ? what : "a builtin");
    else if (strcmp(base, "sys.modules") == 0 || strcmp(base, "sys") == 0)
        py_report(an, callee->line, CAT_HIJACK, what, start, end, "%s %s",
                  del ? "deletes" : "replaces", what ? what : "sys");
    else
        py_report(an, callee->line, CAT_PATCH, what, start, end, "%s %s%s",
                  del ? "deletes" : "replaces", what ? what : base,
                  attr ? "" : " (attribute name computed at run time)");
}

/* Calls with no danger of their own whose result the analyser can compute
 * or track. Returns NULL when `cq` is not one of them. */
static const pv *fold_call(pyan *an, const char *cq, const ex *callee, const pv *f,
                           const callargs *ca, size_t start, size_t end)
{
    const pv *a0 = argv_(ca, 0, NULL);
    const pv *recv = f->kind == PV_BOUND ? f->recv : NULL;
#define IS(name) (strcmp(cq, name) == 0)
    if (IS("builtins.getattr"))
        return do_getattr(an, callee, ca, start, end);
    if (IS("builtins.setattr") || IS("builtins.delattr")) {
        do_setattr(an, callee, ca, IS("builtins.delattr"), start, end);
        return &pv_unknown;
    }
    if (IS("builtins.globals") || IS("builtins.locals") || (IS("builtins.vars") && !a0))
        return mk_name(an, PV_NS, "", PVF_GETATTR);
    if (IS("builtins.vars"))
        return pv_is_name(a0) ? mk_name(an, PV_NS, a0->qual, PVF_GETATTR) : &pv_unknown;
    if (IS("builtins.chr"))
        return a0 ? chr_value(an, a0) : &pv_unknown;
    if (IS("builtins.bytes") || IS("builtins.bytearray")) {
        if (!a0)
            return &pv_unknown;
        return a0->kind == PV_STR ? retype_str(an, a0, true) : bytes_of_ints(an, a0);
    }
    if (IS("builtins.str"))
        return a0 && a0->kind == PV_STR ? retype_str(an, a0, false)
                                        : mk_flags(an, PV_UNKNOWN, a0 ? a0->flags & PVF_DATA : 0);
    if (IS("builtins.reversed")) {
        if (!a0 || a0->kind != PV_STR)
            return &pv_unknown;
        subscr s;
        memset(&s, 0, sizeof(s));
        s.slice = true;
        s.step = mk_int(an, -1);
        return subscript_of(an, a0, &s, NULL);
    }
    if (IS("builtins.list") || IS("builtins.tuple"))
        return a0 ? a0 : &pv_unknown;
    if (IS("builtins.map")) {
        const pv *fn = a0, *seq = argv_(ca, 1, NULL);
        if (fn && seq && seq->kind == PV_SEQ && pv_is_name(fn) &&
            strcmp(fn->qual, "builtins.chr") == 0) {
            pv *r = pv_new(an, PV_SEQ);
            const pv **items = arena_alloc(&an->scratch, (seq->nitems ? seq->nitems : 1) *
                                                             sizeof(*items));
            if (!r || !items)
                return &pv_unknown;
            for (uint32_t i = 0; i < seq->nitems; i++)
                items[i] = chr_value(an, seq->items[i]);
            r->items = items;
            r->nitems = seq->nitems;
            return r;
        }
        return &pv_unknown;
    }
    if (IS("operator.attrgetter") || IS("operator.methodcaller")) {
        const char *name = pv_cstr(an, a0);
        if (!name)
            return &pv_unknown;
        return mk_name(an, IS("operator.attrgetter") ? PV_ATTRGETTER : PV_METHODCALLER, name, 0);
    }
    /* decoders */
    if (IS("base64.b64decode") || IS("base64.standard_b64decode") || IS("base64.decodebytes") ||
        IS("base64.decodestring") || IS("binascii.a2b_base64") || IS("base64.urlsafe_b64decode")) {
        if (!a0 || a0->kind != PV_STR)
            return mk_flags(an, PV_UNKNOWN, (uint16_t)(PVF_DECODED | (a0 ? a0->flags & PVF_NET : 0)));
        const pv *alt = argv_(ca, 1, "altchars");
        bool url = IS("base64.urlsafe_b64decode") ||
                   (alt && alt->kind == PV_STR && alt->n == 2 && memcmp(alt->s, "-_", 2) == 0);
        return decode_base64(an, a0, url);
    }
    if (IS("base64.b32decode"))
        return a0 && a0->kind == PV_STR ? decode_base32(an, a0) : mk_flags(an, PV_UNKNOWN, PVF_DECODED);
    if (IS("base64.b16decode") || IS("binascii.unhexlify") || IS("binascii.a2b_hex") ||
        IS("builtins.bytes.fromhex") || IS("builtins.bytearray.fromhex"))
        return a0 && a0->kind == PV_STR ? decode_hex(an, a0) : mk_flags(an, PV_UNKNOWN, PVF_DECODED);
    if (IS("base64.b85decode") || IS("base64.a85decode") || IS("bz2.decompress") ||
        IS("lzma.decompress")) {
        pv *r = (pv *)mk_flags(an, PV_UNKNOWN, (uint16_t)(PVF_DECODED | (a0 ? a0->flags & PVF_NET : 0)));
        if (r != &pv_unknown)
            r->dec = DEC_OTHER;
        return r;
    }
    if (IS("zlib.decompress") || IS("gzip.decompress")) {
        if (!a0 || a0->kind != PV_STR)
            return mk_flags(an, PV_UNKNOWN, (uint16_t)(PVF_DECODED | (a0 ? a0->flags & PVF_NET : 0)));
        int wbits = IS("gzip.decompress") ? 31 : 15;
        const pv *wb = argv_(ca, 1, "wbits");
        if (wb && wb->kind == PV_INT && wb->i >= -15 && wb->i <= 47)
            wbits = (int)wb->i;
        return decode_zlib(an, a0, wbits);
    }
    if (IS("codecs.decode") || IS("codecs.encode")) {
        const pv *enc = argv_(ca, 1, "encoding");
        const char *e = pv_cstr(an, enc);
        if (!a0 || a0->kind != PV_STR || !e)
            return mk_flags(an, PV_UNKNOWN, (uint16_t)(PVF_DECODED | (a0 ? a0->flags & PVF_NET : 0)));
        if (strcasecmp(e, "rot13") == 0 || strcasecmp(e, "rot_13") == 0)
            return decode_rot13(an, a0);
        if (IS("codecs.decode")) {
            if (strcasecmp(e, "base64") == 0 || strcasecmp(e, "base_64") == 0 ||
                strcasecmp(e, "base64_codec") == 0)
                return decode_base64(an, a0, false);
            if (strcasecmp(e, "hex") == 0 || strcasecmp(e, "hex_codec") == 0)
                return decode_hex(an, a0);
            if (strcasecmp(e, "zlib") == 0 || strcasecmp(e, "zip") == 0 ||
                strcasecmp(e, "zlib_codec") == 0)
                return decode_zlib(an, a0, 15);
            return retype_str(an, a0, false);
        }
        return mk_flags(an, PV_UNKNOWN, a0->flags & PVF_DATA);
    }
    /* methods of constant strings */
    if (recv && recv->kind == PV_STR && (strncmp(cq, "str.", 4) == 0 || strncmp(cq, "bytes.", 6) == 0)) {
        const char *m = strchr(cq, '.') + 1;
        if (strcmp(m, "join") == 0)
            return a0 ? join_values(an, recv, a0) : &pv_unknown;
        if (strcmp(m, "decode") == 0)
            return retype_str(an, recv, false);
        if (strcmp(m, "encode") == 0)
            return retype_str(an, recv, true);
        if (strcmp(m, "lower") == 0 || strcmp(m, "casefold") == 0)
            return case_value(an, recv, 0);
        if (strcmp(m, "upper") == 0)
            return case_value(an, recv, 1);
        if (strcmp(m, "swapcase") == 0)
            return case_value(an, recv, 2);
        if (strcmp(m, "strip") == 0 && !a0)
            return strip_value(an, recv);
        if (strcmp(m, "replace") == 0)
            return replace_value(an, recv, a0, argv_(ca, 1, NULL));
        if (strcmp(m, "format") == 0 || strcmp(m, "format_map") == 0) {
            uint16_t fl = (uint16_t)(recv->flags & PVF_DOTDOT);
            if (recv->n >= 2 && recv->s[0] == '{' && a0)
                fl |= (uint16_t)(a0->flags & (PVF_ABS | PVF_HOME));
            else
                fl |= (uint16_t)(recv->flags & (PVF_ABS | PVF_HOME));
            for (uint32_t i = 0; i < ca->n; i++)
                fl |= (uint16_t)(ca->a[i].e.v->flags & (PVF_DOTDOT | PVF_NET | PVF_DECODED));
            return mk_flags(an, PV_UNKNOWN, fl);
        }
        return mk_flags(an, PV_UNKNOWN, recv->flags & PVF_DATA);
    }
    /* namespaces: globals().get('os'), vars(builtins).get('eval') */
    if (recv && recv->kind == PV_NS && (IS("dict.get") || IS("dict.__getitem__") || IS("dict.pop"))) {
        subscr s;
        memset(&s, 0, sizeof(s));
        const ex *k = arg_get(ca, 0, NULL);
        if (!k)
            return &pv_unknown;
        s.index = *k;
        return subscript_of(an, recv, &s, callee);
    }
    /* paths */
    if (IS("os.path.join") || IS("pathlib.Path") || IS("pathlib.PurePath") ||
        IS("pathlib.PosixPath") || IS("pathlib.WindowsPath") || IS("pathlib.PurePosixPath") ||
        (recv && recv->kind == PV_INST && strcmp(recv->qual, "pathlib.Path") == 0 &&
         (IS("pathlib.Path().joinpath") || IS("pathlib.Path().with_name") ||
          IS("pathlib.Path().with_suffix") || IS("pathlib.Path().resolve") ||
          IS("pathlib.Path().absolute") || IS("pathlib.Path().expanduser")))) {
        const pv *parts[16];
        size_t n = 0;
        if (recv)
            parts[n++] = recv;
        for (uint32_t i = 0; i < ca->n && n < 16; i++)
            if (!ca->a[i].kw)
                parts[n++] = ca->a[i].e.v;
        uint16_t fl = n ? join_flags(parts, n) : 0;
        if (IS("os.path.join")) {
            bool all = n > 0;
            for (size_t i = 0; i < n; i++)
                all &= parts[i]->kind == PV_STR && !parts[i]->bytes;
            if (all) {
                ms_strbuf sb;
                ms_strbuf_init(&sb, MAX_CONST_STR);
                for (size_t i = 0; i < n; i++) {
                    if (parts[i]->n && parts[i]->s[0] == '/')
                        sb.len = 0; /* an absolute part replaces what came before */
                    else if (sb.len && sb.data[sb.len - 1] != '/')
                        ms_strbuf_append(&sb, "/", 1);
                    ms_strbuf_append(&sb, (const char *)parts[i]->s, parts[i]->n);
                }
                const pv *r = mk_str(an, (const uint8_t *)(sb.data ? sb.data : ""), sb.len,
                                     false, fl, 0);
                ms_strbuf_free(&sb);
                return r;
            }
            return mk_flags(an, PV_UNKNOWN, fl);
        }
        return mk_name(an, PV_INST, "pathlib.Path", fl);
    }
    if (IS("pathlib.Path.home") || IS("pathlib.PosixPath.home"))
        return mk_name(an, PV_INST, "pathlib.Path", PVF_HOME | PVF_ABS);
    if (IS("os.path.expanduser") || IS("os.path.expandvars") || IS("os.path.abspath") ||
        IS("os.path.realpath") || IS("os.path.normpath") || IS("os.fspath") ||
        IS("os.path.dirname"))
        return a0 ? (a0->kind == PV_STR ? a0 : mk_flags(an, PV_UNKNOWN, a0->flags & PVF_DATA))
                  : &pv_unknown;
    if (IS("os.getenv") || IS("os.environ.get") || IS("os.getenvb"))
        return env_value(an, a0);
#undef IS
    return NULL;
}

static bool safe_yaml_loader(pyan *an, const pv *l)
{
    if (!pv_is_name(l))
        return false;
    const char *q = canonical_name(&an->scratch, l->qual);
    static const char *const safe[] = {"yaml.SafeLoader", "yaml.CSafeLoader", "yaml.BaseLoader",
                                       "yaml.CBaseLoader", "yaml.loader.SafeLoader",
                                       "yaml.cyaml.CSafeLoader", "yaml.loader.BaseLoader", NULL};
    for (int i = 0; safe[i]; i++)
        if (strcmp(q, safe[i]) == 0)
            return true;
    return false;
}

/* A call to a name the policy knows. Reports what it must and returns the
 * value of the call. */
static const pv *apply_rule(pyan *an, const py_rule *r, const char *cq, const ex *callee,
                            const pv *f, const callargs *ca, size_t start, size_t end)
{
    uint32_t line = callee->line;
    category cat = (category)r->cat;
    const char *how = describe_how(an, callee, f, cq);
    uint16_t rflags = 0;
    if (cat == CAT_NETWORK || cat == CAT_DOWNLOAD)
        rflags |= PVF_NET;
    switch ((special)r->special) {
    case SP_NONE:
    case SP_CALL_ONLY:
        py_report(an, line, cat, cq, start, end, "%s", how);
        if (cat == CAT_DESER)
            rflags |= PVF_DECODED;
        break;
    case SP_OPEN: {
        const pv *path = argv_(ca, 0, "file");
        if (!path)
            path = argv_(ca, 0, "filename");
        const pv *mode = argv_(ca, 1, "mode");
        report_open(an, callee, f, cq, path, mode, mode_writes(mode), start, end);
        return mk_name(an, PV_INST, cq, path ? (uint16_t)(path->flags & PVF_DATA) : 0);
    }
    case SP_OS_OPEN: {
        const pv *path = argv_(ca, 0, "path");
        report_open(an, callee, f, cq, path, NULL, flags_text_writes(an, arg_get(ca, 1, "flags")),
                    start, end);
        return &pv_unknown;
    }
    case SP_FS_OUTSIDE:
        for (uint32_t i = 0; i < ca->n; i++)
            if (is_outside(ca->a[i].e.v)) {
                py_report(an, line, cat, cq, start, end, "%s on %s", how,
                          path_words(ca->a[i].e.v));
                break;
            }
        return &pv_unknown;
    case SP_PATH_WRITE:
        if (f->recv && is_outside(f->recv))
            py_report(an, line, cat, cq, start, end, "%s on %s", how, path_words(f->recv));
        else
            for (uint32_t i = 0; i < ca->n; i++)
                if (is_outside(ca->a[i].e.v)) {
                    py_report(an, line, cat, cq, start, end, "%s to %s", how,
                              path_words(ca->a[i].e.v));
                    break;
                }
        return &pv_unknown;
    case SP_PATH_READ:
        if (f->recv && (f->recv->flags & PVF_HOME))
            py_report(an, line, cat, cq, start, end, "%s on %s", how, path_words(f->recv));
        return mk_flags(an, PV_UNKNOWN, 0);
    case SP_PATH_OPEN: {
        const pv *mode = argv_(ca, 0, "mode");
        if (f->recv)
            report_open(an, callee, f, cq, f->recv, mode, mode_writes(mode), start, end);
        return mk_name(an, PV_INST, "builtins.open", 0);
    }
    case SP_GETATTR:
    case SP_SETATTR:
        return &pv_unknown;
    case SP_IMPORT: {
        bool dunder = strcmp(cq, "builtins.__import__") == 0 || strcmp(cq, "importlib.__import__") == 0;
        const ex *name = arg_get(ca, 0, "name");
        const pv *fromlist = argv_(ca, 3, "fromlist");
        bool top = dunder && !(fromlist && fromlist->kind == PV_SEQ && fromlist->nitems);
        return import_by_name(an, callee, f, cq, name, top, start, end);
    }
    case SP_EVAL: {
        const pv *code = argv_(ca, 0, "source");
        if (!code)
            code = argv_(ca, 0, "object");
        py_report(an, line, cat, cq, start, end, "%s; the code is %s", how,
                  payload_words(an, code));
        if (code && code->kind == PV_STR)
            analyse_payload(an, code, line, strrchr(cq, '.') ? strrchr(cq, '.') + 1 : cq);
        return mk_flags(an, PV_UNKNOWN, PVF_DECODED);
    }
    case SP_EVAL_STR: {
        const pv *code = argv_(ca, 0, "stmt");
        if (code && code->kind == PV_STR) {
            py_report(an, line, cat, cq, start, end, "%s; the code is %s", how,
                      payload_words(an, code));
            analyse_payload(an, code, line, strrchr(cq, '.') ? strrchr(cq, '.') + 1 : cq);
        }
        return &pv_unknown;
    }
    case SP_TORCH_LOAD: {
        const pv *wo = argv_(ca, -1, "weights_only");
        if (pv_const_true(wo))
            return mk_name(an, PV_INST, cq, 0);
        py_report(an, line, cat, cq, start, end, "%s %s: the file is unpickled and can run code",
                  how, wo ? "with weights_only not True" : "without weights_only=True");
        rflags |= PVF_DECODED;
        break;
    }
    case SP_NUMPY_LOAD: {
        const pv *ap = argv_(ca, 2, "allow_pickle");
        if (!ap || pv_const_false(ap))
            return mk_name(an, PV_INST, cq, 0);
        py_report(an, line, cat, cq, start, end,
                  "%s with allow_pickle enabled: object arrays are unpickled and can run code", how);
        rflags |= PVF_DECODED;
        break;
    }
    case SP_YAML_LOAD: {
        const pv *loader = argv_(ca, 1, "Loader");
        if (safe_yaml_loader(an, loader))
            return mk_name(an, PV_INST, cq, 0);
        py_report(an, line, cat, cq, start, end,
                  "%s without a safe Loader (SafeLoader/BaseLoader): YAML tags can construct "
                  "arbitrary Python objects",
                  how);
        rflags |= PVF_DECODED;
        break;
    }
    }
    const pv *res = mk_name(an, PV_INST, cq, rflags);
    if (strcmp(cq, "marshal.loads") == 0 && res != &pv_unknown)
        ((pv *)res)->dec = DEC_MARSHAL;
    return res;
}

/* keyword arguments that load code from elsewhere, on any call */
static void check_call_kwargs(pyan *an, const ex *callee, const callargs *ca, size_t start,
                              size_t end)
{
    for (uint32_t i = 0; i < ca->n; i++) {
        const char *kw = ca->a[i].kw;
        if (!kw || kw[0] == '*')
            continue;
        const pv *v = ca->a[i].e.v;
        if (strcmp(kw, "trust_remote_code") == 0 && pv_const_true(v))
            py_report(an, callee->line, CAT_REMOTE, "trust_remote_code=True", start, end,
                      "trust_remote_code=True: the repository it loads from runs its own Python "
                      "code, which this scan did not see");
        else if (strcmp(kw, "custom_pipeline") == 0 && v->kind == PV_STR)
            py_report(an, callee->line, CAT_REMOTE, "custom_pipeline", start, end,
                      "custom_pipeline=%.*s: diffusers downloads and runs that pipeline's code",
                      (int)(v->n > 80 ? 80 : v->n), (const char *)v->s);
    }
}

static const pv *eval_call(pyan *an, const ex *callee, callargs *ca, size_t start, size_t end)
{
    const pv *f = callee->v;
    check_call_kwargs(an, callee, ca, start, end);
    if (f->kind == PV_ATTRGETTER) {
        const ex *o = arg_get(ca, 0, NULL);
        if (!o)
            return &pv_unknown;
        const pv *r = attr_of(an, o->v, f->qual, NULL);
        if (r->kind == PV_NAME) {
            pv *c = pv_new(an, PV_NAME);
            if (c) {
                *c = *r;
                c->flags |= PVF_GETATTR;
                return c;
            }
        }
        return r;
    }
    if (f->kind == PV_METHODCALLER) {
        const ex *o = arg_get(ca, 0, NULL);
        if (!o || !pv_is_name(o->v) || !*o->v->qual)
            return &pv_unknown;
        const char *q = canonical_name(&an->scratch, qual_join(an, o->v->qual, ".", f->qual));
        const py_rule *r = q ? policy_find(q) : NULL;
        if (r)
            py_report(an, callee->line, (category)r->cat, q, start, end,
                      "%s, called through operator.methodcaller", q);
        return &pv_unknown;
    }
    const char *q = (f->kind == PV_NAME || f->kind == PV_BOUND) ? f->qual : NULL;
    if (!q) {
        uint16_t fl = (uint16_t)(f->flags & (PVF_NET | PVF_DECODED));
        return fl ? mk_flags(an, PV_UNKNOWN, fl) : &pv_unknown;
    }
    const char *cq = canonical_name(&an->scratch, q);
    const pv *r = fold_call(an, cq, callee, f, ca, start, end);
    if (r)
        return r;
    const py_rule *rule = policy_find(cq);
    if (rule)
        return apply_rule(an, rule, cq, callee, f, ca, start, end);
    if (f->kind == PV_NAME)
        return mk_name(an, PV_INST, cq, 0);
    uint16_t fl = (uint16_t)((f->flags | (f->recv ? f->recv->flags : 0)) & PVF_DATA);
    return mk_name(an, PV_INST, cq, fl);
}

/* ======================================================================
 * Statements
 * ====================================================================== */

/* A value that replaces library code: a function, lambda or class of this
 * file, or a dangerous callable. (Restoring a saved attribute, setting a
 * flag or another module's value is not reported.) */
static bool binds_callable(pyan *an, const pv *v)
{
    if (v->kind == PV_LOCAL || v->kind == PV_ATTRGETTER || v->kind == PV_METHODCALLER)
        return true;
    if (v->kind == PV_NAME && v->qual) {
        const py_rule *r = policy_find_ref(canonical_name(&an->scratch, v->qual));
        return r && (r->special == SP_NONE || r->special == SP_EVAL || r->special == SP_IMPORT);
    }
    return false;
}

/* `target = v`: binds names and reports writes into modules, builtins and
 * sys.modules. `end` ends the statement's text for the description. */
static void bind_target_at(pyan *an, const ex *t, const pv *v, size_t end, unsigned depth)
{
    if (depth > 16)
        return;
    switch (t->lv) {
    case LV_NAME:
        sym_set(an, t->dotted, v);
        return;
    case LV_STAR:
        if (t->dotted)
            sym_set(an, t->dotted, &pv_unknown);
        return;
    case LV_ATTR: {
        if (t->base_dotted && t->attr)
            sym_set(an, qual_join(an, t->base_dotted, ".", t->attr), v);
        const pv *b = t->base;
        if (!b || !t->attr)
            return;
        if (strcmp(t->attr, "__code__") == 0) {
            py_report(an, t->line, CAT_PATCH, NULL, t->start, end,
                      "replaces a function's code object (__code__)");
            return;
        }
        if (!pv_is_name(b))
            return;
        const char *bq = *b->qual ? canonical_name(&an->scratch, b->qual) : "";
        const char *what = qual_join(an, *bq ? bq : "globals", ".", t->attr);
        if (strcmp(bq, "builtins") == 0) {
            py_report(an, t->line, CAT_BUILTINS, what, t->start, end, "replaces %s", what);
        } else if (strcmp(bq, "sys") == 0) {
            if (strcmp(t->attr, "modules") == 0 || strcmp(t->attr, "meta_path") == 0 ||
                strcmp(t->attr, "path_hooks") == 0)
                py_report(an, t->line, CAT_HIJACK, what, t->start, end, "replaces %s", what);
            else if (binds_callable(an, v))
                py_report(an, t->line, CAT_PATCH, what, t->start, end, "replaces %s", what);
        } else if (b->kind == PV_NAME && binds_callable(an, v)) {
            py_report(an, t->line, CAT_PATCH, what, t->start, end, "replaces %s with %s", what,
                      v->kind == PV_LOCAL ? "code defined in this file"
                      : v->kind == PV_NAME ? canonical_name(&an->scratch, v->qual)
                                           : "another callable");
        }
        return;
    }
    case LV_SUBSCR: {
        const pv *b = t->base;
        if (!b)
            return;
        if (b->kind == PV_NAME && strcmp(canonical_name(&an->scratch, b->qual), "sys.modules") == 0) {
            py_report(an, t->line, CAT_HIJACK, "sys.modules", t->start, end,
                      "puts an object of its choosing into sys.modules: later imports of that "
                      "name get it");
            return;
        }
        if (b->kind == PV_NS) {
            const char *key = pv_cstr(an, t->index);
            if (strcmp(b->qual, "builtins") == 0)
                py_report(an, t->line, CAT_BUILTINS, key ? qual_join(an, "builtins", ".", key) : NULL,
                          t->start, end, "replaces builtins.%s", key ? key : "<computed name>");
            else if (!*b->qual && key)
                sym_set(an, key, v);
            else if (*b->qual && binds_callable(an, v))
                py_report(an, t->line, CAT_PATCH, NULL, t->start, end,
                          "replaces an attribute of %s through its namespace", b->qual);
        }
        return;
    }
    case LV_SEQ:
        for (uint32_t i = 0; i < t->nelts; i++) {
            const pv *item = &pv_unknown;
            if (v->kind == PV_SEQ && v->nitems == t->nelts)
                item = v->items[i];
            bind_target_at(an, &t->elts[i], item, end, depth + 1);
        }
        return;
    default:
        return;
    }
}

static void bind_target(pyan *an, const ex *target, const pv *v, const ex *rhs, uint32_t col)
{
    (void)col;
    bind_target_at(an, target, v, rhs ? rhs->end : target->end, 0);
}

/* `del targets` */
static void del_targets(pyan *an, const ex *t, unsigned depth)
{
    if (depth > 16)
        return;
    if (t->lv == LV_SEQ) {
        for (uint32_t i = 0; i < t->nelts; i++)
            del_targets(an, &t->elts[i], depth + 1);
        return;
    }
    if (t->lv == LV_SUBSCR && t->base && t->base->kind == PV_NAME &&
        strcmp(canonical_name(&an->scratch, t->base->qual), "sys.modules") == 0)
        py_report(an, t->line, CAT_HIJACK, "sys.modules", t->start, t->end,
                  "removes a module from sys.modules so that it is imported again");
    else if (t->lv == LV_ATTR && t->base && pv_is_name(t->base) && t->attr) {
        const char *bq = canonical_name(&an->scratch, t->base->qual);
        py_report(an, t->line, strcmp(bq, "builtins") == 0 ? CAT_BUILTINS : CAT_PATCH,
                  qual_join(an, bq, ".", t->attr), t->start, t->end, "deletes %s.%s", bq, t->attr);
    }
}

/* dotted module name `a.b.c` */
static const char *parse_dotted(pyan *an)
{
    const py_token *t = peek(an, 0);
    if (t->type != PY_TOK_NAME || tok_is_keyword(an, t))
        return NULL;
    advance(an);
    const char *name = tok_name(an, t, NULL);
    while (name && is_op(an, peek(an, 0), ".") && peek(an, 1)->type == PY_TOK_NAME) {
        advance(an);
        const py_token *n = advance(an);
        name = qual_join(an, name, ".", tok_name(an, n, NULL));
    }
    return name;
}

static void parse_import(pyan *an)
{
    const py_token *kw = advance(an); /* import */
    for (;;) {
        size_t start = peek(an, 0)->start;
        const char *mod = parse_dotted(an);
        if (!mod)
            break;
        const char *cmod = canonical_name(&an->scratch, mod);
        if (is_kw(an, peek(an, 0), "as") && peek(an, 1)->type == PY_TOK_NAME) {
            advance(an);
            const char *alias = tok_name(an, advance(an), NULL);
            sym_set(an, alias, mk_name(an, PV_NAME, cmod, 0));
        } else {
            char *first = arena_strndup(&an->scratch, mod, strcspn(mod, "."));
            sym_set(an, first, mk_name(an, PV_NAME, first ? canonical_name(&an->scratch, first) : NULL, 0));
        }
        if (strcmp(cmod, "antigravity") == 0)
            py_report(an, kw->line, CAT_PROCESS, "antigravity", start, prev_end(an),
                      "importing antigravity opens a web browser");
        if (!is_op(an, peek(an, 0), ","))
            break;
        advance(an);
    }
}

static void parse_from_import(pyan *an)
{
    const py_token *kw = advance(an); /* from */
    size_t start = kw->start;
    int dots = 0;
    while (is_op(an, peek(an, 0), ".") || is_op(an, peek(an, 0), "...")) {
        dots += is_op(an, peek(an, 0), ".") ? 1 : 3;
        advance(an);
    }
    const char *mod = is_kw(an, peek(an, 0), "import") ? "" : parse_dotted(an);
    if (!mod)
        return;
    if (!is_kw(an, peek(an, 0), "import"))
        return;
    advance(an);
    bool paren = is_op(an, peek(an, 0), "(");
    if (paren)
        advance(an);
    const char *cmod = dots ? NULL : canonical_name(&an->scratch, mod);
    if (is_op(an, peek(an, 0), "*")) {
        advance(an);
        if (cmod && an->nstar < MAX_STAR) {
            const char *k = arena_strndup(&an->keep, cmod, strlen(cmod));
            if (k)
                an->star[an->nstar++] = k;
        }
        return;
    }
    ms_strbuf list;
    ms_strbuf_init(&list, 1024);
    category cat = CAT_NONE;
    const char *first_q = NULL;
    for (;;) {
        const py_token *t = peek(an, 0);
        if (t->type != PY_TOK_NAME)
            break;
        advance(an);
        const char *name = tok_name(an, t, NULL);
        const char *alias = name;
        if (is_kw(an, peek(an, 0), "as") && peek(an, 1)->type == PY_TOK_NAME) {
            advance(an);
            alias = tok_name(an, advance(an), NULL);
        }
        if (cmod && strcmp(cmod, "__future__") != 0 && name) {
            const char *q = canonical_name(&an->scratch, qual_join(an, cmod, ".", name));
            sym_set(an, alias, mk_name(an, PV_NAME, q, 0));
            const py_rule *r = q ? policy_find_ref(q) : NULL;
            if (r && (r->special == SP_NONE || r->special == SP_EVAL || r->special == SP_IMPORT)) {
                if (cat == CAT_NONE) {
                    cat = (category)r->cat;
                    first_q = q;
                }
                ms_strbuf_printf(&list, "%s%s", list.len ? ", " : "", q);
                if (alias && strcmp(alias, name) != 0)
                    ms_strbuf_printf(&list, " as `%s`", alias);
            }
        } else if (alias) {
            sym_set(an, alias, &pv_unknown); /* a module of this repository */
        }
        if (!is_op(an, peek(an, 0), ","))
            break;
        advance(an);
    }
    if (paren && is_op(an, peek(an, 0), ")"))
        advance(an);
    if (cat != CAT_NONE)
        py_report(an, kw->line, cat, first_q, start, prev_end(an), "imports %s",
                  list.data ? list.data : first_q);
    ms_strbuf_free(&list);
}

/* Position of the statement's end and of its assignment operators. */
typedef struct stmt_shape {
    size_t end;
    size_t eq[64];
    unsigned neq;
    size_t annot; /* (size_t)-1: none */
    size_t aug;
} stmt_shape;

static void scan_statement(pyan *an, stmt_shape *sh)
{
    pline *pl = an->pl;
    unsigned depth = 0, lambdas = 0;
    sh->neq = 0;
    sh->annot = sh->aug = (size_t)-1;
    size_t i = pl->i;
    for (; i < pl->n; i++) {
        const py_token *t = &pl->t[i];
        if (t->type == PY_TOK_NEWLINE)
            break;
        if (t->type == PY_TOK_NAME && depth == 0 && is_kw(an, t, "lambda"))
            lambdas++;
        if (t->type != PY_TOK_OP)
            continue;
        if (is_op(an, t, "(") || is_op(an, t, "[") || is_op(an, t, "{")) {
            depth++;
        } else if (is_op(an, t, ")") || is_op(an, t, "]") || is_op(an, t, "}")) {
            if (depth)
                depth--;
        } else if (depth == 0) {
            if (is_op(an, t, ";"))
                break;
            if (is_op(an, t, ":")) {
                if (lambdas)
                    lambdas--;
                else if (sh->annot == (size_t)-1 && sh->neq == 0 && sh->aug == (size_t)-1)
                    sh->annot = i;
            } else if (is_op(an, t, "=")) {
                if (sh->neq < 64 && lambdas == 0)
                    sh->eq[sh->neq++] = i;
            } else if (sh->aug == (size_t)-1 && sh->neq == 0 && t->end - t->start >= 2 &&
                       an->src[t->end - 1] == '=' && !is_op(an, t, "==") && !is_op(an, t, "<=") &&
                       !is_op(an, t, ">=") && !is_op(an, t, "!=") && !is_op(an, t, ":=")) {
                sh->aug = i;
            }
        }
    }
    sh->end = i;
}

static ex parse_rhs(pyan *an)
{
    if (is_kw(an, peek(an, 0), "yield")) {
        ex e = ex_here(an);
        advance(an);
        if (is_kw(an, peek(an, 0), "from"))
            advance(an);
        if (can_start_expr(an, peek(an, 0)))
            (void)parse_exprlist(an);
        e.end = prev_end(an);
        return e;
    }
    return parse_exprlist(an);
}

/* An expression statement or an assignment. */
static void parse_expr_statement(pyan *an, uint32_t col)
{
    stmt_shape sh;
    scan_statement(an, &sh);
    pline *pl = an->pl;
    if (sh.aug != (size_t)-1) {
        an->target_mode++;
        ex target = parse_exprlist(an);
        an->target_mode--;
        pl->i = sh.aug;
        const py_token *op = advance(an);
        ex rhs = parse_rhs(an);
        if (is_op(an, op, "+=") && target.lv == LV_NAME) {
            const pv *old = resolve_bare(an, target.dotted);
            const pv *nv = concat_values(an, old, rhs.v);
            if (nv->kind == PV_STR)
                sym_set(an, target.dotted, nv);
        }
        return;
    }
    if (sh.annot != (size_t)-1 && (sh.neq == 0 || sh.annot < sh.eq[0])) {
        an->target_mode++;
        ex target = parse_exprlist(an);
        an->target_mode--;
        pl->i = sh.annot + 1;
        (void)parse_expr(an);
        if (is_op(an, peek(an, 0), "=")) {
            advance(an);
            ex rhs = parse_rhs(an);
            bind_target(an, &target, rhs.v, &rhs, col);
        }
        return;
    }
    if (sh.neq == 0) {
        (void)parse_rhs(an);
        return;
    }
    ex targets[64];
    unsigned nt = 0;
    for (unsigned k = 0; k < sh.neq; k++) {
        an->target_mode++;
        targets[nt++] = parse_exprlist(an);
        an->target_mode--;
        if (pl->i < sh.eq[k])
            fallback_scan(an, pl->i, sh.eq[k]);
        pl->i = sh.eq[k] + 1;
    }
    ex rhs = parse_rhs(an);
    for (unsigned k = 0; k < nt; k++)
        bind_target(an, &targets[k], rhs.v, &rhs, col);
}

static void expect_colon(pyan *an)
{
    if (is_op(an, peek(an, 0), ":"))
        advance(an);
}

static bool line_ends_with_colon(pyan *an)
{
    pline *pl = an->pl;
    size_t n = pl->n;
    while (n > 0 && pl->t[n - 1].type == PY_TOK_NEWLINE)
        n--;
    return n > 0 && is_op(an, &pl->t[n - 1], ":");
}

/* `def name` / `class name`: at module level the name is this file's code
 * (it shadows a builtin or an import). Nested (methods, local functions) it
 * is bound only when the name is free, so that a method called `exec` does
 * not hide the builtin from the rest of the file. */
static void bind_def(pyan *an, const char *name, uint32_t col)
{
    if (!name)
        return;
    if (col == 0 || (!sym_get(an, name) && !is_tracked_builtin(name)))
        sym_set(an, name, mk_flags(an, PV_LOCAL, 0));
}

/* One statement. Returns true when it was a compound statement's header and
 * its body (if any) follows on the same line. */
static bool parse_statement(pyan *an, uint32_t col)
{
    const py_token *t = peek(an, 0);
    if (is_op(an, t, "@")) {
        advance(an);
        (void)parse_expr(an);
        return false;
    }
    if (t->type != PY_TOK_NAME) {
        parse_expr_statement(an, col);
        return false;
    }
    if (is_kw(an, t, "async") && (is_kw(an, peek(an, 1), "def") || is_kw(an, peek(an, 1), "for") ||
                                  is_kw(an, peek(an, 1), "with"))) {
        advance(an);
        t = peek(an, 0);
    }
    if (is_kw(an, t, "import")) {
        parse_import(an);
        return false;
    }
    if (is_kw(an, t, "from")) {
        parse_from_import(an);
        return false;
    }
    if (is_kw(an, t, "def")) {
        advance(an);
        const py_token *nt = peek(an, 0);
        const char *name = NULL;
        if (nt->type == PY_TOK_NAME) {
            advance(an);
            name = tok_name(an, nt, NULL);
        }
        if (is_op(an, peek(an, 0), "[")) { /* type parameters */
            advance(an);
            parse_params(an, "]", true);
            if (is_op(an, peek(an, 0), "]"))
                advance(an);
        }
        if (is_op(an, peek(an, 0), "(")) {
            advance(an);
            parse_params(an, ")", true);
            if (is_op(an, peek(an, 0), ")"))
                advance(an);
        }
        if (is_op(an, peek(an, 0), "->")) {
            advance(an);
            (void)parse_expr(an);
        }
        expect_colon(an);
        bind_def(an, name, col);
        return true;
    }
    if (is_kw(an, t, "class")) {
        advance(an);
        const py_token *nt = peek(an, 0);
        const char *name = NULL;
        if (nt->type == PY_TOK_NAME) {
            advance(an);
            name = tok_name(an, nt, NULL);
        }
        if (is_op(an, peek(an, 0), "[")) {
            advance(an);
            parse_params(an, "]", true);
            if (is_op(an, peek(an, 0), "]"))
                advance(an);
        }
        if (is_op(an, peek(an, 0), "(")) {
            advance(an);
            callargs ca = {NULL, 0, 0};
            parse_call_args(an, &ca, false);
        }
        expect_colon(an);
        bind_def(an, name, col);
        return true;
    }
    if (is_kw(an, t, "if") || is_kw(an, t, "elif") || is_kw(an, t, "while")) {
        advance(an);
        (void)parse_expr(an);
        expect_colon(an);
        return true;
    }
    if (is_kw(an, t, "else") || is_kw(an, t, "try") || is_kw(an, t, "finally")) {
        advance(an);
        expect_colon(an);
        return true;
    }
    if (is_kw(an, t, "except")) {
        advance(an);
        if (is_op(an, peek(an, 0), "*"))
            advance(an);
        if (!is_op(an, peek(an, 0), ":")) {
            (void)parse_exprlist(an);
            if (is_kw(an, peek(an, 0), "as")) {
                advance(an);
                an->target_mode++;
                (void)parse_primary(an);
                an->target_mode--;
            }
        }
        expect_colon(an);
        return true;
    }
    if (is_kw(an, t, "for")) {
        advance(an);
        ex target = parse_target_list(an);
        if (is_kw(an, peek(an, 0), "in"))
            advance(an);
        ex iter = parse_exprlist(an);
        bind_target(an, &target, loop_value(iter.v), NULL, col);
        expect_colon(an);
        return true;
    }
    if (is_kw(an, t, "with")) {
        advance(an);
        for (;;) {
            size_t before = an->pl->i;
            ex item = parse_expr(an);
            if (is_kw(an, peek(an, 0), "as")) {
                advance(an);
                ex target = parse_target_list(an);
                bind_target(an, &target, item.v, NULL, col);
            }
            if (is_op(an, peek(an, 0), ",")) {
                advance(an);
                continue;
            }
            if (an->pl->i == before || is_op(an, peek(an, 0), ":") || at_stmt_end(an))
                break;
            advance(an);
        }
        expect_colon(an);
        return true;
    }
    if ((is_kw(an, t, "match") || is_kw(an, t, "case")) && line_ends_with_colon(an) &&
        !is_op(an, peek(an, 1), "=") && !is_op(an, peek(an, 1), ".") &&
        !is_op(an, peek(an, 1), ":") && peek(an, 1)->type != PY_TOK_NEWLINE) {
        bool is_case = is_kw(an, t, "case");
        advance(an);
        if (!is_case) {
            (void)parse_exprlist(an);
            expect_colon(an);
            return true;
        }
        /* a pattern binds names and calls nothing; its guard is evaluated */
        unsigned depth = 0;
        while (!at_stmt_end(an)) {
            const py_token *p = peek(an, 0);
            if (is_op(an, p, "(") || is_op(an, p, "[") || is_op(an, p, "{"))
                depth++;
            else if (is_op(an, p, ")") || is_op(an, p, "]") || is_op(an, p, "}"))
                depth = depth ? depth - 1 : 0;
            else if (depth == 0 && is_kw(an, p, "if")) {
                advance(an);
                (void)parse_expr(an);
                continue;
            } else if (depth == 0 && is_op(an, p, ":")) {
                advance(an);
                return true;
            }
            advance(an);
        }
        return false;
    }
    if (is_kw(an, t, "type") && peek(an, 1)->type == PY_TOK_NAME &&
        !tok_is_keyword(an, peek(an, 1))) {
        advance(an);
        advance(an);
        while (!at_stmt_end(an) && !is_op(an, peek(an, 0), "="))
            advance(an);
        if (is_op(an, peek(an, 0), "=")) {
            advance(an);
            (void)parse_expr(an);
        }
        return false;
    }
    if (is_kw(an, t, "del")) {
        advance(an);
        an->target_mode++;
        ex targets = parse_exprlist(an);
        an->target_mode--;
        del_targets(an, &targets, 0);
        return false;
    }
    if (is_kw(an, t, "return") || is_kw(an, t, "assert")) {
        advance(an);
        if (!at_stmt_end(an))
            (void)parse_exprlist(an);
        return false;
    }
    if (is_kw(an, t, "raise")) {
        advance(an);
        if (!at_stmt_end(an))
            (void)parse_expr(an);
        if (is_kw(an, peek(an, 0), "from")) {
            advance(an);
            (void)parse_expr(an);
        }
        return false;
    }
    if (is_kw(an, t, "global") || is_kw(an, t, "nonlocal") || is_kw(an, t, "pass") ||
        is_kw(an, t, "break") || is_kw(an, t, "continue")) {
        while (!at_stmt_end(an))
            advance(an);
        return false;
    }
    if (is_kw(an, t, "exec") && (peek(an, 1)->type == PY_TOK_STRING ||
                                 (peek(an, 1)->type == PY_TOK_NAME && !tok_is_keyword(an, peek(an, 1))))) {
        /* Python 2's exec statement */
        advance(an);
        ex code = parse_exprlist(an);
        py_report(an, t->line, CAT_EVAL, "builtins.exec", t->start, prev_end(an),
                  "the Python 2 exec statement, of %s", payload_words(an, code.v));
        if (code.v->kind == PV_STR)
            analyse_payload(an, code.v, t->line, "exec");
        return false;
    }
    parse_expr_statement(an, col);
    return false;
}

/* Statements of one logical line (or of what follows a compound header). */
static void parse_line(pyan *an)
{
    pline *pl = an->pl;
    uint32_t col = pl->n ? pl->t[0].col : 0;
    if (an->cell || an->nest)
        col = pl->n ? pl->t[0].col : 0;
    while (!an->stopped) {
        const py_token *t = peek(an, 0);
        if (t->type == PY_TOK_NEWLINE || t->type == PY_TOK_END)
            return;
        if (is_op(an, t, ";")) {
            advance(an);
            continue;
        }
        size_t before = pl->i;
        bool header = parse_statement(an, col);
        if (header)
            continue;
        size_t from = pl->i;
        while (!at_stmt_end(an))
            advance(an);
        if (pl->i > from)
            fallback_scan(an, from, pl->i); /* what the walker could not place */
        if (pl->i == before)
            advance(an);
    }
}

/* Tokens the walker skipped: search them for calls of dangerous dotted
 * names (`a.b.c(`), so that nothing is passed over silently. */
static void fallback_scan(pyan *an, size_t from, size_t to)
{
    pline *pl = an->pl;
    for (size_t i = from; i < to && i < pl->n; i++) {
        const py_token *t = &pl->t[i];
        if (t->type != PY_TOK_NAME || tok_is_keyword(an, t) ||
            (i > 0 && is_op(an, &pl->t[i - 1], ".")))
            continue;
        const pv *v = resolve_bare(an, tok_name(an, t, NULL));
        size_t j = i + 1;
        while (j + 1 < to && is_op(an, &pl->t[j], ".") && pl->t[j + 1].type == PY_TOK_NAME) {
            v = attr_of(an, v, tok_name(an, &pl->t[j + 1], NULL), NULL);
            j += 2;
        }
        if (j < to && is_op(an, &pl->t[j], "(") && v->kind == PV_NAME) {
            const char *cq = canonical_name(&an->scratch, v->qual);
            const py_rule *r = policy_find(cq);
            if (r && (r->special == SP_NONE || r->special == SP_EVAL || r->special == SP_IMPORT))
                py_report(an, t->line, (category)r->cat, cq, t->start, pl->t[j].end,
                          "%s (found in a statement the analyser could not fully parse)", cq);
        }
        i = j - 1;
    }
}

/* ======================================================================
 * Driving the walker over a source
 * ====================================================================== */

static void note_error(pyan *an, const py_token *t)
{
    if (an->nest)
        return; /* a payload Python refuses never runs */
    if (an->lex_errors++ == 0) {
        an->first_error = t->error ? t->error : "invalid syntax";
        an->first_error_line = t->line + an->line_base;
        an->first_error_cell = an->cell;
    }
}

static void time_check(pyan *an)
{
    if (++an->lines_done % 1024 == 0 && an->ctx->budget && !ms_budget_time_left(an->ctx))
        an->stopped = true;
}

static void pline_free(pline *pl)
{
    free(pl->t);
    free(pl->cstop);
    free(pl->cfor);
}

static void process_line(pyan *an, pline *pl, bool overflow)
{
    arena_mark m = arena_get_mark(&an->scratch);
    pline *saved = an->pl;
    an->pl = pl;
    pl->i = 0;
    pl->cready = false;
    if (overflow)
        fallback_scan(an, 0, pl->n);
    else
        parse_line(an);
    an->pl = saved;
    arena_release(&an->scratch, m);
    if (an->scratch.exhausted)
        an->limit_values = true;
    an->scratch.exhausted = false;
    time_check(an);
}

static bool pline_push(pyan *an, pline *pl, const py_token *t)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 256;
        if (cap > MS_DEFAULT_PYSCAN_MAX_LINE_TOKENS)
            cap = MS_DEFAULT_PYSCAN_MAX_LINE_TOKENS;
        if (cap <= pl->n)
            return false;
        py_token *nt = realloc(pl->t, cap * sizeof(*nt));
        if (!nt) {
            an->nomem = true;
            return false;
        }
        pl->t = nt;
        pl->cap = cap;
    }
    pl->t[pl->n++] = *t;
    return true;
}

/* Analyses src[start, end) as statements; the first byte is on `line`. */
static void run_source(pyan *an, const uint8_t *src, size_t start, size_t end, uint32_t line)
{
    const uint8_t *saved_src = an->src;
    an->src = src;
    py_lexer lx;
    py_lexer_init(&lx, src, start, end, line);
    pline pl;
    memset(&pl, 0, sizeof(pl));
    bool overflow = false;
    while (!an->stopped && !an->nomem) {
        py_token t;
        py_lexer_next(&lx, &t);
        if (t.type == PY_TOK_ERROR ||
            (t.type == PY_TOK_STRING && (t.str_flags & PY_STR_UNTERMINATED)))
            note_error(an, &t);
        if (t.type == PY_TOK_END) {
            if (pl.n)
                process_line(an, &pl, overflow);
            break;
        }
        if (!pline_push(an, &pl, &t)) {
            if (an->nomem)
                break;
            an->limit_tokens = true; /* the rest of this line: patterns only */
            process_line(an, &pl, true);
            pl.n = 0;
            overflow = true;
            (void)pline_push(an, &pl, &t);
        }
        if (t.type == PY_TOK_NEWLINE) {
            process_line(an, &pl, overflow);
            pl.n = 0;
            overflow = false;
        }
    }
    pline_free(&pl);
    an->src = saved_src;
}

/* The value of the expression src[start, end) of the current source (an
 * f-string replacement field). */
static void parse_source_range(pyan *an, size_t start, size_t end, uint32_t line, bool expr_only,
                               const pv **value)
{
    (void)expr_only;
    if (!enter(an))
        return;
    py_lexer lx;
    py_lexer_init(&lx, an->src, start, end, line);
    pline pl;
    memset(&pl, 0, sizeof(pl));
    for (;;) {
        py_token t;
        py_lexer_next(&lx, &t);
        if (t.type == PY_TOK_END || !pline_push(an, &pl, &t))
            break;
    }
    pline *saved = an->pl;
    an->pl = &pl;
    ex e = parse_exprlist(an);
    *value = e.v;
    if (pl.i < pl.n)
        fallback_scan(an, pl.i, pl.n);
    an->pl = saved;
    pline_free(&pl);
    leave(an);
}

/* Code handed to exec/eval/compile as a constant (possibly decoded): it is
 * analysed as Python, its findings located at the call's line. */
static void analyse_payload(pyan *an, const pv *code, uint32_t line, const char *what)
{
    if (!code || code->kind != PV_STR || code->n == 0 || memchr(code->s, 0, code->n))
        return;
    if (an->nest >= an->ctx->limits->nested_max_depth) {
        an->limit_nesting = true;
        return;
    }
    if (an->payload_bytes + code->n > an->ctx->limits->nested_max_bytes) {
        an->limit_payload = true;
        return;
    }
    an->payload_bytes += code->n;
    unsigned saved_nest = an->nest;
    uint32_t saved_outer = an->outer_line;
    const char *saved_desc = an->nest_desc;
    pline *saved_pl = an->pl;
    unsigned saved_depth = an->depth;
    if (!an->nest)
        an->outer_line = line + an->line_base;
    ms_strbuf sb;
    ms_strbuf_init(&sb, 400);
    ms_strbuf_printf(&sb, "In code passed to %s() on line %u", what, an->outer_line);
    if (code->dec & ~DEC_JOIN) {
        ms_strbuf_puts(&sb, " (decoded through ");
        describe_decoders(&sb, code->dec);
        ms_strbuf_puts(&sb, ")");
    }
    const char *desc = arena_strndup(&an->scratch, sb.data ? sb.data : "", sb.len);
    ms_strbuf_free(&sb);
    an->nest_desc = desc ? desc : "In code passed to exec()";
    an->nest++;
    run_source(an, code->s, 0, code->n, 1);
    an->nest = saved_nest;
    an->outer_line = saved_outer;
    an->nest_desc = saved_desc;
    an->pl = saved_pl;
    an->depth = saved_depth;
}

static void pyan_init(pyan *an, ms_scan_ctx *ctx)
{
    memset(an, 0, sizeof(*an));
    an->ctx = ctx;
    an->location = ctx->location ? ctx->location : "";
    an->scratch.max = MS_DEFAULT_PYSCAN_MAX_VALUE_BYTES;
    an->keep.max = MS_DEFAULT_PYSCAN_MAX_VALUE_BYTES / 4;
    an->max_depth = MS_DEFAULT_PYSCAN_MAX_DEPTH;
    an->max_findings = MS_DEFAULT_PYSCAN_MAX_FINDINGS;
}

/* Reports what stopped or limited the analysis, frees everything. */
static ms_status pyan_finish(pyan *an, const char *what)
{
    ms_report *r = an->ctx->report;
    if (an->lex_errors) {
        char *loc = an->first_error_cell
                        ? ms_strdup_printf("%s:cell%u:line%u", an->location,
                                           an->first_error_cell, an->first_error_line)
                        : ms_strdup_printf("%s:%u", an->location, an->first_error_line);
        json_t *d = json_pack("{s:s, s:I, s:s, s:I}", "file", an->location, "line",
                              (json_int_t)an->first_error_line, "error", an->first_error,
                              "problems", (json_int_t)an->lex_errors);
        if (d && an->first_error_cell)
            json_object_set_new(d, "cell", json_integer(an->first_error_cell));
        if (!loc || !ms_report_add(r, "CUSTOM-CODE-MALFORMED", loc, d,
                                   "Python would refuse this %s: %s on line %u%s (%u problem%s "
                                   "in all). It cannot be run as it is; the analyser read what it "
                                   "could around the problem, and what it could not read is "
                                   "unscanned.",
                                   what, an->first_error, an->first_error_line,
                                   an->first_error_cell ? " of its cell" : "", an->lex_errors,
                                   an->lex_errors == 1 ? "" : "s"))
            an->nomem = true;
        free(loc);
    }
    ms_strbuf sb;
    ms_strbuf_init(&sb, 1024);
    if (an->limit_values)
        ms_strbuf_puts(&sb, "memory for tracked values; ");
    if (an->limit_depth)
        ms_strbuf_puts(&sb, "expression nesting; ");
    if (an->limit_tokens)
        ms_strbuf_puts(&sb, "tokens per logical line (the rest was searched for call patterns "
                            "only); ");
    if (an->limit_nesting)
        ms_strbuf_puts(&sb, "code passed to exec nested too deeply; ");
    if (an->limit_payload)
        ms_strbuf_puts(&sb, "bytes decoded for payloads; ");
    if (sb.len) {
        sb.data[sb.len - 2] = '\0';
        if (!ms_report_add(r, "SCAN-LIMIT", an->location,
                           json_pack("{s:s, s:s}", "limit", "python analysis", "which", sb.data),
                           "The analysis of this %s hit limits (%s): what they cut off was not "
                           "fully analysed.",
                           what, sb.data))
            an->nomem = true;
    }
    ms_strbuf_free(&sb);
    if (an->omitted &&
        !ms_report_add(r, "SCAN-LIMIT", an->location,
                       json_pack("{s:s, s:I, s:I}", "limit", "findings per file", "max",
                                 (json_int_t)an->max_findings, "omitted", (json_int_t)an->omitted),
                       "This %s has more dangerous call sites than the %u listed; %u more were "
                       "found and not listed.",
                       what, an->max_findings, an->omitted))
        an->nomem = true;
    free(an->syms.slots);
    free(an->dedupe);
    arena_free(&an->scratch);
    arena_free(&an->keep);
    if (an->nomem)
        return MS_NOMEM;
    return an->stopped ? MS_LIMIT : MS_OK;
}

ms_status pyscan_file(ms_scan_ctx *ctx, const uint8_t *src, size_t len)
{
    pyan an;
    pyan_init(&an, ctx);
    run_source(&an, src, 0, len, 1);
    return pyan_finish(&an, "file");
}

/* ======================================================================
 * Notebooks
 * ====================================================================== */

bool notebook_probe_json(const json_t *doc)
{
    return json_is_object(doc) && json_object_get(doc, "nbformat") &&
           (json_is_array(json_object_get(doc, "cells")) ||
            json_is_array(json_object_get(doc, "worksheets")));
}

/* The source of a cell: a string or a list of strings. */
static bool cell_source(const json_t *src, ms_strbuf *out)
{
    if (json_is_string(src)) {
        ms_strbuf_append(out, json_string_value(src), json_string_length(src));
        return true;
    }
    if (!json_is_array(src))
        return false;
    size_t i;
    const json_t *part;
    json_array_foreach(src, i, part) {
        if (!json_is_string(part))
            return false;
        ms_strbuf_append(out, json_string_value(part), json_string_length(part));
    }
    return true;
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Blanks [a, b) of the cell text (keeping newlines, so lines keep their
 * numbers). */
static void blank(char *s, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (s[i] != '\n' && s[i] != '\r')
            s[i] = ' ';
}

/* IPython syntax in a cell: shell escapes and magics are reported and
 * blanked so that the rest reads as Python. */
static void cell_magics(pyan *an, char *s, size_t n)
{
    uint32_t line = 1;
    bool first_code_line = true;
    for (size_t i = 0; i < n;) {
        size_t eol = i;
        while (eol < n && s[eol] != '\n')
            eol++;
        /* a magic line continues over trailing backslashes */
        size_t end = eol;
        uint32_t extra = 0;
        size_t p = i;
        while (p < eol && (s[p] == ' ' || s[p] == '\t'))
            p++;
        bool blank_line = p == eol;
        if (!blank_line && (s[p] == '!' || s[p] == '%')) {
            while (end < n && end > i && s[end - 1] == '\\') {
                end++;
                while (end < n && s[end] != '\n')
                    end++;
                extra++;
            }
        }
        if (!blank_line) {
            const char *w = s + p;
            size_t wl = 0;
            if (s[p] == '%' && p + 1 < eol && s[p + 1] == '%') {
                size_t q = p + 2;
                while (q < eol && (isalnum((unsigned char)s[q]) || s[q] == '_'))
                    q++;
                w = s + p + 2;
                wl = q - (p + 2);
                static const char *const shells[] = {"bash", "sh", "script", "system", "perl",
                                                     "ruby", "zsh", "csh", "ksh", "python2",
                                                     "python3", "pypy", "sx", NULL};
                static const char *const foreign[] = {"html", "javascript", "js", "markdown",
                                                      "latex", "svg", "HTML", NULL};
                bool shell = false, other = false;
                for (int k = 0; shells[k]; k++)
                    shell |= word_is(w, wl, shells[k]);
                for (int k = 0; foreign[k]; k++)
                    other |= word_is(w, wl, foreign[k]);
                if (shell && first_code_line) {
                    py_report(an, line, CAT_PROCESS, NULL, p, eol,
                              "the cell magic runs the whole cell as a %.*s script", (int)wl, w);
                    blank(s, i, n);
                    return;
                }
                if (other && first_code_line) {
                    blank(s, i, n);
                    return;
                }
                if (word_is(w, wl, "writefile") || word_is(w, wl, "file")) {
                    size_t a = q;
                    while (a < eol && (s[a] == ' ' || s[a] == '\t' || s[a] == '-'))
                        a++;
                    if (a < eol && (s[a] == '~' || s[a] == '/' ||
                                    has_sub((const uint8_t *)s + a, eol - a, "..")))
                        py_report(an, line, CAT_WRITE, NULL, p, eol,
                                  "the cell magic writes the cell to a path outside the "
                                  "repository");
                }
                blank(s, i, eol);
            } else if (s[p] == '!' || s[p] == '%') {
                /* line magics and shell escapes */
                size_t q = p + 1;
                if (s[p] == '!' && q < eol && s[q] == '!')
                    q++;
                size_t ws = q;
                while (q < eol && (isalnum((unsigned char)s[q]) || s[q] == '_'))
                    q++;
                w = s + ws;
                wl = q - ws;
                if (s[p] == '!') {
                    py_report(an, line, CAT_PROCESS, NULL, p, end,
                              "a notebook shell escape runs a shell command");
                    blank(s, i, end);
                } else if (word_is(w, wl, "system") || word_is(w, wl, "sx") ||
                           word_is(w, wl, "pip") || word_is(w, wl, "conda") ||
                           word_is(w, wl, "mamba") || word_is(w, wl, "sc")) {
                    py_report(an, line, CAT_PROCESS, NULL, p, end,
                              "the %%%.*s magic runs a shell command", (int)wl, w);
                    blank(s, i, end);
                } else if (word_is(w, wl, "run") || word_is(w, wl, "load") ||
                           word_is(w, wl, "loadpy")) {
                    py_report(an, line, CAT_EVAL, NULL, p, end,
                              "the %%%.*s magic runs or loads code from another file or a URL",
                              (int)wl, w);
                    blank(s, i, end);
                } else if (word_is(w, wl, "time") || word_is(w, wl, "timeit") ||
                           word_is(w, wl, "prun") || word_is(w, wl, "capture")) {
                    blank(s, p, q); /* the rest of the line is Python */
                } else {
                    blank(s, i, end);
                }
            } else {
                /* `files = !ls`, `out = %sx cmd` */
                size_t eq = p;
                while (eq < eol && s[eq] != '=' && s[eq] != '(' && s[eq] != '\'' && s[eq] != '"')
                    eq++;
                if (eq < eol && s[eq] == '=' && eq + 1 < eol && s[eq + 1] != '=' &&
                    eq > p && s[eq - 1] != '!' && s[eq - 1] != '<' && s[eq - 1] != '>') {
                    size_t r = eq + 1;
                    while (r < eol && (s[r] == ' ' || s[r] == '\t'))
                        r++;
                    if (r < eol && (s[r] == '!' ||
                                    (s[r] == '%' && (has_sub((const uint8_t *)s + r, eol - r, "%sx") ||
                                                     has_sub((const uint8_t *)s + r, eol - r, "%system"))))) {
                        py_report(an, line, CAT_PROCESS, NULL, p, eol,
                                  "a notebook shell escape runs a shell command and keeps its "
                                  "output");
                        blank(s, i, eol);
                    }
                }
                /* IPython automagic: `pip install x` without the % */
                size_t q = p;
                while (q < eol && isalpha((unsigned char)s[q]))
                    q++;
                if ((word_is(s + p, q - p, "pip") || word_is(s + p, q - p, "conda")) && q < eol &&
                    s[q] == ' ' && q + 1 < eol && isalpha((unsigned char)s[q + 1])) {
                    py_report(an, line, CAT_PROCESS, NULL, p, eol,
                              "IPython runs this line as the %%%.*s magic (automagic): it "
                              "installs packages, running their build scripts",
                              (int)(q - p), s + p);
                    blank(s, i, eol);
                }
                /* `obj?` help syntax */
                size_t t = eol;
                while (t > p && (s[t - 1] == ' ' || s[t - 1] == '\t' || s[t - 1] == '\r'))
                    t--;
                if (t > p && s[t - 1] == '?')
                    blank(s, i, eol);
            }
            first_code_line = false;
        }
        line += 1 + extra;
        i = end < n ? end + 1 : n;
    }
}

ms_status notebook_scan(ms_scan_ctx *ctx, const json_t *doc)
{
    pyan an;
    pyan_init(&an, ctx);
    const json_t *cells = json_object_get(doc, "cells");
    const json_t *sheets = json_object_get(doc, "worksheets");
    size_t nsheets = json_is_array(cells) ? 1 : json_is_array(sheets) ? json_array_size(sheets) : 0;
    bool malformed = nsheets == 0;
    uint32_t index = 0;
    for (size_t w = 0; w < nsheets && !an.stopped && !an.nomem; w++) {
        const json_t *list = cells;
        if (!json_is_array(cells)) {
            list = json_object_get(json_array_get(sheets, w), "cells");
            if (!json_is_array(list)) {
                malformed = true;
                continue;
            }
        }
        size_t i;
        const json_t *cell;
        json_array_foreach(list, i, cell) {
            index++;
            if (an.stopped || an.nomem)
                break;
            if (!json_is_object(cell)) {
                malformed = true;
                continue;
            }
            const char *type = json_string_value(json_object_get(cell, "cell_type"));
            if (!type || strcmp(type, "code") != 0)
                continue;
            const json_t *src = json_object_get(cell, "source");
            if (!src)
                src = json_object_get(cell, "input"); /* nbformat 3 */
            ms_strbuf sb;
            ms_strbuf_init(&sb, (size_t)1 << 30);
            if (!cell_source(src, &sb)) {
                malformed = true;
                ms_strbuf_free(&sb);
                continue;
            }
            if (sb.nomem) {
                an.nomem = true;
                ms_strbuf_free(&sb);
                break;
            }
            an.cell = index;
            if (sb.len) {
                const uint8_t *saved = an.src;
                an.src = (const uint8_t *)sb.data;
                cell_magics(&an, sb.data, sb.len);
                an.src = saved;
                run_source(&an, (const uint8_t *)sb.data, 0, sb.len, 1);
            }
            ms_strbuf_free(&sb);
        }
    }
    an.cell = 0;
    if (malformed &&
        !ms_report_add(ctx->report, "CUSTOM-CODE-MALFORMED", an.location,
                       json_pack("{s:s}", "file", an.location),
                       "The notebook's structure is not what Jupyter writes (cells that are not "
                       "objects, a source that is not text or a list of text, no cell list): "
                       "what could not be read was not analysed."))
        an.nomem = true;
    return pyan_finish(&an, "notebook");
}

/* ======================================================================
 * Content probe
 * ====================================================================== */

static bool soft_keyword(pyan *an, const py_token *t)
{
    return is_kw(an, t, "match") || is_kw(an, t, "case") || is_kw(an, t, "type") ||
           is_kw(an, t, "print") || is_kw(an, t, "exec") || is_kw(an, t, "_");
}

bool pyscan_probe(const uint8_t *d, size_t n)
{
    if (n == 0)
        return false;
    size_t look = n < 65536 ? n : 65536;
    if (memchr(d, 0, look))
        return false;
    size_t i = (n >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) ? 3 : 0;
    while (i < look && isspace(d[i]))
        i++;
    if (i < look && (d[i] == '{' || d[i] == '[')) {
        if (n > (1u << 20))
            return false;
        json_t *j = json_loadb((const char *)d, n, JSON_DECODE_ANY, NULL);
        if (j) {
            json_decref(j);
            return false;
        }
    }
    if (look >= 4 && memcmp(d, "---", 3) == 0 && (d[3] == '\n' || d[3] == '\r'))
        return false; /* YAML front matter: a model card */
    /* first line: shebang; first two lines: coding cookie (PEP 263) */
    const uint8_t *nl = memchr(d, '\n', look);
    size_t l1 = nl ? (size_t)(nl - d) : look;
    if (l1 >= 2 && d[0] == '#' && d[1] == '!' && has_sub(d, l1, "python"))
        return true;
    const uint8_t *nl2 = nl ? memchr(nl + 1, '\n', look - l1 - 1) : NULL;
    size_t l12 = nl2 ? (size_t)(nl2 - d) : look;
    for (size_t k = 0; k < l12; k++)
        if (d[k] == '#' && (has_sub(d + k, l12 - k, "coding:") || has_sub(d + k, l12 - k, "coding=")))
            return true;

    /* tokenize the beginning: count lines only Python starts that way, and
     * token pairs only prose has */
    pyan an;
    memset(&an, 0, sizeof(an));
    an.src = d;
    py_lexer lx;
    py_lexer_init(&lx, d, 0, look, 1);
    size_t last_line_start = look;
    if (look < n) { /* ignore problems on a line the window cuts */
        while (last_line_start > 0 && d[last_line_start - 1] != '\n')
            last_line_start--;
    }
    py_token prev, t, first;
    memset(&prev, 0, sizeof(prev));
    memset(&first, 0, sizeof(first));
    unsigned strong = 0, weak = 0, smells = 0, calls = 0, ntok_line = 0;
    bool first_line_call = false;
    for (unsigned count = 0; count < 200000; count++) {
        py_lexer_next(&lx, &t);
        if (t.type == PY_TOK_END)
            break;
        /* a token the window cuts (a long docstring) proves nothing */
        bool in_cut = look < n && (t.start >= last_line_start || t.end >= look);
        if (t.type == PY_TOK_ERROR && !in_cut) {
            if (t.end > t.start && d[t.start] == '`')
                return false; /* Markdown code spans and fences */
            smells++;
        }
        if (t.type == PY_TOK_STRING && (t.str_flags & PY_STR_UNTERMINATED) && !in_cut)
            smells++;
        if (t.type == PY_TOK_NEWLINE) {
            if (first_line_call)
                calls++;
            ntok_line = 0;
            first_line_call = false;
            prev = t;
            continue;
        }
        an.pl = NULL;
        if (ntok_line == 0) {
            first = t;
        } else if (ntok_line == 1 && first.col == 0 && first.type == PY_TOK_NAME) {
            if ((is_kw(&an, &first, "import") && t.type == PY_TOK_NAME) ||
                (is_kw(&an, &first, "def") && t.type == PY_TOK_NAME) ||
                (is_kw(&an, &first, "class") && t.type == PY_TOK_NAME) ||
                (is_kw(&an, &first, "async") && is_kw(&an, &t, "def")) ||
                (is_kw(&an, &first, "if") && is_kw(&an, &t, "__name__")))
                strong++;
            if (is_kw(&an, &first, "from") && (t.type == PY_TOK_NAME || is_op(&an, &t, ".")))
                strong++; /* confirmed below by its `import` */
        } else if (ntok_line == 1 && first.col == 0 && is_op(&an, &first, "@") &&
                   t.type == PY_TOK_NAME) {
            strong++;
        }
        if (ntok_line >= 1 && prev.type == PY_TOK_NAME && !tok_is_keyword(&an, &prev) &&
            is_op(&an, &t, "("))
            first_line_call = true; /* the line calls something */
        if (t.type == PY_TOK_STRING && (t.str_flags & (PY_STR_FORMAT | PY_STR_TEMPLATE)) &&
            memchr(d + t.start, '(', t.end - t.start))
            first_line_call = true; /* maybe a call inside an f-string field */
        if (ntok_line == 1 && first.col > 0 && first.type == PY_TOK_NAME &&
            ((is_kw(&an, &first, "import") && t.type == PY_TOK_NAME) ||
             (is_kw(&an, &first, "from") && (t.type == PY_TOK_NAME || is_op(&an, &t, ".")))))
            weak++; /* an import inside `try:` or a function */
        /* prose: two words in a row, a word after a number or a bracket */
        if (ntok_line >= 1 && !in_cut) {
            bool t_word = t.type == PY_TOK_NAME && !tok_is_keyword(&an, &t);
            bool p_word = prev.type == PY_TOK_NAME && !tok_is_keyword(&an, &prev) &&
                          !soft_keyword(&an, &prev);
            if (t_word && (p_word || prev.type == PY_TOK_NUMBER ||
                           (prev.type == PY_TOK_STRING && !(t.str_flags)) ||
                           is_op(&an, &prev, ")") || is_op(&an, &prev, "]")))
                smells++;
            else if (p_word && (t.type == PY_TOK_NUMBER || t.type == PY_TOK_STRING) &&
                     !is_kw(&an, &prev, "print"))
                smells++;
            else if (prev.type == PY_TOK_NUMBER && t.type == PY_TOK_NUMBER)
                smells++;
            else if (is_op(&an, &t, "{") && (p_word || is_op(&an, &prev, ")")))
                smells++; /* C and JavaScript blocks: `) {`, `do {` */
        }
        ntok_line++;
        prev = t;
    }
    if (strong > 0)
        return smells * 4 <= strong;
    /* no column-0 import/def/class line (`try:` blocks, one-liners): every
     * token pair must read as Python and something must import or call */
    return smells == 0 && (calls > 0 || weak > 0);
}
