/*
 * provenance.c - see provenance.h.
 *
 * Git metadata is read as plain files (HEAD, refs, packed-refs, config) with
 * small bounded reads; git is never run. The model card's YAML front matter
 *
 *   ---
 *   license: apache-2.0
 *   ...
 *   ---
 *
 * is parsed with libyaml's event API (no object construction, no tags
 * resolved), bounded in size.
 */
#include "provenance.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "../core/scan_ctx.h"
#include "../util/strbuf.h"

enum { SMALL_FILE = 64 << 10, FRONT_MATTER_MAX = 256 << 10 };

/* Reads at most max bytes of root/rel (not following a final symlink) into
 * a NUL-terminated buffer; NULL when absent. */
static char *read_small(const char *root, const char *rel, size_t max)
{
    char *path = ms_strdup_printf("%s/%s", root, rel);
    if (!path)
        return NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = 0;
    while (buf && n < max) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

static bool is_commit(const char *s)
{
    size_t n = 0;
    for (; isxdigit((unsigned char)s[n]); n++)
        ;
    return n == 40 || n == 64;
}

/* The commit HEAD points to, if it can be found. */
static char *git_head_commit(const char *root)
{
    char *head = read_small(root, ".git/HEAD", 4096);
    if (!head)
        return NULL;
    trim(head);
    if (is_commit(head))
        return head;
    char *result = NULL;
    if (strncmp(head, "ref: ", 5) == 0 && !strstr(head, "..")) {
        char *rel = ms_strdup_printf(".git/%s", head + 5);
        char *ref = rel ? read_small(root, rel, 4096) : NULL;
        free(rel);
        if (ref) {
            trim(ref);
            if (is_commit(ref))
                result = ref;
            else
                free(ref);
        }
        if (!result) {
            char *packed = read_small(root, ".git/packed-refs", SMALL_FILE);
            for (char *line = packed, *next; line && *line && !result; line = next) {
                next = strchr(line, '\n');
                if (next)
                    *next++ = '\0';
                char *sp = strchr(line, ' ');
                if (sp && strcmp(sp + 1, head + 5) == 0) {
                    *sp = '\0';
                    if (is_commit(line))
                        result = strdup(line);
                }
            }
            free(packed);
        }
    }
    free(head);
    return result;
}

/* url of [remote "origin"] (or of the first remote) in .git/config */
static char *git_remote_url(const char *root)
{
    char *cfg = read_small(root, ".git/config", SMALL_FILE);
    if (!cfg)
        return NULL;
    char *url = NULL;
    bool in_remote = false;
    for (char *line = cfg, *next; line && *line && !url; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        trim(line);
        if (line[0] == '[') {
            in_remote = strncmp(line, "[remote ", 8) == 0;
            continue;
        }
        if (in_remote && strncmp(line, "url", 3) == 0) {
            char *eq = strchr(line, '=');
            if (eq) {
                trim(eq + 1);
                url = strdup(eq + 1);
            }
        }
    }
    free(cfg);
    return url;
}

/* license from the README's YAML front matter; *has_front_matter tells
 * whether there was front matter at all. Returns an owned string or NULL. */
static char *card_license(const char *root, bool *has_card, bool *has_front_matter)
{
    *has_card = *has_front_matter = false;
    char *text = read_small(root, "README.md", FRONT_MATTER_MAX);
    if (!text)
        return NULL;
    *has_card = true;
    char *license = NULL;
    const char *start = text;
    if (strncmp(start, "\xef\xbb\xbf", 3) == 0)
        start += 3;
    if (strncmp(start, "---", 3) != 0 || (start[3] != '\n' && start[3] != '\r')) {
        free(text);
        return NULL;
    }
    const char *body = start + 3;
    const char *end = strstr(body, "\n---");
    if (!end) {
        free(text);
        return NULL;
    }
    *has_front_matter = true;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        free(text);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)body, (size_t)(end - body));
    /* walk events: at mapping depth 1, a scalar key "license" followed by a
     * scalar value (or the first scalar of a sequence) */
    int depth = 0;
    bool expect_key = false, want_value = false;
    for (int guard = 0; guard < 100000; guard++) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break;
        yaml_event_type_t type = ev.type;
        if (type == YAML_MAPPING_START_EVENT) {
            depth++;
            if (depth == 1)
                expect_key = true;
            else if (want_value)
                want_value = false;
        } else if (type == YAML_MAPPING_END_EVENT) {
            depth--;
            if (depth == 1)
                expect_key = true;
        } else if (type == YAML_SEQUENCE_START_EVENT) {
            depth++;
        } else if (type == YAML_SEQUENCE_END_EVENT) {
            depth--;
            if (depth == 1) {
                want_value = false;
                expect_key = true;
            }
        } else if (type == YAML_SCALAR_EVENT) {
            const char *v = (const char *)ev.data.scalar.value;
            if (want_value && !license) {
                license = strdup(v);
                want_value = false;
                if (depth == 1)
                    expect_key = true;
            } else if (depth == 1 && expect_key) {
                want_value = strcmp(v, "license") == 0;
                expect_key = false;
            } else if (depth == 1) {
                expect_key = true;
            }
        }
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT || license)
            break;
    }
    yaml_parser_delete(&parser);
    free(text);
    if (license)
        ms_sanitize_text(license);
    return license;
}

void provenance_report(ms_report *report, const provenance_facts *f)
{
    json_t *d = json_object();
    ms_strbuf known, unknown;
    ms_strbuf_init(&known, 2048);
    ms_strbuf_init(&unknown, 2048);
    char *commit = f->root ? git_head_commit(f->root) : NULL;
    char *remote = f->root ? git_remote_url(f->root) : NULL;
    if (commit) {
        json_object_set_new(d, "git_commit", json_string(commit));
        ms_strbuf_printf(&known, "git commit %.12s", commit);
        if (remote) {
            /* never echo credentials embedded in a remote URL */
            char *at = strchr(remote, '@');
            char *scheme = strstr(remote, "://");
            if (at && scheme && at > scheme)
                memmove(scheme + 3, at + 1, strlen(at + 1) + 1);
            ms_sanitize_text(remote);
            json_object_set_new(d, "git_remote", json_string(remote));
            ms_strbuf_printf(&known, " from %s", remote);
        }
    } else {
        ms_strbuf_puts(&unknown, "no git commit");
    }
    if (f->cache_repo) {
        json_object_set_new(d, "hf_cache_repo", json_string(f->cache_repo));
        if (f->cache_revision)
            json_object_set_new(d, "hf_cache_revision", json_string(f->cache_revision));
        ms_strbuf_printf(&known, "%sHugging Face cache revision %.12s of %s",
                         known.len ? ", " : "", f->cache_revision ? f->cache_revision : "?",
                         f->cache_repo);
    }
    if (f->manifest_checked) {
        json_object_set_new(d, "hash_manifest_entries",
                            json_integer((json_int_t)f->manifest_entries));
        ms_strbuf_printf(&known, "%sfiles checked against a hash manifest of %zu entries",
                         known.len ? ", " : "", f->manifest_entries);
    } else {
        ms_strbuf_printf(&unknown, "%sno hash manifest", unknown.len ? ", " : "");
    }
    ms_strbuf_printf(&unknown, "%sno signature", unknown.len ? ", " : "");
    json_object_set_new(d, "signature", json_false());

    bool has_card = false, has_fm = false;
    char *license = f->root ? card_license(f->root, &has_card, &has_fm) : NULL;
    if (license)
        json_object_set_new(d, "license", json_string(license));
    ms_report_add(report, "PROVENANCE-UNVERIFIED", "Model Repository", d,
                  "The origin of these files cannot be fully verified. Known: %s. Missing: %s. "
                  "A commit or revision says which version this is, not who published it.%s%s%s",
                  known.len ? known.data : "nothing", unknown.data ? unknown.data : "",
                  license ? " The model card declares the license " : "",
                  license ? license : "", license ? "." : "");
    if (f->root && !license)
        ms_report_add(report, "PROVENANCE-NO-LICENSE", has_card ? "README.md" : "Model Repository",
                      json_pack("{s:b, s:b}", "model_card", has_card, "front_matter", has_fm),
                      "%s", !has_card ? "The repository has no model card (README.md), so no "
                                        "license or origin is declared."
                            : !has_fm ? "The model card has no YAML front matter, so it "
                                        "declares no license."
                                      : "The model card's front matter declares no license.");
    free(license);
    free(commit);
    free(remote);
    ms_strbuf_free(&known);
    ms_strbuf_free(&unknown);
}
