/*
 * model-scanner - the command line. It parses arguments, runs the library,
 * writes the report (JSON or text) and maps findings to the exit status:
 *   0 no finding at or above --fail-on (or no --fail-on given)
 *   1 at least one finding at or above --fail-on
 *   2 the scan could not run (bad arguments, unreadable path)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_scanner.h"

static const char usage_text[] =
    "Usage: model-scanner --model-path PATH [options]\n"
    "       model-scanner explain FILE\n"
    "\n"
    "Statically scans a machine-learning model (a Hugging Face repository clone, a\n"
    "folder of model files, or a single file) for code that would run when it is\n"
    "loaded, without loading, importing or executing anything.\n"
    "\n"
    "Options:\n"
    "  --model-path PATH       directory or single file to scan (required)\n"
    "  --output-format FORMAT  json (default) or text\n"
    "  --output-file FILE      write the report to FILE instead of standard output\n"
    "  --fail-on SEVERITY      exit 1 when a finding is at or above SEVERITY\n"
    "                          (critical, high, medium, low, informational)\n"
    "  --no-hash               do not compute the sha256 of every file\n"
    "  --manifest FILE         check every file against a sha256sum-format manifest\n"
    "  --advisories PATH       OSV advisories (a folder or zip of OSV JSON files, as\n"
    "                          osv.dev exports them) to check dependencies against,\n"
    "                          besides the built-in set\n"
    "  --all-snapshots         for a Hugging Face cache entry (models--org--name), scan\n"
    "                          every snapshot instead of the one refs/main names\n"
    "  --quiet                 print nothing on standard error except errors\n"
    "  --list-rules            print every rule id with its type and severity\n"
    "  --version               print the version and exit\n"
    "  --help                  print this help and exit\n"
    "\n"
    "Subcommands:\n"
    "  explain FILE            disassemble a pickle, marking every import and call\n"
    "                          with the verdict the scanner gives it\n"
    "\n"
    "Exit status: 0 no finding at or above --fail-on (always 0 without it),\n"
    "             1 at least one such finding, 2 the scan could not run.\n"
    "\n"
    "Examples:\n"
    "  model-scanner --model-path ./bert-base-uncased --output-format json \\\n"
    "                --output-file scan-report.json\n"
    "  model-scanner --model-path pytorch_model.bin --output-format text\n"
    "  model-scanner --model-path ./model --fail-on high --quiet --output-file /dev/null\n"
    "  model-scanner explain suspicious.pkl\n";

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("model-scanner: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static int cmd_explain(int argc, char **argv)
{
    if (argc != 3)
        return die("%s", "usage: model-scanner explain FILE");
    const char *path = argv[2];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return die("cannot read '%s'", path);
    }
    size_t len = (size_t)st.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len && map == MAP_FAILED)
        return die("cannot map '%s'", path);
    ms_limits limits;
    ms_limits_default(&limits);
    char *text = ms_pickle_explain(len ? map : (const void *)"", len, &limits);
    if (map && map != MAP_FAILED)
        munmap(map, len);
    if (!text)
        return die("%s", "out of memory");
    fputs(text, stdout);
    free(text);
    return 0;
}

static void list_rules(void)
{
    size_t n;
    const ms_rule *rules = ms_rules(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-28s %-14s %s\n", rules[i].id, ms_severity_name(rules[i].severity),
               rules[i].type);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "explain") == 0)
        return cmd_explain(argc, argv);

    enum { OPT_PATH = 256, OPT_FORMAT, OPT_FILE, OPT_FAIL, OPT_NOHASH, OPT_QUIET, OPT_RULES,
           OPT_VERSION, OPT_HELP, OPT_MANIFEST, OPT_ALLSNAP, OPT_ADVISORIES };
    static const struct option longopts[] = {
        {"model-path", required_argument, NULL, OPT_PATH},
        {"output-format", required_argument, NULL, OPT_FORMAT},
        {"output-file", required_argument, NULL, OPT_FILE},
        {"fail-on", required_argument, NULL, OPT_FAIL},
        {"no-hash", no_argument, NULL, OPT_NOHASH},
        {"manifest", required_argument, NULL, OPT_MANIFEST},
        {"all-snapshots", no_argument, NULL, OPT_ALLSNAP},
        {"advisories", required_argument, NULL, OPT_ADVISORIES},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"list-rules", no_argument, NULL, OPT_RULES},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    ms_options opts;
    ms_options_default(&opts);
    const char *format = "json", *outfile = NULL;
    bool quiet = false, have_fail = false;
    ms_severity fail_on = MS_SEV_CRITICAL;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PATH: opts.model_path = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return die("unknown --output-format '%s' (expected json or text)", optarg);
            format = optarg;
            break;
        case OPT_FILE: outfile = optarg; break;
        case OPT_FAIL:
            if (!ms_severity_parse(optarg, &fail_on))
                return die("unknown severity '%s' for --fail-on (expected critical, high, "
                           "medium, low or informational)",
                           optarg);
            have_fail = true;
            break;
        case OPT_NOHASH: opts.hash_files = false; break;
        case OPT_MANIFEST: opts.manifest_path = optarg; break;
        case OPT_ALLSNAP: opts.all_snapshots = true; break;
        case OPT_ADVISORIES: opts.advisories_path = optarg; break;
        case OPT_QUIET: quiet = true; break;
        case OPT_RULES: list_rules(); return 0;
        case OPT_VERSION: printf("model-scanner %s\n", MS_VERSION); return 0;
        case OPT_HELP: fputs(usage_text, stdout); return 0;
        default:
            if (optopt && optopt < 256)
                return die("unknown option '-%c' (see --help)", optopt);
            return die("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return die("unexpected argument '%s' (see --help)", argv[optind]);
    if (!opts.model_path)
        return die("%s", "missing --model-path PATH (see --help)");
    if (opts.manifest_path) {
        char why[256];
        if (!ms_manifest_validate(opts.manifest_path, why, sizeof(why)))
            return die("the manifest '%s' %s", opts.manifest_path, why);
    }

    ms_report *report = NULL;
    ms_status st = ms_scan(&opts, &report);
    if (st != MS_OK) {
        fprintf(stderr, "model-scanner: cannot scan '%s': %s\n", opts.model_path,
                st == MS_IO ? strerror(errno) : ms_status_name(st));
        return 2;
    }

    FILE *out = stdout;
    if (outfile) {
        out = fopen(outfile, "w");
        if (!out) {
            fprintf(stderr, "model-scanner: cannot write '%s': %s\n", outfile, strerror(errno));
            ms_report_free(report);
            return 2;
        }
    }
    int rc = 0;
    if (strcmp(format, "json") == 0) {
        json_t *doc = ms_report_to_json(report);
        if (!doc || json_dumpf(doc, out, JSON_INDENT(2)) != 0)
            rc = 2;
        fputc('\n', out);
        json_decref(doc);
    } else {
        const char *nc = getenv("NO_COLOR");
        bool colour = !outfile && isatty(STDOUT_FILENO) && !(nc && *nc);
        char *text = ms_report_to_text(report, colour);
        fputs(text, out);
        free(text);
    }
    if (out != stdout ? fclose(out) != 0 : fflush(out) != 0) {
        fprintf(stderr, "model-scanner: writing the report failed: %s\n", strerror(errno));
        rc = 2;
    }

    size_t at_or_above = 0, counts[MS_SEV_CRITICAL + 1] = {0};
    for (size_t i = 0; i < report->nfindings; i++) {
        counts[report->findings[i].severity]++;
        if (have_fail && report->findings[i].severity >= fail_on)
            at_or_above++;
    }
    if (!quiet && outfile)
        fprintf(stderr,
                "model-scanner: %s: %zu critical, %zu high, %zu medium, %zu low, %zu "
                "informational; report written to %s\n",
                report->model_name, counts[MS_SEV_CRITICAL], counts[MS_SEV_HIGH],
                counts[MS_SEV_MEDIUM], counts[MS_SEV_LOW], counts[MS_SEV_INFORMATIONAL], outfile);
    if (rc == 0 && at_or_above) {
        rc = 1;
        if (!quiet)
            fprintf(stderr, "model-scanner: %zu finding(s) at or above %s\n", at_or_above,
                    ms_severity_name(fail_on));
    }
    ms_report_free(report);
    return rc;
}
