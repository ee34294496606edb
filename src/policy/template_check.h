/*
 * template_check.h - the chat template analyser.
 *
 * Reads a Jinja2 template as tokens - it never renders, compiles or imports
 * it - and names every construct through which rendering the template can
 * reach Python internals: dunder attributes, gadget globals, the attr filter
 * with a computed name, strings assembled into dunder names, template loading
 * statements. Chat templates come from GGUF metadata
 * (tokenizer.chat_template), tokenizer_config.json (chat_template) and
 * chat_template.jinja files.
 */
#ifndef MS_TEMPLATE_CHECK_H
#define MS_TEMPLATE_CHECK_H

#include "../core/scan_ctx.h"

/* Templates longer than this are reported (SCAN-LIMIT), not analysed: the
 * longest published chat templates are a few tens of KB. (Text that merely
 * contains Jinja2 tags, TEMPLATE_OTHER_TEXT, is skipped instead.) */
#define TEMPLATE_MAX_BYTES (64u << 20)

/* One construct seen in a template. Strings are owned, valid UTF-8. */
typedef struct template_construct {
    const char *kind; /* static: "dunder attribute", "gadget global" ... */
    char *name;       /* the name or string seen: "__globals__", "cycler" */
    char *snippet;    /* the tag around it, whitespace folded, shortened */
    size_t offset;    /* byte offset of the construct in the template */
    unsigned line;    /* 1-based line of that offset */
} template_construct;

typedef struct template_result {
    template_construct *items; /* distinct (kind, name) pairs, first occurrence */
    size_t count;              /* items recorded (at most TEMPLATE_MAX_CONSTRUCTS) */
    size_t total;              /* constructs seen, repeats and unrecorded included */
    size_t tags;               /* {{ }} and {% %} tags read */
    bool lex_error;            /* the text is not valid Jinja2 at the token level */
    bool nomem;                /* memory ran out: the analysis is incomplete */
} template_result;

#define TEMPLATE_MAX_CONSTRUCTS 32

/* Analyses `len` bytes of template text (not NUL-terminated). Always
 * initialises *out; release it with template_result_free(). */
void template_analyse(const uint8_t *text, size_t len, template_result *out);
void template_result_free(template_result *r);

/* Content test for text files: does it look like a Jinja chat template
 * ("{%" or "{{" and the word "message")? */
bool template_looks_like_chat_template(const uint8_t *text, size_t len);

/* Where a template comes from, which decides what is reported. */
typedef enum template_origin {
    /* declared as a chat template (GGUF key, tokenizer_config.json key):
     * every construct is reported, whether or not the text lexes */
    TEMPLATE_DECLARED,
    /* a text file that looks like a chat template: reported only when it is
     * valid Jinja2 at the token level (otherwise no environment renders it) */
    TEMPLATE_CHAT_TEXT,
    /* other text with Jinja2 tags (web templates, documentation): as above,
     * and only constructs that reach dunder names, which no template of any
     * kind needs; url_for, request, {% extends %} are normal there */
    TEMPLATE_OTHER_TEXT,
} template_origin;

/* Analyses one template and reports TEMPLATE-INJECTION at ctx->location
 * when it reaches anything dangerous; `key` (may be NULL) names where the
 * template came from ("tokenizer.chat_template") and goes to details.key.
 * Returns the number of constructs reported. */
size_t template_check(ms_scan_ctx *ctx, const char *key, const uint8_t *text, size_t len,
                      template_origin origin);

#endif
