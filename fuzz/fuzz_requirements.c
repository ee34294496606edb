/*
 * fuzz_requirements.c - libFuzzer target for the dependency readers: the same
 * bytes as a requirements file, pyproject.toml, setup.cfg, setup.py, a README
 * front matter and a broken config.json, then as a PEP 440 version and
 * specifier set; everything found is checked against the built-in advisories.
 * Aborts on an internal error; ASan/UBSan catch the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "model_scanner.h"
#include "../src/repo/deps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static osv_db *db;
    if (!db && (!(db = osv_db_new()) || osv_db_add_builtin(db) != MS_OK))
        abort();
    const char *text = (const char *)data;
    dep_list deps;
    dep_list_init(&deps);
    if (deps_from_requirements(text, size, "requirements.txt", &deps) == MS_INTERNAL ||
        deps_from_pyproject(text, size, "pyproject.toml", &deps) == MS_INTERNAL ||
        deps_from_setup_cfg(text, size, "setup.cfg", &deps) == MS_INTERNAL ||
        deps_from_setup_py(text, size, "setup.py", &deps) == MS_INTERNAL ||
        deps_from_readme(text, size, "README.md", &deps) == MS_INTERNAL ||
        deps_from_json_text(text, size, "config.json", &deps) == MS_INTERNAL)
        abort();
    pep440_version v;
    pep440_specifier_set set;
    char buf[PEP440_MAX_TEXT * 2];
    if (pep440_parse(text, size, &v))
        pep440_format(&v, buf, sizeof(buf));
    if (pep440_specifier_set_parse(text, size, &set) && pep440_parse_str("1.0rc1", &v))
        (void)pep440_specifier_set_contains(&set, &v, PEP440_PRE_DEFAULT);
    ms_report *r = ms_report_new("fuzz");
    if (r) {
        ms_scan_ctx ctx;
        memset(&ctx, 0, sizeof(ctx));
        ctx.report = r;
        ctx.location = "Model Repository";
        if (deps_check(&ctx, &deps, db) == MS_INTERNAL)
            abort();
        ms_report_finish(r);
        json_decref(ms_report_to_json(r));
        ms_report_free(r);
    }
    dep_list_free(&deps);
    return 0;
}
