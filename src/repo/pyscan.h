/*
 * pyscan.h - static analysis of Python source files and Jupyter notebooks
 * shipped with a model (custom code loaded with trust_remote_code=True).
 *
 * Nothing here imports, compiles or runs Python: the source is tokenized by
 * our own tokenizer (src/repo/pyscan.c explains why) and walked statement by
 * statement, tracking imports, aliases and constant strings, to report calls
 * that execute processes or code, open the network, deserialise pickles,
 * write outside the repository, etc. (rules CUSTOM-CODE-*, docs/rules.md).
 */
#ifndef MS_PYSCAN_H
#define MS_PYSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../core/scan_ctx.h"

/* True when the content looks like Python source: a `#!...python` line or a
 * coding cookie, or column-0 `import`/`from ... import`/`def`/`class`/
 * decorator lines in text that tokenizes as Python (prose, Markdown with code
 * fences and JSON are refused). Content only, never the file name. */
bool pyscan_probe(const uint8_t *data, size_t len);

/* Analyses `src` as a Python module at ctx->location (findings are located
 * `<ctx->location>:<line>`). Returns MS_OK when the analysis ran (findings,
 * including a malformed file, travel in the report), MS_NOMEM when memory ran
 * out, MS_LIMIT when the time limit stopped it (also reported). */
MS_WARN_UNUSED ms_status pyscan_file(ms_scan_ctx *ctx, const uint8_t *src, size_t len);

/* Analyses the code cells of a Jupyter notebook document (nbformat 4
 * `cells`, or nbformat 3 `worksheets[].cells`) at ctx->location: findings
 * are located `<ctx->location>:cell<N>:line<L>` where N counts every cell of
 * the notebook from 1 and L the lines of that cell's source from 1. Shell
 * escapes (`!cmd`, `%system`, `%%bash` ...) are process execution. The
 * caller keeps ownership of `doc`. */
MS_WARN_UNUSED ms_status notebook_scan(ms_scan_ctx *ctx, const json_t *doc);

/* True when a parsed JSON document is a notebook (has `nbformat` and `cells`
 * or `worksheets`). */
bool notebook_probe_json(const json_t *doc);

/* ---- the tokenizer, exported for tests and the fuzz target ---- */

typedef enum py_tok_type {
    PY_TOK_END = 0, /* end of input */
    PY_TOK_NAME,    /* identifier or keyword */
    PY_TOK_NUMBER,
    PY_TOK_STRING, /* one literal, prefix and quotes included */
    PY_TOK_OP,     /* operator or delimiter */
    PY_TOK_NEWLINE, /* end of a logical line */
    PY_TOK_ERROR,  /* a character or construct Python refuses (see `error`) */
} py_tok_type;

/* String prefix flags (PY_TOK_STRING) */
enum {
    PY_STR_RAW = 1,
    PY_STR_BYTES = 2,
    PY_STR_FORMAT = 4,   /* f-string */
    PY_STR_TEMPLATE = 8, /* t-string (Python 3.14) */
    PY_STR_TRIPLE = 16,
    PY_STR_UNTERMINATED = 32,
};

typedef struct py_token {
    py_tok_type type;
    uint32_t line;     /* 1-based line of the first byte */
    uint32_t col;      /* byte column of the first byte, from 0 */
    size_t start, end; /* byte range in the source */
    uint8_t str_flags; /* PY_STR_* for strings */
    uint8_t prefix_len;
    const char *error; /* PY_TOK_ERROR (and unterminated strings): why */
} py_token;

enum { PY_LEX_MAX_BRACKETS = 200 }; /* CPython refuses deeper nesting too */

typedef struct py_lexer {
    const uint8_t *src;
    size_t pos, end;
    uint32_t line;
    size_t line_start;
    unsigned depth;          /* open brackets (may exceed the stack: then an error) */
    char stack[PY_LEX_MAX_BRACKETS];
    bool line_has_tokens;    /* the current logical line has a token */
    bool done;
    unsigned fstring_depth;  /* nesting of f-strings being scanned */
    uint32_t errors;
} py_lexer;

/* Tokenizes src[start, end) whose first byte is on line `line`. */
void py_lexer_init(py_lexer *lx, const uint8_t *src, size_t start, size_t end, uint32_t line);
/* The next token; PY_TOK_END forever at the end. Never fails: what Python
 * would refuse becomes a PY_TOK_ERROR token (or a string flagged
 * PY_STR_UNTERMINATED) and tokenizing goes on. */
void py_lexer_next(py_lexer *lx, py_token *tok);

#endif
