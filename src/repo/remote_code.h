/*
 * remote_code.h - configuration keys that make a model load Python code
 * (transformers `auto_map` and friends): rule REMOTE-CODE-REQUIRED.
 */
#ifndef MS_REMOTE_CODE_H
#define MS_REMOTE_CODE_H

#include <jansson.h>

#include "../core/scan_ctx.h"

/* Looks through one parsed JSON document (any JSON file of the repository:
 * config.json, tokenizer_config.json, preprocessor_config.json, diffusers'
 * model_index.json, sentence-transformers' modules.json ...) for what makes
 * a loader import code: `auto_map` class references (local or in another
 * repository), `custom_pipelines`, an attention implementation naming a Hub
 * repository (CVE-2026-4372), `trust_remote_code: true`, custom diffusers
 * components and sentence-transformers modules. Findings are located at
 * ctx->location, the document's path relative to the model folder.
 *
 * `root` is the model folder on disk (may be NULL): a referenced module
 * file is looked up (lstat only, never opened or followed) relative to the
 * folder of ctx->location; inside a container (a '!' in ctx->location) or
 * without `root`, presence is reported as unknown. The caller keeps `doc`.
 * Returns MS_OK, or MS_NOMEM when the report could not grow. */
MS_WARN_UNUSED ms_status remote_code_scan_json(ms_scan_ctx *ctx, const json_t *doc,
                                               const char *root);

#endif
