/*
 * json_scan.h - JSON configuration files (tokenizer_config.json, config.json
 * ...) and template-looking text files (chat_template.jinja).
 */
#ifndef MS_JSON_SCAN_H
#define MS_JSON_SCAN_H

#include "../../core/scan_ctx.h"

/* JSON documents larger than this are reported (SCAN-LIMIT), not parsed:
 * the largest configuration files of real repositories, tokenizer.json
 * included, stay below 40 MB. */
#define JSONFILE_MAX_BYTES (64u << 20)

/* Parses a JSON document as Python's json module reads it: a UTF-8 BOM is
 * skipped, NaN/Infinity/-Infinity are read as 0 and integers too large for
 * 64 bits as reals (Hugging Face configs hold 1e30 as an integer), duplicate
 * keys keep the last value, "\u0000" is allowed in strings; nesting is
 * bounded by jansson (2048 levels). Returns a new reference, or NULL when
 * the document is invalid JSON or larger than JSONFILE_MAX_BYTES (err, may
 * be NULL, says why). For the repository configuration checks. */
json_t *jsonfile_parse(const uint8_t *data, size_t len, json_error_t *err);

/* The "json" format: runs the chat template analyser on "chat_template"
 * (a string, or a list of {"name", "template"} objects as tokenizer configs
 * allow). Invalid JSON is not a finding by itself. */
ms_status jsonfile_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

/* The "text" format: a text file that looks like a Jinja chat template
 * ("{%" or "{{" and the word "message", e.g. chat_template.jinja) goes to
 * the chat template analyser; other text with Jinja tags is checked only
 * for constructs that reach dunder names; any other text raises nothing. */
ms_status template_text_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

#endif
