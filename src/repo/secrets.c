/*
 * secrets.c - secrets and personal data in text, with Hyperscan.
 *
 * One Hyperscan database holds every rule's pattern; a block scan reports
 * (rule, start, end) for each match with SOM_LEFTMOST, so a file is read
 * once whatever the number of rules. Matches are then checked by a small
 * per-rule validator (character classes the regex cannot express cheaply,
 * placeholders such as "hf_xxxxxxxx..." or "user@example.com"), deduplicated
 * per file and rule, and reported with a redacted excerpt only: the first
 * characters and the length, never the secret.
 *
 * Noise control: vocabulary-like files (tokenizer vocabularies, merges,
 * token lists) hold every string a corpus had; in them only credentials and
 * private keys are reported, not e-mail addresses, paths or host names.
 */
#define _GNU_SOURCE /* memmem */
#include "secrets.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "../util/strbuf.h"

typedef enum secret_class {
    CLASS_CREDENTIAL, /* High */
    CLASS_PERSONAL,   /* Low */
} secret_class;

typedef struct secret_rule {
    const char *kind;    /* "Hugging Face token" */
    const char *pattern; /* Hyperscan (PCRE subset) */
    secret_class cls;
    unsigned show;       /* characters of the match shown */
} secret_rule;

/* Each pattern is anchored on something distinctive; generic entropy
 * detection is deliberately absent (it drowns users in noise). */
static const secret_rule rules[] = {
    {"Hugging Face token", "\\bhf_[A-Za-z0-9]{34,40}\\b", CLASS_CREDENTIAL, 6},
    {"Hugging Face organization API token", "\\bapi_org_[A-Za-z0-9]{34}\\b", CLASS_CREDENTIAL, 10},
    {"OpenAI API key", "\\bsk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
     CLASS_CREDENTIAL, 8},
    {"OpenAI project key", "\\bsk-proj-[A-Za-z0-9_-]{40,}", CLASS_CREDENTIAL, 10},
    {"Anthropic API key", "\\bsk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,}", CLASS_CREDENTIAL, 12},
    {"AWS access key id", "\\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\\b", CLASS_CREDENTIAL, 6},
    {"AWS secret access key",
     "(?i)aws_?secret_?access_?key[\"']?\\s*[:=]\\s*[\"']?[A-Za-z0-9/+=]{40}\\b", CLASS_CREDENTIAL,
     24},
    {"Google API key", "\\bAIza[0-9A-Za-z_-]{35}\\b", CLASS_CREDENTIAL, 6},
    {"Google OAuth client secret", "\\bGOCSPX-[A-Za-z0-9_-]{28}\\b", CLASS_CREDENTIAL, 9},
    {"Google service account key", "\"type\"\\s*:\\s*\"service_account\"", CLASS_CREDENTIAL, 8},
    {"Azure storage account key", "(?i)AccountKey=[A-Za-z0-9+/]{86}==", CLASS_CREDENTIAL, 14},
    {"Azure SAS token signature", "[?&]sig=[A-Za-z0-9%]{40,}", CLASS_CREDENTIAL, 6},
    {"GitHub token", "\\bgh[pousr]_[A-Za-z0-9]{36,255}\\b", CLASS_CREDENTIAL, 6},
    {"GitHub fine-grained token", "\\bgithub_pat_[A-Za-z0-9_]{82}\\b", CLASS_CREDENTIAL, 13},
    {"GitLab token", "\\bglpat-[A-Za-z0-9_-]{20,}\\b", CLASS_CREDENTIAL, 8},
    {"Slack token", "\\bxox[abposr]-[A-Za-z0-9-]{10,}", CLASS_CREDENTIAL, 6},
    {"Slack webhook", "https://hooks\\.slack\\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
     CLASS_CREDENTIAL, 34},
    {"Stripe key", "\\b(sk|rk)_(live|test)_[A-Za-z0-9]{24,}\\b", CLASS_CREDENTIAL, 8},
    {"Weights & Biases API key", "(?i)wandb_api_key[\"']?\\s*[:=]\\s*[\"']?[0-9a-f]{40}\\b",
     CLASS_CREDENTIAL, 16},
    {"private key", "-----BEGIN ((RSA|EC|DSA|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----",
     CLASS_CREDENTIAL, 40},
    {"password in a URL", "\\b[a-z][a-z0-9+.-]{1,20}://[^/\\s:@'\"<>]{1,64}:[^/\\s:@'\"<>]{1,128}@[A-Za-z0-9.-]+",
     CLASS_CREDENTIAL, 12},
    {"private IPv4 address",
     "\\b(10\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}|192\\.168\\.[0-9]{1,3}\\.[0-9]{1,3}|"
     "172\\.(1[6-9]|2[0-9]|3[01])\\.[0-9]{1,3}\\.[0-9]{1,3})\\b",
     CLASS_PERSONAL, 64},
    {"internal host name", "\\b[a-z0-9-]+(\\.[a-z0-9-]+)*\\.(internal|corp|intranet|lan)\\b",
     CLASS_PERSONAL, 64},
    {"home directory path", "(/home/[a-z_][a-z0-9_.-]{0,31}/|/Users/[A-Za-z0-9_.-]{1,64}/|"
                            "[Cc]:\\\\\\\\?Users\\\\\\\\?[A-Za-z0-9_.-]{1,64})",
     CLASS_PERSONAL, 64},
    {"e-mail address", "\\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,24}\\b",
     CLASS_PERSONAL, 3},
};

enum { NRULES = sizeof(rules) / sizeof(rules[0]), MAX_EXAMPLES = 3 };

static hs_database_t *db;      /* every rule, with start of match (SOM) */
static hs_database_t *quick_db; /* the same rules, no SOM, first match only */
static hs_database_t *ends_db;  /* the same rules, no SOM, every match end */
static pthread_once_t db_once = PTHREAD_ONCE_INIT;
static const char *db_error;

/* Three databases. The quick one (no start-of-match tracking, each rule
 * reported once) tells cheaply whether a buffer holds anything at all, which
 * is almost never. Then the ends one (no SOM) lists where matches end, and
 * the SOM one locates and excerpts them, run only over a window before each
 * end: SOM tracking of the rules with unbounded leading repeats (e-mail
 * addresses, host names) costs 15-20 times a plain scan, too much for a
 * whole pickle with one e-mail address in it. */
enum { DB_QUICK, DB_SOM, DB_ENDS };
static hs_database_t *compile_one(int kind, const char **error)
{
    const char *patterns[NRULES];
    unsigned flags[NRULES], ids[NRULES];
    for (unsigned i = 0; i < NRULES; i++) {
        patterns[i] = rules[i].pattern;
        flags[i] = kind == DB_SOM ? HS_FLAG_SOM_LEFTMOST
                   : kind == DB_QUICK ? HS_FLAG_SINGLEMATCH
                                      : 0;
        ids[i] = i;
    }
    hs_database_t *out = NULL;
    hs_compile_error_t *err = NULL;
    if (hs_compile_multi(patterns, flags, ids, NRULES, HS_MODE_BLOCK, NULL, &out, &err) !=
        HS_SUCCESS) {
        static char msg[256];
        snprintf(msg, sizeof(msg), "pattern %d: %s", err ? err->expression : -1,
                 err ? err->message : "unknown error");
        *error = msg;
        hs_free_compile_error(err);
        return NULL;
    }
    return out;
}

static void compile_db(void)
{
    quick_db = compile_one(DB_QUICK, &db_error);
}

static pthread_once_t som_once = PTHREAD_ONCE_INIT;
static void compile_som_db(void)
{
    db = compile_one(DB_SOM, &db_error);
    if (db)
        ends_db = compile_one(DB_ENDS, &db_error);
}

static int on_any(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ud)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    *(bool *)ud = true;
    return 1; /* stop: one match is enough to know */
}

const char *secrets_init(void)
{
    pthread_once(&db_once, compile_db);
    return quick_db ? NULL : db_error;
}

typedef struct rule_hits {
    uint32_t count;
    unsigned nex;
    char examples[MAX_EXAMPLES][96];
    uint64_t offsets[MAX_EXAMPLES];
} rule_hits;

typedef struct match_ctx {
    const uint8_t *data; /* the block being scanned */
    size_t len;
    uint64_t base;       /* offset of the block in the whole buffer */
    uint64_t dup_end;    /* matches ending by here were seen in the previous block */
    bool vocabulary;
    rule_hits hits[NRULES];
    uint64_t last_end[NRULES];
    /* the ends pass: every (rule, end) in the buffer, in end order; SOM
     * matches in a window count only when they are one of these */
    struct match_end {
        uint64_t end;
        unsigned id;
    } *ends;
    size_t nends, ends_cap;
    bool ends_overflow;
} match_ctx;

/* Match ends the windows pass is used for; past this, the whole buffer is
 * scanned with SOM instead (slower, same findings). */
enum { MAX_ENDS = 1 << 16, WINDOW = 4096 };

static int on_end(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ud)
{
    (void)from;
    (void)flags;
    match_ctx *m = ud;
    uint64_t end = m->base + to;
    if (id >= NRULES || end <= m->dup_end)
        return 0;
    if (m->nends == m->ends_cap) {
        size_t cap = m->ends_cap ? m->ends_cap * 2 : 64;
        struct match_end *e = cap <= MAX_ENDS ? realloc(m->ends, cap * sizeof(*e)) : NULL;
        if (!e) {
            m->ends_overflow = true;
            return 1; /* stop: the caller falls back to a whole SOM scan */
        }
        m->ends = e;
        m->ends_cap = cap;
    }
    m->ends[m->nends].end = end;
    m->ends[m->nends].id = id;
    m->nends++;
    return 0;
}

static int end_cmp(const void *a, const void *b)
{
    const struct match_end *x = a, *y = b;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Whether the ends pass saw rule `id` end at `end` (ends are sorted). */
static bool seen_end(const match_ctx *m, unsigned id, uint64_t end)
{
    size_t lo = 0, hi = m->nends;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ends[mid].end < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < m->nends && m->ends[i].end == end; i++)
        if (m->ends[i].id == id)
            return true;
    return false;
}

static bool placeholder(const uint8_t *p, size_t n)
{
    /* "hf_xxxxxxxx", "sk-XXXX...": a run of one repeated character */
    size_t run = 1, best = 1;
    for (size_t i = 1; i < n; i++) {
        run = p[i] == p[i - 1] ? run + 1 : 1;
        if (run > best)
            best = run;
    }
    return best >= 8;
}

static bool has_digit_and_letter(const uint8_t *p, size_t n)
{
    bool d = false, a = false;
    for (size_t i = 0; i < n; i++) {
        d |= isdigit(p[i]) != 0;
        a |= isalpha(p[i]) != 0;
    }
    return d && a;
}

static bool email_ok(const uint8_t *p, size_t n)
{
    static const char *const examples[] = {"example.com", "example.org", "example.net",
                                           "domain.com",  "email.com",   "test.com",
                                           "localhost",   "users.noreply.github.com"};
    const uint8_t *at = memchr(p, '@', n);
    if (!at)
        return false;
    size_t dn = n - (size_t)(at - p) - 1;
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        size_t el = strlen(examples[i]);
        if (dn >= el && strncasecmp((const char *)at + 1 + dn - el, examples[i], el) == 0)
            return false;
    }
    /* file names like "model@2x.png" are not addresses */
    static const char *const exts[] = {".png", ".jpg", ".gif", ".svg", ".py", ".json"};
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t el = strlen(exts[i]);
        if (n >= el && strncasecmp((const char *)p + n - el, exts[i], el) == 0)
            return false;
    }
    return true;
}

static bool validate(unsigned id, const uint8_t *p, size_t n)
{
    const char *kind = rules[id].kind;
    if (rules[id].cls == CLASS_CREDENTIAL && strcmp(kind, "private key") != 0 &&
        strcmp(kind, "Google service account key") != 0 && placeholder(p, n))
        return false;
    if (strcmp(kind, "Hugging Face token") == 0 || strcmp(kind, "GitHub token") == 0)
        return has_digit_and_letter(p, n);
    if (strcmp(kind, "e-mail address") == 0)
        return email_ok(p, n);
    if (strcmp(kind, "password in a URL") == 0) {
        /* user:pass@ where pass is not a placeholder like ${PASSWORD} or *** */
        const uint8_t *colon = NULL;
        const uint8_t *scheme = NULL;
        for (size_t i = 0; i + 2 < n; i++)
            if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
                scheme = p + i + 3;
                break;
            }
        if (scheme)
            colon = memchr(scheme, ':', n - (size_t)(scheme - p));
        const uint8_t *at = colon ? memchr(colon, '@', n - (size_t)(colon - p)) : NULL;
        if (!colon || !at || at - colon < 2)
            return false;
        for (const uint8_t *c = colon + 1; c < at; c++)
            if (*c == '$' || *c == '{' || *c == '<' || *c == '*' || *c == '%')
                return false;
        return true;
    }
    return true;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ud)
{
    (void)flags;
    match_ctx *m = ud;
    if (id >= NRULES || to > m->len || from >= to)
        return 0;
    if (m->base + to <= m->dup_end)
        return 0; /* inside the overlap with the previous block: counted there */
    if (m->ends && !m->ends_overflow && !seen_end(m, id, m->base + to))
        return 0; /* a window's edge made it up: not a match in the buffer */
    if (m->vocabulary && rules[id].cls != CLASS_CREDENTIAL)
        return 0;
    /* "user:password@host" is a password in a URL, not an e-mail address */
    if (from > 0 && m->data[from - 1] == ':' && strcmp(rules[id].kind, "e-mail address") == 0)
        return 0;
    /* SOM_LEFTMOST reports growing ends for one start: keep the longest */
    rule_hits *h = &m->hits[id];
    const uint8_t *p = m->data + from;
    size_t n = (size_t)(to - from);
    if (h->nex && h->offsets[h->nex - 1] == m->base + from) {
        if (!validate(id, p, n))
            return 0;
        h->nex--; /* replace the shorter excerpt of the same match */
        h->count--;
    } else if (!validate(id, p, n)) {
        return 0;
    }
    h->count++;
    if (h->nex < MAX_EXAMPLES) {
        ms_strbuf sb;
        ms_strbuf_init(&sb, 90);
        unsigned show = rules[id].show;
        if (rules[id].cls == CLASS_CREDENTIAL) {
            size_t k = n < show ? n : show;
            if (k > n / 2)
                k = n / 2; /* never more than half of a secret */
            ms_strbuf_quote(&sb, p, k, false, k);
            ms_strbuf_printf(&sb, "...(%zu chars)", n);
        } else if (strcmp(rules[id].kind, "e-mail address") == 0) {
            const uint8_t *at = memchr(p, '@', n);
            size_t k = at ? (size_t)(at - p) : n;
            ms_strbuf_quote(&sb, p, k < 2 ? k : 2, false, 2);
            ms_strbuf_printf(&sb, "***%.*s", (int)(at ? n - k : 0), at ? (const char *)at : "");
        } else {
            ms_strbuf_quote(&sb, p, n, false, show);
        }
        snprintf(h->examples[h->nex], sizeof(h->examples[0]), "%s", sb.data ? sb.data : "");
        ms_strbuf_free(&sb);
        h->offsets[h->nex] = m->base + from;
        h->nex++;
    }
    return 0;
}

/* A tokenizer vocabulary or similar list of corpus strings. */
static bool looks_like_vocabulary(const char *location, const uint8_t *data, size_t len)
{
    const char *base = strrchr(location, '/');
    const char *bang = strrchr(location, '!');
    if (bang && (!base || bang > base))
        base = bang;
    base = base ? base + 1 : location;
    static const char *const names[] = {"vocab.txt", "vocab.json", "merges.txt", "tokenizer.json",
                                        "spiece.model", "sentencepiece.bpe.model",
                                        "tokenizer.model", "added_tokens.json"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(base, names[i]) == 0)
            return true;
    /* content: a JSON vocabulary ("model": {"vocab": ...}) near the start */
    size_t look = len < 4096 ? len : 4096;
    for (size_t i = 0; i + 8 < look; i++)
        if (memcmp(data + i, "\"vocab\"", 7) == 0 || memcmp(data + i, "\"merges\"", 8) == 0)
            return true;
    return false;
}

/* Substrings at least one of which every rule's match contains. Small
 * buffers without any of them skip the scan, and the database is compiled
 * only when a scan is needed (compiling costs about 0.1 s per process). */
static bool may_hold_secret(const uint8_t *data, size_t len)
{
    static const char *const needles[] = {
        "hf_",      "api_org_", "sk-",       "AKIA",   "ASIA",      "ABIA",     "ACCA",
        "ecret",    "ECRET",    "AIza",      "GOCSPX", "service_account", "ccountKey",
        "CCOUNTKEY", "ccountkey", "sig=",   "gh",     "xox",       "hooks.",   "sk_",
        "rk_",      "andb",     "ANDB",      "PRIVATE KEY", "://",  "10.",      "192.168.",
        "172.",     ".internal", ".corp",    ".intranet", ".lan",   "/home/",   "/Users/",
        "Users\\", "sers\\",   "@",       "github_pat_", "glpat-",
    };
    if (len > (1u << 20))
        return true;
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
        if (memmem(data, len, needles[i], strlen(needles[i])))
            return true;
    return false;
}

struct secrets_scratch {
    hs_scratch_t *hs; /* grown to fit both databases */
    bool quick, som;  /* it fits that database (hs_alloc_scratch validates the
                       * whole database each time it is called) */
};

secrets_scratch *secrets_scratch_new(void)
{
    return calloc(1, sizeof(secrets_scratch));
}

void secrets_scratch_free(secrets_scratch *s)
{
    if (s)
        hs_free_scratch(s->hs);
    free(s);
}

/* A scan's scratch goes back to `keep` when there is one: allocating it is
 * most of the cost of scanning a short string. */
static void scratch_done(secrets_scratch *keep, hs_scratch_t *scratch)
{
    if (keep)
        keep->hs = scratch;
    else
        hs_free_scratch(scratch);
}

static ms_status scan_impl(ms_report *report, const char *location, const uint8_t *data,
                           size_t len, const char *origin, bool mapped, const char *key,
                           bool vocabulary, secrets_scratch *keep)
{
    if (len == 0 || !may_hold_secret(data, len))
        return MS_OK;
    if (secrets_init())
        return MS_INTERNAL;
    hs_scratch_t *scratch = keep ? keep->hs : NULL;
    if (!(keep && keep->quick) && hs_alloc_scratch(quick_db, &scratch) != HS_SUCCESS) {
        scratch_done(keep, scratch);
        return MS_NOMEM;
    }
    if (keep)
        keep->quick = true;
    bool any = false;
    /* Hyperscan takes 32-bit lengths: overlapping blocks of 1 GiB, or of
     * 16 MiB over a file mapping, whose pages are released behind so that
     * memory does not grow with the file */
    const size_t block = mapped ? (size_t)16 << 20 : (size_t)1 << 30, overlap = 4096;
    for (size_t off = 0; off < len && !any; off += block - overlap) {
        size_t n = len - off < block ? len - off : block;
        hs_scan(quick_db, (const char *)data + off, (unsigned)n, 0, scratch, on_any, &any);
        if (mapped && off > overlap)
            ms_release_pages(data, off - overlap);
        if (off + n >= len)
            break;
    }
    if (!any) {
        scratch_done(keep, scratch);
        return MS_OK;
    }
    pthread_once(&som_once, compile_som_db);
    if (!db || !ends_db ||
        (!(keep && keep->som) && (hs_alloc_scratch(db, &scratch) != HS_SUCCESS ||
                                  hs_alloc_scratch(ends_db, &scratch) != HS_SUCCESS))) {
        scratch_done(keep, scratch);
        return db && ends_db ? MS_NOMEM : MS_INTERNAL;
    }
    if (keep)
        keep->som = true;
    match_ctx *m = calloc(1, sizeof(*m));
    if (!m) {
        scratch_done(keep, scratch);
        return MS_NOMEM;
    }
    m->data = data;
    m->len = len;
    m->vocabulary = vocabulary || looks_like_vocabulary(location, data, len);
    /* where matches end (cheap), then SOM over a window before each end */
    for (size_t off = 0; off < len && !m->ends_overflow; off += block - overlap) {
        size_t n = len - off < block ? len - off : block;
        m->base = off;
        m->dup_end = off ? off + overlap : 0;
        hs_scan(ends_db, (const char *)data + off, (unsigned)n, 0, scratch, on_end, m);
        if (mapped && off > overlap)
            ms_release_pages(data, off - overlap);
        if (off + n >= len)
            break;
    }
    if (!m->ends_overflow) {
        if (m->nends > 1)
            qsort(m->ends, m->nends, sizeof(*m->ends), end_cmp);
        for (size_t i = 0; i < m->nends;) {
            uint64_t start = m->ends[i].end > WINDOW ? m->ends[i].end - WINDOW : 0;
            uint64_t stop = m->ends[i].end;
            /* merge windows that overlap, so that no match is seen twice */
            while (++i < m->nends && m->ends[i].end <= stop + WINDOW)
                stop = m->ends[i].end;
            m->data = data + start;
            m->len = (size_t)(stop - start);
            m->base = start;
            m->dup_end = 0;
            hs_scan(db, (const char *)m->data, (unsigned)m->len, 0, scratch, on_match, m);
        }
        goto report;
    }
    free(m->ends); /* too many: scan everything with SOM */
    m->ends = NULL;
    for (size_t off = 0; off < len; off += block - overlap) {
        size_t n = len - off < block ? len - off : block;
        m->data = data + off;
        m->len = n;
        m->base = off;
        m->dup_end = off ? off + overlap : 0;
        hs_error_t rc = hs_scan(db, (const char *)data + off, (unsigned)n, 0, scratch, on_match, m);
        if (mapped && off > overlap)
            ms_release_pages(data, off - overlap);
        if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
            break;
        if (off + n >= len)
            break;
    }
report:
    scratch_done(keep, scratch);
    free(m->ends);
    for (unsigned id = 0; id < NRULES; id++) {
        rule_hits *h = &m->hits[id];
        if (!h->count)
            continue;
        bool cred = rules[id].cls == CLASS_CREDENTIAL;
        json_t *ex = json_array();
        for (unsigned i = 0; i < h->nex; i++)
            json_array_append_new(ex, json_string(h->examples[i]));
        json_t *d = json_pack("{s:s, s:s, s:I, s:o, s:I}", "secret_kind", rules[id].kind, "origin",
                              origin, "occurrences", (json_int_t)h->count, "excerpts", ex,
                              "first_offset", (json_int_t)h->offsets[0]);
        if (d && key)
            json_object_set_new(d, "key", json_string(key));
        ms_report_add(report, cred ? "SECRET-CREDENTIAL" : "SECRET-PERSONAL-DATA", location, d,
                      "%s in %s: %s (%u occurrence%s; first %s at byte %llu%s). Only a "
                      "redacted excerpt is shown.",
                      cred ? "Credential" : "Personal or internal data", origin, rules[id].kind,
                      h->count, h->count == 1 ? "" : "s", h->examples[0],
                      (unsigned long long)h->offsets[0], key ? " of the value" : "");
    }
    free(m);
    return MS_OK;
}

ms_status secrets_scan(ms_report *report, const char *location, const uint8_t *data,
                       size_t len, const char *origin)
{
    return scan_impl(report, location, data, len, origin, false, NULL, false, NULL);
}

ms_status secrets_scan_mapped(ms_report *report, const char *location, const uint8_t *data,
                              size_t len, const char *origin)
{
    ms_status st = scan_impl(report, location, data, len, origin, true, NULL, false, NULL);
    ms_release_pages(data, len);
    return st;
}

ms_status secrets_scan_metadata(ms_report *report, const char *location, const char *key,
                                const uint8_t *data, size_t len, const char *origin,
                                bool vocabulary, secrets_scratch *scratch)
{
    return scan_impl(report, location, data, len, origin, false, key, vocabulary, scratch);
}
