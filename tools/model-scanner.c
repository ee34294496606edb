/*
 * model-scanner - the command line. It parses arguments, runs the library,
 * writes the report (JSON or text) and maps findings to the exit status:
 *   0 no finding at or above --fail-on (or no --fail-on given)
 *   1 at least one finding at or above --fail-on
 *   2 a scan could not run (bad arguments, bad policy, unreadable path)
 * With several models (repeated --model-path, --all-models) each gets its
 * own report: JSON Lines for json and cyclonedx, one SARIF log with a run
 * per model, text reports one after the other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model_scanner.h"
#include "convert_cmd.h"

static const char usage_text[] =
    "Usage: model-scanner --model-path PATH [options]\n"
    "       model-scanner explain FILE\n"
    "\n"
    "Statically scans a machine-learning model (a Hugging Face repository clone, a\n"
    "folder of model files, or a single file) for code that would run when it is\n"
    "loaded, without loading, importing or executing anything.\n"
    "\n"
    "Options:\n"
    "  --model-path PATH       directory or single file to scan (required; repeat it\n"
    "                          to scan several models, one report each)\n"
    "  --all-models            treat each --model-path as a Hugging Face cache root\n"
    "                          (~/.cache/huggingface/hub) and scan every models--*\n"
    "                          entry in it, one report each\n"
    "  --output-format FORMAT  json (default), text, sarif or cyclonedx; several\n"
    "                          models give JSON Lines (json, cyclonedx) or one SARIF\n"
    "                          log with a run per model\n"
    "  --output-file FILE      write the report to FILE instead of standard output\n"
    "  --fail-on SEVERITY      exit 1 when an unsuppressed finding is at or above\n"
    "                          SEVERITY (critical, high, medium, low, informational)\n"
    "  --min-severity SEVERITY leave findings below SEVERITY out of the report\n"
    "                          (--fail-on still sees them)\n"
    "  --policy FILE           a policy file (YAML): pickle allow/deny lists,\n"
    "                          severity overrides, suppressions, excludes, limits\n"
    "  --model-policy          use the model's own .model-scanner.yml as the policy\n"
    "                          (only when you trust whoever wrote it)\n"
    "  --exclude GLOB          do not scan paths matching GLOB (repeatable)\n"
    "  --jobs N                files analysed in parallel (default: the number of\n"
    "                          processors); the report does not depend on it\n"
    "  --no-progress           no progress line on standard error (it is shown only\n"
    "                          on a terminal, once a scan takes over a second)\n"
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
    "  convert INPUT [OUTPUT]  convert a PyTorch checkpoint or model folder to safetensors\n"
    "                          without running it (--force, --drop-non-tensors; convert --help)\n"
    "\n"
    "Exit status: 0 no unsuppressed finding at or above --fail-on (always 0\n"
    "             without it), 1 at least one such finding, 2 a scan could not\n"
    "             run (bad arguments, bad policy, unreadable path).\n"
    "\n"
    "Examples:\n"
    "  model-scanner --model-path ./bert-base-uncased --output-format json \\\n"
    "                --output-file scan-report.json\n"
    "  model-scanner --model-path pytorch_model.bin --output-format text\n"
    "  model-scanner --model-path ./model --fail-on high --quiet --output-file /dev/null\n"
    "  model-scanner --model-path ./model --output-format sarif --output-file scan.sarif\n"
    "  model-scanner --all-models --model-path ~/.cache/huggingface/hub --fail-on high\n"
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


/* --- progress line ------------------------------------------------------- */

typedef struct progress_state {
    const char *model;
    struct timespec start, last;
    double delay; /* seconds before the line first appears */
    bool shown;
} progress_state;

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void human_bytes(uint64_t n, char *out, size_t outsz)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        u++;
    }
    snprintf(out, outsz, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* Called by the library (serialised); draws "\r<line>" at most 10 times a
 * second, and only once the scan has run for a second. */
static void on_progress(void *user, const ms_progress *p)
{
    progress_state *ps = user;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds_between(&ps->start, &now) < ps->delay)
        return;
    if (ps->shown && seconds_between(&ps->last, &now) < 0.1 && p->files_done < p->files_total)
        return;
    ps->last = now;
    ps->shown = true;
    char done[32], total[32];
    human_bytes(p->bytes_done, done, sizeof(done));
    human_bytes(p->bytes_total, total, sizeof(total));
    struct winsize ws;
    int width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s: %llu/%llu files, %s/%s%s%s", ps->model,
                     (unsigned long long)p->files_done, (unsigned long long)p->files_total, done,
                     total, p->current ? "  " : "", p->current ? p->current : "");
    if (n < 0)
        return;
    if (n >= width && width > 1)
        line[width - 1] = '\0'; /* a wrapped line cannot be redrawn in place */
    else if ((size_t)n >= sizeof(line))
        line[sizeof(line) - 1] = '\0';
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

static void progress_clear(progress_state *ps)
{
    if (ps->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    ps->shown = false;
}

/* --- the models to scan --------------------------------------------------- */

typedef struct path_list {
    char **items;
    size_t n, cap;
} path_list;

static bool path_list_add(path_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **a = realloc(l->items, cap * sizeof(*a));
        if (!a)
            return false;
        l->items = a;
        l->cap = cap;
    }
    l->items[l->n] = strdup(s);
    return l->items[l->n] ? (l->n++, true) : false;
}

static void path_list_free(path_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every models--* folder of a Hugging Face cache root (or of its hub/). */
static bool cache_models(const char *root, path_list *out)
{
    size_t before = out->n;
    for (int pass = 0; pass < 2 && out->n == before; pass++) {
        char dirpath[PATH_MAX];
        int w = snprintf(dirpath, sizeof(dirpath), pass ? "%s/hub" : "%s", root);
        if (w < 0 || (size_t)w >= sizeof(dirpath))
            return false;
        DIR *d = opendir(dirpath);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strncmp(de->d_name, "models--", 8) != 0)
                continue;
            char full[PATH_MAX];
            struct stat st;
            w = snprintf(full, sizeof(full), "%s/%s", dirpath, de->d_name);
            if (w < 0 || (size_t)w >= sizeof(full) || lstat(full, &st) != 0 ||
                !S_ISDIR(st.st_mode))
                continue;
            if (!path_list_add(out, full)) {
                closedir(d);
                return false;
            }
        }
        closedir(d);
    }
    if (out->n - before > 1)
        qsort(out->items + before, out->n - before, sizeof(char *), name_cmp);
    return out->n > before;
}

/* --- output ---------------------------------------------------------------- */

enum out_format { OUT_JSON, OUT_TEXT, OUT_SARIF, OUT_CYCLONEDX };

/* main's error exits: the status, then the common cleanup */
#define FAIL(status)                                                                             \
    do {                                                                                         \
        rc = (status);                                                                           \
        goto done;                                                                               \
    } while (0)

static bool write_json(FILE *out, json_t *doc, bool lines)
{
    if (!doc)
        return false;
    int rc = json_dumpf(doc, out, lines ? JSON_COMPACT : JSON_INDENT(2));
    fputc('\n', out);
    json_decref(doc);
    return rc == 0;
}

static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "explain") == 0)
        return cmd_explain(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "convert") == 0)
        return ms_cli_convert(argc, argv);

    enum { OPT_PATH = 256, OPT_FORMAT, OPT_FILE, OPT_FAIL, OPT_NOHASH, OPT_QUIET, OPT_RULES,
           OPT_VERSION, OPT_HELP, OPT_MANIFEST, OPT_ALLSNAP, OPT_ADVISORIES, OPT_ALLMODELS,
           OPT_MINSEV, OPT_POLICY, OPT_MODELPOLICY, OPT_EXCLUDE, OPT_JOBS, OPT_NOPROGRESS };
    static const struct option longopts[] = {
        {"model-path", required_argument, NULL, OPT_PATH},
        {"all-models", no_argument, NULL, OPT_ALLMODELS},
        {"output-format", required_argument, NULL, OPT_FORMAT},
        {"output-file", required_argument, NULL, OPT_FILE},
        {"fail-on", required_argument, NULL, OPT_FAIL},
        {"min-severity", required_argument, NULL, OPT_MINSEV},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"model-policy", no_argument, NULL, OPT_MODELPOLICY},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"no-progress", no_argument, NULL, OPT_NOPROGRESS},
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
    ms_options base;
    ms_options_default(&base);
    base.jobs = default_jobs();
    enum out_format format = OUT_JSON;
    const char *outfile = NULL, *policy_path = NULL;
    bool quiet = false, have_fail = false, have_min = false, all_models = false;
    bool model_policy = false, no_progress = false;
    ms_severity fail_on = MS_SEV_CRITICAL, min_sev = MS_SEV_INFORMATIONAL;
    path_list paths = {0}, excludes = {0}, models = {0};
    ms_policy *policy = NULL;
    int rc = 0;
    FILE *out = stdout;
    ms_report **kept = NULL; /* SARIF needs every report at the end */
    size_t nkept = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PATH:
            if (!path_list_add(&paths, optarg))
                FAIL(die("%s", "out of memory"));
            break;
        case OPT_ALLMODELS: all_models = true; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                format = OUT_JSON;
            else if (strcmp(optarg, "text") == 0)
                format = OUT_TEXT;
            else if (strcmp(optarg, "sarif") == 0)
                format = OUT_SARIF;
            else if (strcmp(optarg, "cyclonedx") == 0)
                format = OUT_CYCLONEDX;
            else
                FAIL(die("unknown --output-format '%s' (expected json, text, sarif or "
                           "cyclonedx)",
                           optarg));
            break;
        case OPT_FILE: outfile = optarg; break;
        case OPT_FAIL:
            if (!ms_severity_parse(optarg, &fail_on))
                FAIL(die("unknown severity '%s' for --fail-on (expected critical, high, "
                           "medium, low or informational)",
                           optarg));
            have_fail = true;
            break;
        case OPT_MINSEV:
            if (!ms_severity_parse(optarg, &min_sev))
                FAIL(die("unknown severity '%s' for --min-severity (expected critical, high, "
                           "medium, low or informational)",
                           optarg));
            have_min = true;
            break;
        case OPT_POLICY: policy_path = optarg; break;
        case OPT_MODELPOLICY: model_policy = true; break;
        case OPT_EXCLUDE:
            if (!*optarg)
                FAIL(die("%s", "--exclude needs a pattern"));
            if (!path_list_add(&excludes, optarg))
                FAIL(die("%s", "out of memory"));
            break;
        case OPT_JOBS: {
            char *end;
            errno = 0;
            unsigned long j = strtoul(optarg, &end, 10);
            if (errno || *end || !*optarg || j < 1 || j > 256)
                FAIL(die("--jobs needs a number from 1 to 256, not '%s'", optarg));
            base.jobs = (unsigned)j;
            break;
        }
        case OPT_NOPROGRESS: no_progress = true; break;
        case OPT_NOHASH: base.hash_files = false; break;
        case OPT_MANIFEST: base.manifest_path = optarg; break;
        case OPT_ALLSNAP: base.all_snapshots = true; break;
        case OPT_ADVISORIES: base.advisories_path = optarg; break;
        case OPT_QUIET: quiet = true; break;
        case OPT_RULES: list_rules(); goto done;
        case OPT_VERSION: printf("model-scanner %s\n", MS_VERSION); goto done;
        case OPT_HELP: fputs(usage_text, stdout); goto done;
        default:
            if (optopt && optopt < 256)
                FAIL(die("unknown option '-%c' (see --help)", optopt));
            FAIL(die("unknown or incomplete option '%s' (see --help)", argv[optind - 1]));
        }
    }
    if (optind < argc)
        FAIL(die("unexpected argument '%s' (see --help)", argv[optind]));
    if (!paths.n)
        FAIL(die("%s", "missing --model-path PATH (see --help)"));
    if (policy_path && model_policy)
        FAIL(die("%s", "--policy and --model-policy cannot be used together"));
    if (base.manifest_path) {
        char why[256];
        if (!ms_manifest_validate(base.manifest_path, why, sizeof(why)))
            FAIL(die("the manifest '%s' %s", base.manifest_path, why));
        if (paths.n > 1 || all_models)
            FAIL(die("%s", "--manifest applies to one model: give one --model-path"));
    }
    if (policy_path) {
        char why[512];
        policy = ms_policy_load(policy_path, why, sizeof(why));
        if (!policy)
            FAIL(die("the policy '%s' %s%s", policy_path,
                       why[0] >= '0' && why[0] <= '9' ? "is invalid at " : "", why));
    }
    for (size_t i = 0; i < paths.n; i++) {
        if (!all_models) {
            if (!path_list_add(&models, paths.items[i]))
                FAIL(die("%s", "out of memory"));
        } else if (!cache_models(paths.items[i], &models)) {
            FAIL(die("no models--* folder in '%s' (is it a Hugging Face cache root?)",
                       paths.items[i]));
        }
    }
    bool many = models.n > 1 || all_models;

    if (outfile) {
        out = fopen(outfile, "w");
        if (!out)
            FAIL(die("cannot write '%s': %s", outfile, strerror(errno)));
    }
    bool show_progress = !quiet && !no_progress && isatty(STDERR_FILENO);
    /* "a moment": one second, unless MODEL_SCANNER_PROGRESS_AFTER_MS says */
    double progress_delay = 1.0;
    const char *pd = getenv("MODEL_SCANNER_PROGRESS_AFTER_MS");
    if (pd && *pd) {
        char *end;
        unsigned long ms = strtoul(pd, &end, 10);
        if (!*end)
            progress_delay = (double)ms / 1000.0;
    }
    const char *nc = getenv("NO_COLOR");
    bool colour = !outfile && isatty(STDOUT_FILENO) && !(nc && *nc);
    if (format == OUT_SARIF && !(kept = calloc(models.n, sizeof(*kept))))
        FAIL(die("%s", "out of memory"));

    for (size_t m = 0; m < models.n; m++) {
        ms_options opts = base;
        opts.model_path = models.items[m];
        ms_policy *own = NULL;
        const ms_policy *pol = policy;
        if (model_policy) {
            char file[PATH_MAX], why[512];
            struct stat st;
            int w = snprintf(file, sizeof(file), "%s/.model-scanner.yml", opts.model_path);
            if (w > 0 && (size_t)w < sizeof(file) && stat(file, &st) == 0) {
                own = ms_policy_load(file, why, sizeof(why));
                if (!own) {
                    fprintf(stderr, "model-scanner: the policy '%s' %s%s\n", file,
                            why[0] >= '0' && why[0] <= '9' ? "is invalid at " : "", why);
                    rc = 2;
                    continue;
                }
                if (!quiet)
                    fprintf(stderr, "model-scanner: using the model's policy %s\n", file);
            } else if (!quiet) {
                fprintf(stderr, "model-scanner: %s has no .model-scanner.yml; no policy used\n",
                        opts.model_path);
            }
            pol = own;
        }
        /* the policy's values, unless the command line set them */
        ms_severity m_fail = fail_on, m_min = min_sev;
        bool m_have_fail = have_fail, m_have_min = have_min;
        if (!m_have_fail)
            m_have_fail = ms_policy_fail_on(pol, &m_fail);
        if (!m_have_min)
            m_have_min = ms_policy_min_severity(pol, &m_min);
        ms_policy_apply_limits(pol, &opts.limits);
        size_t npex;
        const char *const *pex = ms_policy_excludes(pol, &npex);
        const char **globs = calloc(excludes.n + npex + 1, sizeof(*globs));
        if (!globs) {
            ms_policy_free(own);
            rc = die("%s", "out of memory");
            break; /* leaves the models loop; the reports so far are written */
        }
        for (size_t i = 0; i < excludes.n; i++)
            globs[i] = excludes.items[i];
        for (size_t i = 0; i < npex; i++)
            globs[excludes.n + i] = pex[i];
        opts.excludes = globs;
        opts.nexcludes = excludes.n + npex;
        opts.policy = pol;
        progress_state ps = {0};
        ps.model = opts.model_path;
        ps.delay = progress_delay;
        clock_gettime(CLOCK_MONOTONIC, &ps.start);
        if (show_progress) {
            opts.progress = on_progress;
            opts.progress_user = &ps;
        }

        ms_report *report = NULL;
        ms_status st = ms_scan(&opts, &report);
        int scan_errno = errno;
        progress_clear(&ps);
        free(globs);
        ms_policy_free(own);
        if (st != MS_OK) {
            fprintf(stderr, "model-scanner: cannot scan '%s': %s\n", opts.model_path,
                    st == MS_IO ? strerror(scan_errno) : ms_status_name(st));
            rc = 2;
            continue;
        }

        size_t at_or_above = 0, counts[MS_SEV_CRITICAL + 1] = {0}, nsupp = 0;
        for (size_t i = 0; i < report->nfindings; i++) {
            const ms_finding *f = &report->findings[i];
            if (f->suppressed) {
                nsupp++;
                continue;
            }
            counts[f->severity]++;
            if (m_have_fail && f->severity >= m_fail)
                at_or_above++;
        }
        if (m_have_min)
            ms_report_filter(report, m_min);

        bool ok = true;
        switch (format) {
        case OUT_JSON: ok = write_json(out, ms_report_to_json(report), many); break;
        case OUT_CYCLONEDX: ok = write_json(out, ms_report_to_cyclonedx(report), many); break;
        case OUT_TEXT: {
            char *text = ms_report_to_text(report, colour);
            if (m > 0)
                fputc('\n', out);
            ok = text && fputs(text, out) >= 0;
            free(text);
            break;
        }
        case OUT_SARIF: break;
        }
        if (!ok && rc != 2) {
            fprintf(stderr, "model-scanner: writing the report of '%s' failed\n",
                    opts.model_path);
            rc = 2;
        }
        if (!quiet && outfile) {
            char supp[64] = "";
            if (nsupp)
                snprintf(supp, sizeof(supp), ", %zu suppressed", nsupp);
            fprintf(stderr,
                    "model-scanner: %s: %zu critical, %zu high, %zu medium, %zu low, %zu "
                    "informational%s; report written to %s\n",
                    report->model_name, counts[MS_SEV_CRITICAL], counts[MS_SEV_HIGH],
                    counts[MS_SEV_MEDIUM], counts[MS_SEV_LOW], counts[MS_SEV_INFORMATIONAL],
                    supp, outfile);
        }
        if (at_or_above) {
            if (rc == 0)
                rc = 1;
            if (!quiet)
                fprintf(stderr, "model-scanner: %s: %zu finding(s) at or above %s\n",
                        report->model_name, at_or_above, ms_severity_name(m_fail));
        }
        if (format == OUT_SARIF)
            kept[nkept++] = report;
        else
            ms_report_free(report);
    }
    if (format == OUT_SARIF) {
        if (nkept > 20 && !quiet)
            fprintf(stderr, "model-scanner: note: the SARIF log has %zu runs; GitHub code scanning "
                            "takes at most 20 per file (scan fewer models per upload)\n",
                    nkept);
        if (!write_json(out, ms_report_to_sarif((const ms_report *const *)kept, nkept), false)) {
            fprintf(stderr, "model-scanner: writing the SARIF log failed\n");
            rc = 2;
        }
        for (size_t i = 0; i < nkept; i++)
            ms_report_free(kept[i]);
    }
    if (out != stdout ? fclose(out) != 0 : fflush(out) != 0) {
        fprintf(stderr, "model-scanner: writing the report failed: %s\n", strerror(errno));
        rc = 2;
    }
    out = stdout;
done:
    if (out && out != stdout)
        fclose(out);
    free(kept);
    ms_policy_free(policy);
    path_list_free(&paths);
    path_list_free(&excludes);
    path_list_free(&models);
    return rc;
}
