/*
 * json.c - the report as JSON (docs/report-format.md). The keys of the
 * original example come first and in their order; additions follow.
 */
#include <stdio.h>
#include <time.h>

#include "model_scanner.h"

static json_t *finding_json(const ms_finding *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(f->type));
    json_object_set_new(o, "severity", json_string(ms_severity_name(f->severity)));
    json_object_set_new(o, "description", json_string(f->description));
    json_object_set_new(o, "location", json_string(f->location));
    json_object_set_new(o, "recommendation", json_string(f->recommendation));
    json_object_set_new(o, "rule_id", json_string(f->rule_id));
    json_object_set(o, "details", f->details ? f->details : json_object());
    return o;
}

json_t *ms_report_to_json(const ms_report *r)
{
    char ts[32];
    struct tm tm;
    gmtime_r(&r->scan_time, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

    json_t *root = json_object();
    json_t *vulns = json_array(), *warns = json_array(), *suppressed = json_array();
    uint64_t counts[MS_SEV_CRITICAL + 1] = {0};
    for (size_t i = 0; i < r->nfindings; i++) {
        const ms_finding *f = &r->findings[i];
        if (f->suppressed) {
            /* kept visible, apart, so that consumers counting
             * "vulnerabilities" do not count what the user accepted */
            json_t *o = finding_json(f);
            json_t *why = json_pack("{s:s}", "reason", f->suppress_reason ? f->suppress_reason : "");
            if (why && f->suppress_expires)
                json_object_set_new(why, "expires", json_string(f->suppress_expires));
            json_object_set_new(o, "suppression", why);
            json_array_append_new(suppressed, o);
            continue;
        }
        counts[f->severity]++;
        json_array_append_new(f->severity == MS_SEV_INFORMATIONAL ? warns : vulns,
                              finding_json(f));
    }
    json_object_set_new(root, "model_name", json_string(r->model_name));
    json_object_set_new(root, "scan_timestamp", json_string(ts));
    json_object_set_new(root, "vulnerabilities", vulns);
    json_object_set_new(root, "warnings", warns);
    json_object_set_new(root, "scanner",
                        json_pack("{s:s, s:s}", "name", "model-scanner", "version", MS_VERSION));
    json_object_set_new(root, "model_path", json_string(r->model_path));
    json_object_set_new(
        root, "summary",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files_scanned",
                  (json_int_t)r->files_scanned, "bytes_scanned", (json_int_t)r->bytes_scanned,
                  "critical", (json_int_t)counts[MS_SEV_CRITICAL], "high",
                  (json_int_t)counts[MS_SEV_HIGH], "medium", (json_int_t)counts[MS_SEV_MEDIUM],
                  "low", (json_int_t)counts[MS_SEV_LOW], "informational",
                  (json_int_t)counts[MS_SEV_INFORMATIONAL]));
    json_t *files = json_array();
    for (size_t i = 0; i < r->nfiles; i++) {
        const ms_file_entry *e = &r->files[i];
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(e->path));
        json_object_set_new(o, "size", json_integer((json_int_t)e->size));
        json_object_set_new(o, "sha256", e->sha256[0] ? json_string(e->sha256) : json_null());
        json_object_set_new(o, "format", json_string(e->format));
        json_array_append_new(files, o);
    }
    json_object_set_new(root, "files", files);
    json_t *summary = json_object_get(root, "summary");
    if (json_array_size(suppressed)) {
        json_object_set_new(summary, "suppressed", json_integer((json_int_t)json_array_size(suppressed)));
        json_object_set_new(root, "suppressed", suppressed);
    } else {
        json_decref(suppressed);
    }
    if (r->hidden_below_min)
        json_object_set_new(summary, "below_min_severity",
                            json_integer((json_int_t)r->hidden_below_min));
    return root;
}
