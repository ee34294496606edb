/*
 * json_scan.c - JSON configuration files and the chat templates they carry.
 *
 *   tokenizer_config.json
 *   { "model_max_length": 1000000000000000019884624838656,
 *     "chat_template": "{% for message in messages %}...",          one
 *     ... }
 *   { "chat_template": [ {"name": "default",  "template": "..."},    or named
 *                        {"name": "tool_use", "template": "..."} ] }
 *   chat_template.json (processors): { "chat_template": "..." }
 *
 * Specification: RFC 8259; the chat_template key as Hugging Face
 * transformers reads it (a string, or a list of {name, template} dicts,
 * https://huggingface.co/docs/transformers/main/en/chat_templating). Parsed
 * with jansson, bounded in size here and in depth by jansson; Python's
 * json module accepts more than RFC 8259 (NaN, Infinity, integers of any
 * size), and what Python reads is what a loader renders, so those are
 * accepted too. A file that is not JSON after all is handed to the text
 * check: a chat_template.jinja starting with "{%" or "{{" probes as JSON,
 * and a README starting with '[' raises nothing.
 */
#include "json_scan.h"
#include "../../repo/pyscan.h"
#include "../../repo/remote_code.h"

#include <stdlib.h>
#include <string.h>

#include "../../policy/template_check.h"
#include "../../util/strbuf.h"

static const size_t JSON_FLAGS = JSON_DECODE_ANY | JSON_ALLOW_NUL;

static bool has_bytes(const uint8_t *d, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n;) {
        const uint8_t *p = memchr(d + i, (unsigned char)needle[0], n - i - m + 1);
        if (!p)
            return false;
        if (memcmp(p, needle, m) == 0)
            return true;
        i = (size_t)(p - d) + 1;
    }
    return false;
}

/* Python's json.dumps writes NaN, Infinity and -Infinity bare; outside
 * strings they become 0 (same length, padded with spaces). */
static void neutralise_python_literals(char *s, size_t n)
{
    static const char *const words[] = {"-Infinity", "Infinity", "NaN"};
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        if (in_string) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_string = false;
            continue;
        }
        if (s[i] == '"') {
            in_string = true;
            continue;
        }
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
            size_t m = strlen(words[w]);
            if (i + m <= n && memcmp(s + i, words[w], m) == 0) {
                size_t k = 0;
                if (words[w][0] == '-')
                    s[i + k++] = '-';
                s[i + k++] = '0';
                while (k < m)
                    s[i + k++] = ' ';
                i += m - 1;
                break;
            }
        }
    }
}

json_t *jsonfile_parse(const uint8_t *data, size_t len, json_error_t *err)
{
    json_error_t local;
    if (!err)
        err = &local;
    if (len > JSONFILE_MAX_BYTES) {
        memset(err, 0, sizeof(*err));
        snprintf(err->text, sizeof(err->text), "document of %zu bytes is above the %u-byte limit",
                 len, (unsigned)JSONFILE_MAX_BYTES);
        return NULL;
    }
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    json_t *doc = json_loadb((const char *)data, len, JSON_FLAGS, err);
    if (doc)
        return doc;
    json_error_t first = *err;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, data, len);
    neutralise_python_literals(copy, len);
    doc = json_loadb(copy, len, JSON_FLAGS, err);
    if (!doc)
        doc = json_loadb(copy, len, JSON_FLAGS | JSON_DECODE_INT_AS_REAL, err);
    free(copy);
    if (!doc)
        *err = first;
    return doc;
}

static void check_template(ms_scan_ctx *ctx, const char *key, const json_t *t)
{
    template_check(ctx, key, (const uint8_t *)json_string_value(t), json_string_length(t),
                   TEMPLATE_DECLARED);
}

ms_status jsonfile_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    if (len > JSONFILE_MAX_BYTES) {
        /* only a document that may hold a chat template matters here */
        if (has_bytes(data, len, "\"chat_template\""))
            ms_report_add(ctx->report, "SCAN-LIMIT", ctx->location,
                          json_pack("{s:s, s:I, s:I}", "limit", "JSON document bytes", "size",
                                    (json_int_t)len, "max", (json_int_t)JSONFILE_MAX_BYTES),
                          "The JSON document is %zu bytes, above the %u-byte limit, and names a "
                          "chat_template; it was not parsed, so the template was not analysed.",
                          len, (unsigned)JSONFILE_MAX_BYTES);
        return MS_OK;
    }
    json_t *doc = jsonfile_parse(data, len, NULL);
    if (!doc) /* not JSON after all: a template starting with "{%" or "{{", or text */
        return template_text_scan(ctx, data, len);
    /* configs that make loaders fetch or run code, and notebooks' code cells */
    ms_status st = remote_code_scan_json(ctx, doc, ctx->root);
    if (st == MS_OK && notebook_probe_json(doc)) {
        ctx->format_detail = ctx->depth == 0 ? "notebook" : NULL;
        st = notebook_scan(ctx, doc);
    }
    if (st == MS_NOMEM) {
        json_decref(doc);
        return st;
    }
    const json_t *ct = json_is_object(doc) ? json_object_get(doc, "chat_template") : NULL;
    if (json_is_string(ct)) {
        check_template(ctx, "chat_template", ct);
    } else if (json_is_array(ct)) {
        size_t i;
        const json_t *item;
        json_array_foreach(ct, i, item) {
            const json_t *t = json_object_get(item, "template");
            const json_t *name = json_object_get(item, "name");
            if (!json_is_string(t))
                continue;
            char *key = json_is_string(name)
                            ? ms_strdup_printf("chat_template.%s", json_string_value(name))
                            : ms_strdup_printf("chat_template[%zu]", i);
            if (key) {
                ms_sanitize_text(key);
                check_template(ctx, key, t);
            }
            free(key);
        }
    }
    json_decref(doc);
    return MS_OK;
}

ms_status template_text_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    if (template_looks_like_chat_template(data, len))
        template_check(ctx, NULL, data, len, TEMPLATE_CHAT_TEXT);
    else if (has_bytes(data, len, "{{") || has_bytes(data, len, "{%"))
        template_check(ctx, NULL, data, len, TEMPLATE_OTHER_TEXT);
    return MS_OK;
}
