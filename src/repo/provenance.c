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
#include <limits.h>
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

/* A cache snapshot's README.md is a link into the entry's blobs/: it is
 * followed only when it resolves inside `contain`. */
static char *read_linked_card(const char *dir, const char *contain)
{
    if (!contain)
        return NULL;
    char *path = ms_strdup_printf("%s/README.md", dir);
    char real[PATH_MAX];
    bool ok = path && realpath(path, real) != NULL;
    free(path);
    size_t n = strlen(contain);
    if (!ok || strncmp(real, contain, n) != 0 || real[n] != '/')
        return NULL;
    char *slash = strrchr(real, '/');
    *slash = '\0';
    return read_small(real, slash + 1, FRONT_MATTER_MAX);
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

/* Front-matter keys kept as model card facts (report->model_card); a `list`
 * key is always an array of strings, the others a string (the first scalar
 * when the card gives a list). Hugging Face's model card metadata names them:
 * https://huggingface.co/docs/hub/model-cards#model-card-metadata */
static const struct {
    const char *key;
    bool list;
} card_keys[] = {
    {"license", false},      {"license_name", false}, {"license_link", false},
    {"base_model", true},    {"datasets", true},      {"language", true},
    {"pipeline_tag", false}, {"library_name", false}, {"tags", true},
};
/* Items kept per list and bytes per string: cards list a few languages,
 * datasets and tags; a longer list or string is cut, not refused. */
enum { CARD_MAX_ITEMS = 64, CARD_MAX_TEXT = 512, CARD_MAX_LEVELS = 8 };

/* A sanitised copy of a scalar, at most CARD_MAX_TEXT bytes cut at a
 * character boundary. */
static json_t *card_string(const yaml_event_t *ev)
{
    char *v = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (!v)
        return NULL;
    ms_sanitize_text(v);
    size_t n = strlen(v);
    if (n > CARD_MAX_TEXT) {
        n = CARD_MAX_TEXT;
        while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
            n--;
    }
    json_t *s = json_stringn(v, n);
    free(v);
    return s;
}

/* A scalar value of the top-level key `key` (at `level` 1 itself, at level 2
 * an item of its list). The first value of a key wins. */
static void card_take(json_t *card, const char *key, int level, const yaml_event_t *ev)
{
    for (size_t i = 0; i < sizeof(card_keys) / sizeof(card_keys[0]); i++) {
        if (strcmp(key, card_keys[i].key) != 0)
            continue;
        json_t *have = json_object_get(card, key);
        if (!card_keys[i].list) {
            if (!have)
                json_object_set_new(card, key, card_string(ev));
        } else if (!have || (level == 2 && json_array_size(have) < CARD_MAX_ITEMS)) {
            /* `have` at level 2: an earlier item of this same list */
            if (!have) {
                have = json_array();
                json_object_set_new(card, key, have);
            }
            json_array_append_new(have, card_string(ev));
        }
        return;
    }
}

/* The facts of the README's YAML front matter (card_keys, and
 * "model_index_name": the name of the first model-index entry) as an
 * object; *has_card tells whether there is a README.md, *has_front_matter
 * whether it has front matter. NULL without front matter. The first scalar
 * of `license` is the license PROVENANCE-* findings name. */
static json_t *card_facts(const char *root, const char *contain, bool *has_card,
                          bool *has_front_matter)
{
    *has_card = *has_front_matter = false;
    char *text = read_small(root, "README.md", FRONT_MATTER_MAX);
    text = text ? text : read_linked_card(root, contain);
    if (!text)
        return NULL;
    *has_card = true;
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
    json_t *card = json_object();
    yaml_parser_t parser;
    if (!card || !yaml_parser_initialize(&parser)) {
        free(text);
        return card;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)body, (size_t)(end - body));
    /* walk events, keeping for the outer levels whether each is a mapping
     * waiting for a key; top_key is the current key of the top mapping */
    bool is_map[CARD_MAX_LEVELS] = {false}, want_key[CARD_MAX_LEVELS] = {false};
    size_t item[CARD_MAX_LEVELS] = {0};
    char top_key[64] = "", sub_key[64] = "";
    bool top_repeated = false; /* top_key was seen before: its first value wins */
    int level = 0;
    for (int guard = 0; guard < 100000; guard++) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break;
        yaml_event_type_t type = ev.type;
        bool value_done = false; /* a whole value ended at `level` */
        if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
            level++;
            if (level < CARD_MAX_LEVELS) {
                is_map[level] = type == YAML_MAPPING_START_EVENT;
                want_key[level] = is_map[level];
                item[level] = 0;
            }
        } else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) {
            level--;
            value_done = true;
        } else if (type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT) {
            if (level >= 1 && level < CARD_MAX_LEVELS && is_map[level] && want_key[level]) {
                const char *k = type == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value
                                                          : "";
                if (level == 1) {
                    snprintf(top_key, sizeof(top_key), "%s", k);
                    top_repeated = json_object_get(card, top_key) != NULL;
                } else if (level == 3) {
                    snprintf(sub_key, sizeof(sub_key), "%s", k);
                }
                want_key[level] = false;
            } else {
                if (type == YAML_SCALAR_EVENT && !top_repeated &&
                    (level == 1 || (level == 2 && !is_map[2])))
                    card_take(card, top_key, level, &ev);
                else if (type == YAML_SCALAR_EVENT && level == 3 && is_map[3] && !is_map[2] &&
                         item[2] == 0 && strcmp(top_key, "model-index") == 0 &&
                         strcmp(sub_key, "name") == 0 && !json_object_get(card, "model_index_name"))
                    json_object_set_new(card, "model_index_name", card_string(&ev));
                value_done = true;
            }
        }
        if (value_done && level >= 1 && level < CARD_MAX_LEVELS) {
            if (is_map[level])
                want_key[level] = true;
            else
                item[level]++;
        }
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    free(text);
    return card;
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
    const char *card_dir = f->card_dir ? f->card_dir : f->root;
    json_t *card = card_dir ? card_facts(card_dir, f->card_contain, &has_card, &has_fm) : NULL;
    const char *license = json_string_value(json_object_get(card, "license"));
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
    /* the facts go to the report for bills of materials (CycloneDX) */
    json_decref(report->model_card);
    report->model_card = card;
    free(commit);
    free(remote);
    ms_strbuf_free(&known);
    ms_strbuf_free(&unknown);
}
