/*
 * text.c - the report for people: a header, findings grouped by severity
 * (most severe first), then the summary. Colour escapes only when asked.
 */
#include <stdlib.h>

#include "model_scanner.h"
#include "../util/strbuf.h"

static const char *colour_of(ms_severity s)
{
    switch (s) {
    case MS_SEV_CRITICAL: return "\033[1;31m";
    case MS_SEV_HIGH: return "\033[31m";
    case MS_SEV_MEDIUM: return "\033[33m";
    case MS_SEV_LOW: return "\033[36m";
    default: return "\033[2m";
    }
}

char *ms_report_to_text(const ms_report *r, bool colour)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, (size_t)256 << 20);
    const char *bold = colour ? "\033[1m" : "", *reset = colour ? "\033[0m" : "";
    uint64_t counts[MS_SEV_CRITICAL + 1] = {0}, nsuppressed = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        if (r->findings[i].suppressed)
            nsuppressed++;
        else
            counts[r->findings[i].severity]++;
    }

    ms_strbuf_printf(&sb, "%smodel-scanner %s%s: %s (%s)\n", bold, MS_VERSION, reset,
                     r->model_name, r->model_path);
    ms_strbuf_printf(&sb, "%llu files, %llu bytes scanned\n",
                     (unsigned long long)r->files_scanned, (unsigned long long)r->bytes_scanned);
    for (int sev = MS_SEV_CRITICAL; sev >= MS_SEV_INFORMATIONAL; sev--) {
        if (!counts[sev])
            continue;
        ms_strbuf_printf(&sb, "\n%s%s (%llu)%s\n", colour ? colour_of((ms_severity)sev) : "",
                         ms_severity_name((ms_severity)sev), (unsigned long long)counts[sev],
                         reset);
        for (size_t i = 0; i < r->nfindings; i++) {
            const ms_finding *f = &r->findings[i];
            if ((int)f->severity != sev || f->suppressed)
                continue;
            ms_strbuf_printf(&sb, "  %s%s%s [%s] at %s\n", bold, f->type, reset, f->rule_id,
                             f->location);
            ms_strbuf_printf(&sb, "    %s\n", f->description);
            ms_strbuf_printf(&sb, "    -> %s\n", f->recommendation);
        }
    }
    if (nsuppressed) {
        ms_strbuf_printf(&sb, "\nSuppressed by the policy (%llu)\n", (unsigned long long)nsuppressed);
        for (size_t i = 0; i < r->nfindings; i++) {
            const ms_finding *f = &r->findings[i];
            if (!f->suppressed)
                continue;
            ms_strbuf_printf(&sb, "  %s [%s, %s] at %s: %s%s%s\n", f->type, f->rule_id,
                             ms_severity_name(f->severity), f->location,
                             f->suppress_reason ? f->suppress_reason : "",
                             f->suppress_expires ? ", until " : "",
                             f->suppress_expires ? f->suppress_expires : "");
        }
    }
    ms_strbuf_printf(&sb,
                     "\nSummary: %llu critical, %llu high, %llu medium, %llu low, "
                     "%llu informational\n",
                     (unsigned long long)counts[MS_SEV_CRITICAL],
                     (unsigned long long)counts[MS_SEV_HIGH],
                     (unsigned long long)counts[MS_SEV_MEDIUM],
                     (unsigned long long)counts[MS_SEV_LOW],
                     (unsigned long long)counts[MS_SEV_INFORMATIONAL]);
    if (nsuppressed)
        ms_strbuf_printf(&sb, "%llu suppressed by the policy\n", (unsigned long long)nsuppressed);
    if (r->hidden_below_min)
        ms_strbuf_printf(&sb, "%llu below the minimum severity not shown\n",
                         (unsigned long long)r->hidden_below_min);
    return ms_strbuf_take(&sb);
}
