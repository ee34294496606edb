/*
 * cyclonedx.c - a report as a CycloneDX 1.6 bill of materials (JSON) of the
 * model: its files, the packages it names and the findings as
 * vulnerabilities (docs/report-format.md, "CycloneDX"). Specification:
 * https://cyclonedx.org/docs/1.6/json/
 *
 *   { "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
 *     "serialNumber": "urn:uuid:<UUID v5 of model path, scan time, files>",
 *     "metadata": { timestamp, "tools": { "components": [ model-scanner ] },
 *                   "component": { the model: "machine-learning-model",
 *                                  licenses, modelCard, pedigree, tags } },
 *     "components": [ every scanned file ("file", SHA-256),
 *                     every package named ("library", pkg:pypi purl) ],
 *     "dependencies": [ { model -> packages } ],
 *     "vulnerabilities": [ one per finding, one per advisory of a
 *                          DEPENDENCY-VULNERABLE finding; suppressed ones
 *                          with an analysis ] }
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "../util/strbuf.h"
#include "export.h"
#include "model_scanner.h"

/* The namespace of model-scanner's name-based (version 5) serial numbers. */
static const unsigned char serial_namespace[16] = {
    0xc4, 0x09, 0x68, 0x59, 0x23, 0x44, 0x47, 0xe7, 0xb7, 0x15, 0x0d, 0x66, 0xe6, 0xba, 0x74, 0xbb,
};

/* Model card licenses (Hugging Face ids) that are SPDX ids, in SPDX's
 * spelling; any other license is given by name. */
/* clang-format off */
static const char *const spdx_ids[] = {
    "Apache-2.0", "MIT", "AFL-3.0", "Artistic-2.0", "BSL-1.0", "BSD-2-Clause", "BSD-3-Clause",
    "BSD-3-Clause-Clear", "BSD-3-Clause-LBNL", "CC0-1.0", "CC-BY-2.0", "CC-BY-2.5", "CC-BY-3.0",
    "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC-BY-NC-2.0", "CC-BY-NC-3.0", "CC-BY-NC-4.0",
    "CC-BY-ND-4.0", "CC-BY-NC-ND-3.0", "CC-BY-NC-ND-4.0", "CC-BY-NC-SA-2.0", "CC-BY-NC-SA-3.0",
    "CC-BY-NC-SA-4.0", "CDLA-Permissive-1.0", "CDLA-Permissive-2.0", "CDLA-Sharing-1.0", "ECL-2.0",
    "EPL-1.0", "EPL-2.0", "EUPL-1.1", "EUPL-1.2", "ISC", "LPPL-1.3c", "MPL-2.0", "MS-PL", "NCSA",
    "ODbL-1.0", "ODC-By-1.0", "OFL-1.1", "OSL-3.0", "PDDL-1.0", "PostgreSQL", "Unlicense", "WTFPL",
    "Zlib",
};
/* clang-format on */

/* bom-refs must be unique in a BOM: the wanted ref, or it with "#2", "#3"... */
static char *unique_ref(json_t *used, const char *want)
{
    char *ref = strdup(want);
    for (unsigned k = 2; ref && json_object_get(used, ref); k++) {
        free(ref);
        ref = ms_strdup_printf("%s#%u", want, k);
    }
    if (ref)
        json_object_set_new(used, ref, json_true());
    return ref;
}

static json_t *property(const char *name, const char *value)
{
    return json_pack("{s:s, s:s}", "name", name, "value", value);
}

/* serialNumber: a version 5 UUID (RFC 4122, SHA-1 name-based) in
 * serial_namespace of the scanner version, model path, scan time and every
 * file's path and hash, so the same scan gives the same serial number. */
static char *serial_number(const ms_report *r, const char *ts)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 &&
              EVP_DigestUpdate(c, serial_namespace, sizeof(serial_namespace)) == 1 &&
              EVP_DigestUpdate(c, MS_VERSION, sizeof(MS_VERSION)) == 1 &&
              EVP_DigestUpdate(c, r->model_path, strlen(r->model_path) + 1) == 1 &&
              EVP_DigestUpdate(c, ts, strlen(ts) + 1) == 1;
    for (size_t i = 0; i < r->nfiles && ok; i++)
        ok = EVP_DigestUpdate(c, r->files[i].path, strlen(r->files[i].path) + 1) == 1 &&
             EVP_DigestUpdate(c, r->files[i].sha256, strlen(r->files[i].sha256) + 1) == 1;
    ok = ok && EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen >= 16;
    EVP_MD_CTX_free(c);
    if (!ok)
        return NULL;
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char hex[33];
    for (unsigned i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return ms_strdup_printf("urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                            hex + 20);
}

/* ---- the model: licenses and model card ---- */

static bool plain_url(const char *s)
{
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
            return false;
    return true;
}

static json_t *card_licenses(const json_t *card)
{
    const char *license = json_string_value(json_object_get(card, "license"));
    const char *name = json_string_value(json_object_get(card, "license_name"));
    const char *link = json_string_value(json_object_get(card, "license_link"));
    if (!license && !name)
        return NULL;
    json_t *l = json_object();
    const char *id = NULL;
    for (size_t i = 0; license && i < sizeof(spdx_ids) / sizeof(spdx_ids[0]) && !id; i++)
        if (strcasecmp(license, spdx_ids[i]) == 0)
            id = spdx_ids[i];
    if (id)
        json_object_set_new(l, "id", json_string(id));
    else /* "other" with a license_name, or a name SPDX does not list */
        json_object_set_new(
            l, "name",
            json_string(name && (!license || strcmp(license, "other") == 0) ? name : license));
    if (link && plain_url(link))
        json_object_set_new(l, "url", json_string(link));
    return json_pack("[{s:o}]", "license", l);
}

/* Appends {"name": prefix+key, "value"} for a string or each string of a list */
static void card_properties(json_t *props, const json_t *card, const char *key)
{
    const json_t *v = json_object_get(card, key);
    char *name = ms_strdup_printf("model-scanner:card:%s", key);
    if (!name)
        return;
    if (json_is_string(v)) {
        json_array_append_new(props, property(name, json_string_value(v)));
    } else {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            if (json_is_string(item))
                json_array_append_new(props, property(name, json_string_value(item)));
        }
    }
    free(name);
}

/* modelCard.modelParameters (task, datasets) and the other card facts as
 * modelCard properties; NULL when the card says none of it */
/* [{"type": type, "name": name}] for an array of names (the model card's
 * datasets, its base models) */
static json_t *typed_names(const json_t *names, const char *type)
{
    json_t *list = json_array();
    size_t i;
    const json_t *n;
    json_array_foreach(names, i, n)
    {
        json_array_append_new(list,
                              json_pack("{s:s, s:s}", "type", type, "name", json_string_value(n)));
    }
    return list;
}

static json_t *model_card(const json_t *card)
{
    json_t *params = json_object(), *props = json_array();
    const char *task = json_string_value(json_object_get(card, "pipeline_tag"));
    if (task)
        json_object_set_new(params, "task", json_string(task));
    const json_t *datasets = json_object_get(card, "datasets");
    if (json_array_size(datasets))
        json_object_set_new(params, "datasets", typed_names(datasets, "dataset"));
    static const char *const keys[] = {"license",         "license_name", "license_link",
                                       "library_name",    "language",     "base_model",
                                       "model_index_name"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        card_properties(props, card, keys[i]);
    json_t *mc = json_object();
    if (json_object_size(params))
        json_object_set_new(mc, "modelParameters", params);
    else
        json_decref(params);
    if (json_array_size(props))
        json_object_set_new(mc, "properties", props);
    else
        json_decref(props);
    if (json_object_size(mc) == 0) {
        json_decref(mc);
        return NULL;
    }
    return mc;
}

static json_t *model_component(const ms_report *r, const char *ref)
{
    char files[32], bytes[32];
    snprintf(files, sizeof(files), "%llu", (unsigned long long)r->files_scanned);
    snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)r->bytes_scanned);
    json_t *c = json_pack("{s:s, s:s, s:s, s:[o, o, o]}", "type", "machine-learning-model",
                          "bom-ref", ref, "name", r->model_name, "properties",
                          property("model-scanner:model_path", r->model_path),
                          property("model-scanner:files_scanned", files),
                          property("model-scanner:bytes_scanned", bytes));
    const json_t *card = r->model_card;
    if (!c || !json_is_object(card))
        return c;
    json_t *licenses = card_licenses(card);
    if (licenses)
        json_object_set_new(c, "licenses", licenses);
    json_t *mc = model_card(card);
    if (mc)
        json_object_set_new(c, "modelCard", mc);
    const json_t *base = json_object_get(card, "base_model");
    if (json_array_size(base))
        json_object_set_new(c, "pedigree", json_pack("{s:o}", "ancestors",
                                                     typed_names(base, "machine-learning-model")));
    const json_t *tags = json_object_get(card, "tags");
    if (json_array_size(tags))
        json_object_set_new(c, "tags", json_deep_copy(tags));
    return c;
}

/* ---- packages ---- */

/* "pkg:pypi/<name>[@<version>]": names are PEP 503 normalised already
 * (lower case, '-'); a version is percent-encoded where purl requires */
static char *pypi_purl(const char *name, const char *version)
{
    char *enc = version ? export_uri_path(version, strlen(version)) : NULL;
    char *purl = version && enc ? ms_strdup_printf("pkg:pypi/%s@%s", name, enc)
                 : !version     ? ms_strdup_printf("pkg:pypi/%s", name)
                                : NULL;
    free(enc);
    return purl;
}

typedef struct packages {
    json_t *components; /* the library components, in the order first named */
    json_t *by_key;     /* "name@version" or "name" -> the same component */
    json_t *refs;       /* bom-refs of the libraries, for the dependency graph */
} packages;

/* The component for a package: exact pins one per name and version,
 * everything else one per name (its specifiers as properties). */
static json_t *package_component(packages *p, json_t *used, const char *name, const char *version)
{
    char *key = version ? ms_strdup_printf("%s@%s", name, version) : strdup(name);
    if (!key)
        return NULL;
    json_t *c = json_object_get(p->by_key, key);
    if (!c) {
        char *purl = pypi_purl(name, version);
        char *ref = purl ? unique_ref(used, purl) : NULL;
        if (ref) {
            c = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "type", "library", "bom-ref", ref, "name",
                          name, "purl", purl, "properties");
            if (c && version)
                json_object_set_new(c, "version", json_string(version));
            if (c && json_array_append_new(p->components, c) == 0) {
                json_object_set(p->by_key, key, c);
                json_array_append_new(p->refs, json_string(ref));
            } else {
                c = NULL;
            }
        }
        free(purl);
        free(ref);
    }
    free(key);
    return c;
}

static void add_property_once(json_t *component, const char *name, const char *value)
{
    json_t *props = json_object_get(component, "properties");
    size_t i;
    const json_t *p;
    json_array_foreach(props, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0 &&
            strcmp(json_string_value(json_object_get(p, "value")), value) == 0)
            return;
    }
    json_array_append_new(props, property(name, value));
}

static void packages_from_facts(packages *p, json_t *used, const json_t *deps)
{
    size_t i;
    const json_t *d;
    json_array_foreach(deps, i, d)
    {
        const char *name = json_string_value(json_object_get(d, "name"));
        const char *kind = json_string_value(json_object_get(d, "kind"));
        const char *version = json_string_value(json_object_get(d, "version"));
        const char *spec = json_string_value(json_object_get(d, "specifier"));
        const char *source = json_string_value(json_object_get(d, "source"));
        json_int_t line = json_integer_value(json_object_get(d, "line"));
        if (!name || !kind)
            continue;
        bool exact = strcmp(kind, "exact") == 0 && version;
        json_t *c = package_component(p, used, name, exact ? version : NULL);
        if (!c)
            continue;
        if (spec && spec[0]) {
            char *s = ms_strdup_printf("%s: %s", kind, spec);
            if (s)
                add_property_once(c, "model-scanner:specifier", s);
            free(s);
        }
        if (source) {
            char *s = line ? ms_strdup_printf("%s:%lld", source, (long long)line) : strdup(source);
            if (s)
                add_property_once(c, "model-scanner:source", s);
            free(s);
        }
    }
}

/* ---- findings ---- */

static const char *score_method(const char *vector)
{
    if (!vector)
        return "other";
    if (strncmp(vector, "CVSS:3.1/", 9) == 0)
        return "CVSSv31";
    if (strncmp(vector, "CVSS:3.0/", 9) == 0)
        return "CVSSv3";
    if (strncmp(vector, "CVSS:4.0/", 9) == 0)
        return "CVSSv4";
    return "other";
}

/* Where an advisory id is published (no network is involved: a URL in the BOM). */
static json_t *advisory_source(const char *id)
{
    char *url;
    const char *name;
    if (strncasecmp(id, "CVE-", 4) == 0) {
        name = "NVD";
        url = ms_strdup_printf("https://nvd.nist.gov/vuln/detail/%s", id);
    } else if (strncasecmp(id, "GHSA-", 5) == 0) {
        name = "GitHub";
        url = ms_strdup_printf("https://github.com/advisories/%s", id);
    } else {
        name = "OSV";
        url = ms_strdup_printf("https://osv.dev/vulnerability/%s", id);
    }
    json_t *s = json_pack("{s:s, s:s}", "name", name, "url", url ? url : "");
    free(url);
    return s;
}

static json_t *finding_properties(const ms_finding *f)
{
    char *details = f->details ? json_dumps(f->details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_t *props = json_pack("[o, o, o, o]", property("model-scanner:rule_id", f->rule_id),
                              property("model-scanner:type", f->type),
                              property("model-scanner:location", f->location),
                              property("model-scanner:details", details ? details : "{}"));
    free(details);
    if (props && f->suppressed) {
        json_array_append_new(props, property("model-scanner:suppressed", "true"));
        if (f->suppress_expires)
            json_array_append_new(props,
                                  property("model-scanner:suppress_expires", f->suppress_expires));
    }
    return props;
}

/* A suppressed finding: the policy says it does not apply here. */
static void set_analysis(json_t *v, const ms_finding *f)
{
    if (!f->suppressed)
        return;
    char *detail = ms_strdup_printf("Suppressed by policy: %s%s%s%s",
                                    f->suppress_reason ? f->suppress_reason : "no reason given",
                                    f->suppress_expires ? " (until " : "",
                                    f->suppress_expires ? f->suppress_expires : "",
                                    f->suppress_expires ? ")" : "");
    json_object_set_new(v, "analysis",
                        json_pack("{s:s, s:s}", "state", "not_affected", "detail",
                                  detail ? detail : "Suppressed by policy"));
    free(detail);
}

/* One vulnerability per advisory of a DEPENDENCY-VULNERABLE finding. */
static void advisory_vulnerabilities(json_t *out, json_t *used, const ms_finding *f,
                                     const char *hex, const char *affects)
{
    const json_t *advs = json_object_get(f->details, "advisories");
    size_t i;
    const json_t *a;
    json_array_foreach(advs, i, a)
    {
        const char *id = json_string_value(json_object_get(a, "id"));
        if (!id)
            continue;
        const char *sev = json_string_value(json_object_get(a, "severity"));
        ms_severity s;
        const char *word = sev && ms_severity_parse(sev, &s) ? export_severity_word(s) : "unknown";
        json_t *rating =
            json_pack("{s:o, s:s, s:s}", "source", advisory_source(id), "severity", word, "method",
                      score_method(json_string_value(json_object_get(a, "cvss_vector"))));
        const json_t *score = json_object_get(a, "cvss_score");
        const char *vector = json_string_value(json_object_get(a, "cvss_vector"));
        if (json_is_number(score) && vector) {
            json_object_set_new(rating, "score", json_real(json_number_value(score)));
            json_object_set_new(rating, "vector", json_string(vector));
        }
        json_t *refs = json_array();
        const char *lists[] = {"ids", "aliases"};
        for (size_t l = 0; l < 2; l++) {
            size_t k;
            const json_t *alias;
            json_array_foreach(json_object_get(a, lists[l]), k, alias)
            {
                const char *al = json_string_value(alias);
                if (al && strcmp(al, id) != 0)
                    json_array_append_new(
                        refs, json_pack("{s:s, s:o}", "id", al, "source", advisory_source(al)));
            }
        }
        const char *fixed = json_string_value(json_object_get(a, "fixed"));
        const char *summary = json_string_value(json_object_get(a, "summary"));
        char *want = ms_strdup_printf("%s:%.16s:%s", "finding", hex, id);
        char *ref = want ? unique_ref(used, want) : NULL;
        char *rec = fixed ? ms_strdup_printf("Upgrade to %s or later. %s", fixed, f->recommendation)
                          : strdup(f->recommendation);
        json_t *v = json_pack("{s:s, s:s, s:o, s:[o], s:s, s:s, s:s, s:[{s:s}], s:o}", "bom-ref",
                              ref ? ref : "", "id", id, "source", advisory_source(id), "ratings",
                              rating, "description", summary ? summary : id, "detail",
                              f->description, "recommendation", rec ? rec : "", "affects", "ref",
                              affects, "properties", finding_properties(f));
        if (v && json_array_size(refs))
            json_object_set_new(v, "references", refs);
        else
            json_decref(refs);
        if (v)
            set_analysis(v, f);
        json_array_append_new(out, v);
        free(want);
        free(ref);
        free(rec);
    }
}

/* The component a finding is about: its outer file, the package of a
 * dependency finding, or the model for repository-wide ones. */
static const char *affected_ref(const export_index *ix, const ms_finding *f, json_t *file_refs,
                                packages *p, json_t *used, const char *model_ref)
{
    const char *package = json_string_value(json_object_get(f->details, "package"));
    if (package && strncmp(f->rule_id, "DEPENDENCY-", 11) == 0) {
        const char *version = json_string_value(json_object_get(f->details, "version"));
        const char *kind = json_string_value(json_object_get(f->details, "version_kind"));
        char *key = version && kind && strcmp(kind, "exact") == 0
                        ? ms_strdup_printf("%s@%s", package, version)
                        : NULL;
        json_t *c = key ? json_object_get(p->by_key, key) : NULL;
        free(key);
        if (!c)
            c = json_object_get(p->by_key, package);
        if (!c) /* a report without dependency facts (built by hand) */
            c = package_component(p, used, package,
                                  kind && strcmp(kind, "exact") == 0 ? version : NULL);
        const char *ref = json_string_value(json_object_get(c, "bom-ref"));
        if (ref)
            return ref;
    }
    export_where w;
    export_locate(ix, f->location, &w);
    if (!w.repo_wide && w.file != (size_t)-1)
        return json_string_value(json_array_get(file_refs, w.file));
    return model_ref;
}

json_t *ms_report_to_cyclonedx(const ms_report *r)
{
    char ts[32];
    export_timestamp(r->scan_time, ts);
    json_t *used = json_object(), *file_refs = json_array(), *vulns = json_array();
    packages p = {json_array(), json_object(), json_array()};
    export_index ix;
    bool ix_ok = export_index_init(&ix, r);
    char *serial = serial_number(r, ts);
    char *model_want = ms_strdup_printf("model:%s", r->model_name);
    char *model_ref = model_want ? unique_ref(used, model_want) : NULL;
    json_t *bom = NULL;
    if (!used || !file_refs || !vulns || !p.components || !p.by_key || !p.refs || !ix_ok ||
        !serial || !model_ref)
        goto out;

    json_t *components = json_array();
    for (size_t i = 0; i < r->nfiles; i++) {
        const ms_file_entry *e = &r->files[i];
        char *ref = unique_ref(used, e->path);
        char size[32];
        snprintf(size, sizeof(size), "%llu", (unsigned long long)e->size);
        json_t *c =
            json_pack("{s:s, s:s, s:s, s:[o, o]}", "type", "file", "bom-ref", ref ? ref : "",
                      "name", e->path, "properties", property("model-scanner:format", e->format),
                      property("model-scanner:size", size));
        if (c && e->sha256[0])
            json_object_set_new(c, "hashes",
                                json_pack("[{s:s, s:s}]", "alg", "SHA-256", "content", e->sha256));
        json_array_append_new(file_refs, json_string(ref ? ref : ""));
        json_array_append_new(components, c);
        free(ref);
    }
    packages_from_facts(&p, used, r->dependencies);

    json_t *seen = json_object();
    for (size_t i = 0; i < r->nfindings; i++) {
        const ms_finding *f = &r->findings[i];
        char hex[65];
        if (!export_fingerprint(f, hex))
            continue;
        const char *affects = affected_ref(&ix, f, file_refs, &p, used, model_ref);
        if (strcmp(f->rule_id, "DEPENDENCY-VULNERABLE") == 0 &&
            json_array_size(json_object_get(f->details, "advisories"))) {
            advisory_vulnerabilities(vulns, used, f, hex, affects);
            continue;
        }
        char want[96];
        snprintf(want, sizeof(want), "finding:%.16s:%zu", hex, export_count(seen, hex));
        char *ref = unique_ref(used, want);
        json_t *v = json_pack("{s:s, s:s, s:{s:s}, s:[{s:{s:s}, s:s, s:s}], s:s, s:s, "
                              "s:[{s:s}], s:o}",
                              "bom-ref", ref ? ref : "", "id", f->rule_id, "source", "name",
                              "model-scanner", "ratings", "source", "name", "model-scanner",
                              "severity", export_severity_word(f->severity), "method", "other",
                              "description", f->description, "recommendation", f->recommendation,
                              "affects", "ref", affects, "properties", finding_properties(f));
        if (v)
            set_analysis(v, f);
        json_array_append_new(vulns, v);
        free(ref);
    }
    json_decref(seen);
    json_array_extend(components, p.components);

    bom = json_pack("{s:s, s:s, s:s, s:i, s:{s:s, s:{s:[{s:s, s:s, s:s}]}, s:o}, s:o}", "bomFormat",
                    "CycloneDX", "specVersion", "1.6", "serialNumber", serial, "version", 1,
                    "metadata", "timestamp", ts, "tools", "components", "type", "application",
                    "name", "model-scanner", "version", MS_VERSION, "component",
                    model_component(r, model_ref), "components", components);
    if (bom && json_array_size(p.refs))
        json_object_set_new(bom, "dependencies",
                            json_pack("[{s:s, s:O}]", "ref", model_ref, "dependsOn", p.refs));
    if (bom && json_array_size(vulns))
        json_object_set(bom, "vulnerabilities", vulns);
out:
    export_index_free(&ix);
    json_decref(used);
    json_decref(file_refs);
    json_decref(vulns);
    json_decref(p.components);
    json_decref(p.by_key);
    json_decref(p.refs);
    free(serial);
    free(model_want);
    free(model_ref);
    return bom;
}
