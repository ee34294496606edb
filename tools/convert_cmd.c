/*
 * convert_cmd.c - `model-scanner convert INPUT [OUTPUT]`: converts PyTorch
 * pickle checkpoints to safetensors without running them (include/ms_convert.h).
 *
 * Prints what was written (or, with --quiet, nothing) on standard output. A
 * refusal prints its findings the way a text scan report shows them: the
 * scan's own report when the scanner's analysis refused the file, or one
 * "Unsupported Content [CONVERT-REFUSED]" entry when the restricted
 * evaluator did. Exit status: 0 converted, 1 refused, 2 could not run.
 */
#define _GNU_SOURCE
#include "convert_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_convert.h"

static const char convert_usage[] =
    "Usage: model-scanner convert [--force] [--drop-non-tensors] [--quiet] INPUT [OUTPUT]\n"
    "\n"
    "Converts a PyTorch checkpoint (torch.save zip or legacy format, any file name)\n"
    "or a model folder to safetensors without running the pickle: the scanner's\n"
    "analysis must find nothing but the pickle format itself, and a restricted\n"
    "evaluator that knows only tensors, storages, dtypes and plain containers reads\n"
    "it. OUTPUT defaults to the input's name with .safetensors (pytorch_model*.bin\n"
    "becomes model*.safetensors). A folder converts pytorch_model.bin,\n"
    "adapter_model.bin and the shards of pytorch_model.bin.index.json beside\n"
    "themselves, and writes model.safetensors.index.json.\n"
    "\n"
    "  --force             replace outputs that exist\n"
    "  --drop-non-tensors  leave out entries that are not tensors (an epoch count,\n"
    "                      optimizer state) and list them, instead of refusing\n"
    "  --quiet             print nothing when the conversion succeeds\n"
    "\n"
    "Exit status: 0 converted, 1 refused (unsafe or unsupported content, nothing\n"
    "written), 2 could not run (arguments, I/O, an output that exists).\n";

static void print_size(FILE *out, uint64_t bytes)
{
    if (bytes >= (1ULL << 30))
        fprintf(out, "%.2f GiB", (double)bytes / (double)(1ULL << 30));
    else if (bytes >= (1ULL << 20))
        fprintf(out, "%.2f MiB", (double)bytes / (double)(1ULL << 20));
    else
        fprintf(out, "%llu bytes", (unsigned long long)bytes);
}

static void print_done(const ms_convert_result *res)
{
    for (size_t i = 0; i < res->nitems; i++) {
        const ms_convert_item *it = &res->items[i];
        printf("converted %s -> %s\n", it->input, it->output);
        printf("  %zu tensor%s, ", it->ntensors, it->ntensors == 1 ? "" : "s");
        print_size(stdout, it->tensor_bytes);
        printf(" (%s%s); source sha256 %s\n", it->container,
               it->big_endian ? ", big-endian bytes swapped" : "", it->sha256);
        if (it->nmaterialised)
            printf("  %zu view%s or strided tensor%s written contiguously\n", it->nmaterialised,
                   it->nmaterialised == 1 ? "" : "s", it->nmaterialised == 1 ? "" : "s");
        if (it->ntied) {
            printf("  %zu tensor%s sharing storage dropped, kept once (dropped -> kept, also in "
                   "__metadata__):\n",
                   it->ntied, it->ntied == 1 ? "" : "s");
            for (size_t k = 0; k < it->ntied; k++)
                printf("    %s -> %s\n", it->tied[k].name, it->tied[k].detail);
        }
        if (it->ndropped) {
            printf("  %zu non-tensor entr%s dropped (--drop-non-tensors):\n", it->ndropped,
                   it->ndropped == 1 ? "y" : "ies");
            for (size_t k = 0; k < it->ndropped; k++)
                printf("    %s (%s)\n", it->dropped[k].name, it->dropped[k].detail);
        }
    }
    if (res->index_output)
        printf("wrote %s\n", res->index_output);
    printf("every output passed the scanner's safetensors checks with no finding\n");
}

static void print_refusal(const ms_convert_result *res)
{
    if (res->findings) {
        char *text = ms_report_to_text(res->findings, false);
        if (text)
            fputs(text, stdout);
        free(text);
    } else {
        printf("Unsupported Content [CONVERT-REFUSED] at %s\n    %s\n    -> Only state "
               "dicts of tensors convert to safetensors (see docs/sanitize.md). Nothing in the "
               "file was run; what is not understood is not loaded.\n",
               res->location ? res->location : "input", res->message ? res->message : "");
    }
    fflush(stdout);
}

int ms_cli_convert(int argc, char **argv)
{
    enum { OPT_FORCE = 256, OPT_DROP, OPT_QUIET, OPT_HELP };
    static const struct option longopts[] = {
        {"force", no_argument, NULL, OPT_FORCE},
        {"drop-non-tensors", no_argument, NULL, OPT_DROP},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    ms_convert_options opts;
    ms_convert_options_default(&opts);
    bool quiet = false;
    int c, ac = argc - 1;
    char **av = argv + 1; /* argv[1] is "convert": options and operands follow */
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(ac, av, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORCE: opts.force = true; break;
        case OPT_DROP: opts.drop_non_tensors = true; break;
        case OPT_QUIET: quiet = true; break;
        case OPT_HELP: fputs(convert_usage, stdout); return 0;
        default:
            fprintf(stderr, "model-scanner: unknown option '%s' for convert (see convert "
                            "--help)\n",
                    av[optind - 1]);
            return 2;
        }
    }
    int rest = ac - optind;
    if (rest < 1 || rest > 2) {
        fputs("usage: model-scanner convert [--force] [--drop-non-tensors] [--quiet] INPUT "
              "[OUTPUT]\n",
              stderr);
        return 2;
    }
    const char *input = av[optind], *output = rest == 2 ? av[optind + 1] : NULL;
    ms_convert_result *res = NULL;
    if (ms_convert(input, output, &opts, &res) != MS_OK) {
        fputs("model-scanner: out of memory\n", stderr);
        return 2;
    }
    int rc = (int)res->verdict;
    if (res->verdict == MS_CONVERT_DONE) {
        if (!quiet)
            print_done(res);
    } else if (res->verdict == MS_CONVERT_REFUSED) {
        print_refusal(res);
        fprintf(stderr, "model-scanner: refused to convert '%s': %s%s%s; nothing was written\n",
                input, !res->findings && res->location ? res->location : "",
                !res->findings && res->location ? ": " : "", res->message ? res->message : "");
    } else {
        if (res->findings) {
            char *text = ms_report_to_text(res->findings, false);
            if (text)
                fputs(text, stderr);
            free(text);
        }
        fprintf(stderr, "model-scanner: convert: %s\n", res->message ? res->message : "failed");
    }
    if (fflush(stdout) != 0 && rc == 0)
        rc = 2;
    ms_convert_result_free(res);
    return rc;
}
