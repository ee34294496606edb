/*
 * report_export.c - scans model folders and prints their reports as SARIF
 * or CycloneDX, for tests/test_sarif_cyclonedx.py (until the command line
 * has --output-format sarif|cyclonedx).
 *
 * usage: report-export sarif|cyclonedx|all [--suppress-first] [--no-hash]
 *                      MODEL_PATH...
 *
 * sarif: one log with a run per path; cyclonedx: the BOM of the first path;
 * all: {"json", "sarif", "cyclonedx", "facts"} of one scan of the first path,
 * "facts" being the report's {"dependencies", "model_card"}. --suppress-first
 * marks the first finding of each report suppressed, as a policy file would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_scanner.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: report-export sarif|cyclonedx|all [--suppress-first] "
                        "[--no-hash] MODEL_PATH...\n");
        return 2;
    }
    const char *mode = argv[1];
    bool suppress = false, hash = true;
    int first = 2;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--suppress-first") == 0)
            suppress = true;
        else if (strcmp(argv[first], "--no-hash") == 0)
            hash = false;
        else {
            fprintf(stderr, "report-export: unknown option %s\n", argv[first]);
            return 2;
        }
    }
    int n = argc - first;
    if (n < 1) {
        fprintf(stderr, "report-export: no model path\n");
        return 2;
    }
    ms_report **reports = calloc((size_t)n, sizeof(*reports));
    if (!reports)
        return 2;
    int status = 0;
    for (int i = 0; i < n && status == 0; i++) {
        ms_options opts;
        ms_options_default(&opts);
        opts.model_path = argv[first + i];
        opts.hash_files = hash;
        ms_status st = ms_scan(&opts, &reports[i]);
        if (st != MS_OK) {
            fprintf(stderr, "report-export: %s: %s\n", argv[first + i], ms_status_name(st));
            status = 2;
            break;
        }
        ms_report *r = reports[i];
        if (suppress && r->nfindings) {
            r->findings[0].suppressed = true;
            r->findings[0].suppress_reason = strdup("accepted for the export test");
            r->findings[0].suppress_expires = strdup("2099-12-31");
        }
    }
    json_t *out = NULL;
    if (status == 0) {
        if (strcmp(mode, "sarif") == 0) {
            out = ms_report_to_sarif((const ms_report *const *)reports, (size_t)n);
        } else if (strcmp(mode, "cyclonedx") == 0) {
            out = ms_report_to_cyclonedx(reports[0]);
        } else if (strcmp(mode, "all") == 0) {
            out = json_pack("{s:o?, s:o?, s:o?, s:{s:O?, s:O?}}", "json",
                            ms_report_to_json(reports[0]), "sarif",
                            ms_report_to_sarif((const ms_report *const *)reports, 1), "cyclonedx",
                            ms_report_to_cyclonedx(reports[0]), "facts", "dependencies",
                            reports[0]->dependencies, "model_card", reports[0]->model_card);
        } else {
            fprintf(stderr, "report-export: unknown mode %s\n", mode);
            status = 2;
        }
    }
    if (status == 0 && !out) {
        fprintf(stderr, "report-export: the writer returned nothing\n");
        status = 1;
    }
    if (out) {
        char *text = json_dumps(out, JSON_INDENT(1) | JSON_ENSURE_ASCII);
        if (text) {
            fputs(text, stdout);
            fputc('\n', stdout);
            free(text);
        } else {
            status = 1;
        }
        json_decref(out);
    }
    for (int i = 0; i < n; i++)
        ms_report_free(reports[i]);
    free(reports);
    return status;
}
