/*
 * checkpoint.c - reads a torch.save checkpoint into a conversion plan.
 *
 *   zip format (torch >= 1.6)              legacy format (torch.save(...,
 *                                          _use_new_zipfile_serialization=False))
 *   <root>/data.pkl   the pickle           pickle: magic number 0x1950a86a20f9469cfc6c
 *   <root>/data/<key> raw bytes of the     pickle: protocol version 1001
 *                     storage named key    pickle: sys_info {little_endian, ...}
 *   <root>/byteorder  "little" | "big"     pickle: the object (storages as
 *                     (absent: little)             persistent ids)
 *   <root>/version    "3"                  pickle: list of storage keys
 *   <root> = folder of the first entry     per key, in that order:
 *                                            numel: u64 little-endian, then
 *                                            numel * element size bytes
 *
 * Byte order: a zip records the saving machine's order in "byteorder" and
 * torch.load swaps when it differs from the loading machine's; we write
 * little-endian, so "big" members are swapped. The legacy format is always
 * little-endian on disk whatever sys_info says: torch's writer
 * (THPStorage_writeFileRaw in torch/csrc/serialization.cpp) converts to
 * little-endian and its reader converts back, ignoring sys_info, so the
 * bytes are taken as they are (swapping them would corrupt them).
 *
 * Storages are checked against what torch.load checks: a zip member holds
 * exactly numel * element size bytes, stored (never compressed: torch never
 * compresses and we copy straight from the file); a legacy storage's count
 * equals the persistent id's numel, every key is known, every storage has
 * bytes, and nothing follows the last one.
 *
 * The state dict: the top-level dict if it holds a tensor; otherwise its
 * "state_dict", "model_state_dict" or "model" entry if that is a dict
 * holding tensors (what Hugging Face's conversion script and training
 * loops use). Every other entry is a non-tensor entry: refused unless
 * --drop-non-tensors, and then listed. Nested dicts are not flattened.
 *
 * Shared storage, as huggingface/safetensors' torch helpers decide
 * (_find_shared_tensors, _filter_shared_not_shared, _remove_duplicate_names):
 * tensors of one storage are sorted by (start, end, name) and swept into
 * groups of overlapping byte ranges; in a group of several, the names whose
 * tensor covers the whole storage are candidates and the first in sort order
 * is kept, the others dropped (recorded as dropped -> kept in the metadata,
 * like HF's convert script); a group with no such tensor is refused, as HF
 * refuses it. A lone view of part of a storage is written contiguously.
 */
#include "checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "../codec/zip.h"
#include "../util/checked.h"
#include "../util/cursor.h"
#include "../util/strbuf.h"

enum {
    SHOW_ENTRIES = 8, /* non-tensor entries named in a refusal */
    NAME_SHOWN = 200,
};

static const uint8_t legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                         0x20, 0x6a, 0xa8, 0x50, 0x19};

static ms_convert_verdict refuse(cp_plan *p, const char *fmt, ...) MS_PRINTF(2, 3);
static ms_convert_verdict refuse(cp_plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(p->message);
    p->message = ms_strdup_vprintf(8192, fmt, ap);
    va_end(ap);
    return MS_CONVERT_REFUSED;
}

/* A refusal from the evaluator: its message, with the offset in the pickle
 * (`which` pickle of several, or NULL). */
static ms_convert_verdict eval_refused(cp_plan *p, ms_status st, const char *which)
{
    if (st == MS_NOMEM) {
        free(p->message);
        p->message = ms_strdup_printf("out of memory");
        return MS_CONVERT_FAILED;
    }
    if (!which)
        return refuse(p, "offset %zu: %s", te_error_offset(p->ev), te_error(p->ev));
    return refuse(p, "%s, offset %zu: %s", which, te_error_offset(p->ev), te_error(p->ev));
}

void cp_notes_free(ms_convert_note *n, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(n[i].name);
        free(n[i].detail);
    }
    free(n);
}

void cp_plan_free(cp_plan *p)
{
    te_free(p->ev);
    free(p->pickle_owned);
    free(p->member);
    for (size_t i = 0; i < p->ntensors; i++)
        free(p->tensors[i].name);
    free(p->tensors);
    cp_notes_free(p->tied, p->ntied);
    cp_notes_free(p->dropped, p->ndropped);
    free(p->message);
    memset(p, 0, sizeof(*p));
}

const uint8_t *cp_storage_base(const cp_plan *p, const cp_tensor *ct)
{
    te_storage *s = te_storage_at(p->ev, ct->t->storage);
    return p->data + s->file_offset;
}

/* ------------------------------------------------------------------ */
/* names */

/* A key fit for a message: the text, or "<int key>" for other kinds. */
static void render_key(const te_value *k, ms_strbuf *sb)
{
    if (k->kind == TE_STR) {
        size_t n = k->u.s.n > NAME_SHOWN ? NAME_SHOWN : (size_t)k->u.s.n;
        size_t start = sb->len;
        ms_strbuf_append(sb, (const char *)k->u.s.p, n);
        if (sb->data)
            ms_sanitize_text(sb->data + start);
        if (k->u.s.n > NAME_SHOWN)
            ms_strbuf_puts(sb, "...");
    } else if (k->kind == TE_INT) {
        ms_strbuf_printf(sb, "<int key %lld>", (long long)k->u.i);
    } else {
        ms_strbuf_printf(sb, "<%s key>", te_kind_name(k));
    }
}

static bool valid_name(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n;) {
        size_t l = p[i] ? ms_utf8_seq_len(p + i, (size_t)(n - i)) : 0;
        if (!l)
            return false;
        i += l;
    }
    return !(n == 12 && memcmp(p, "__metadata__", 12) == 0);
}

/* ------------------------------------------------------------------ */
/* choosing the state dict */

typedef struct sd_item {
    const te_value *key, *value;
    size_t pos;
} sd_item;

static int key_cmp(const te_value *a, const te_value *b)
{
    size_t n = a->u.s.n < b->u.s.n ? (size_t)a->u.s.n : (size_t)b->u.s.n;
    int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
    if (c)
        return c;
    return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
}

static int item_key_cmp(const void *x, const void *y)
{
    const sd_item *a = x, *b = y;
    bool as = a->key->kind == TE_STR, bs = b->key->kind == TE_STR;
    if (as != bs)
        return as ? -1 : 1;
    int c = as ? key_cmp(a->key, b->key) : 0;
    if (c)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int item_pos_cmp(const void *x, const void *y)
{
    const sd_item *a = x, *b = y;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* A dict's items as Python sees them: a str key set twice keeps its first
 * position and its last value. */
static bool dict_items(const te_eval *ev, const te_value *dict, sd_item **out, size_t *count)
{
    size_t n = te_len(ev, dict);
    sd_item *items = malloc((n ? n : 1) * sizeof(*items));
    if (!items)
        return false;
    for (size_t i = 0; i < n; i++) {
        te_dict_pair(ev, dict, i, &items[i].key, &items[i].value);
        items[i].pos = i;
    }
    qsort(items, n, sizeof(*items), item_key_cmp);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w && items[i].key->kind == TE_STR && items[w - 1].key->kind == TE_STR &&
            key_cmp(items[i].key, items[w - 1].key) == 0) {
            items[w - 1].value = items[i].value; /* later value, first position */
            continue;
        }
        items[w++] = items[i];
    }
    qsort(items, w, sizeof(*items), item_pos_cmp);
    *out = items;
    *count = w;
    return true;
}

static size_t count_tensors(const sd_item *items, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += items[i].value->kind == TE_TENSOR;
    return t;
}

static bool add_dropped(cp_plan *p, const char *prefix, const sd_item *it)
{
    if (p->ndropped == p->capdropped) {
        size_t cap = p->capdropped ? p->capdropped * 2 : 8;
        ms_convert_note *n = realloc(p->dropped, cap * sizeof(*n));
        if (!n)
            return false;
        p->dropped = n;
        p->capdropped = cap;
    }
    ms_strbuf sb;
    ms_strbuf_init(&sb, 4096);
    ms_strbuf_puts(&sb, prefix);
    render_key(it->key, &sb);
    ms_convert_note *n = &p->dropped[p->ndropped];
    n->name = ms_strbuf_take(&sb);
    n->detail = ms_strdup_printf("%s", te_kind_name(it->value));
    if (!n->name || !n->detail) {
        free(n->name);
        free(n->detail);
        return false;
    }
    p->ndropped++;
    return true;
}

static ms_convert_verdict nomem(cp_plan *p)
{
    free(p->message);
    p->message = ms_strdup_printf("out of memory");
    return MS_CONVERT_FAILED;
}

/* Fills p->tensors from the chosen dict and p->dropped with the rest. */
static ms_convert_verdict choose_state_dict(cp_plan *p, const te_value *root,
                                            const ms_convert_options *opts)
{
    if (root->kind != TE_DICT)
        return refuse(p, "the checkpoint holds a %s, not a dict of tensors (a state dict)",
                      te_kind_name(root));
    sd_item *top = NULL, *sd = NULL;
    size_t ntop = 0, nsd = 0;
    ms_convert_verdict v = MS_CONVERT_DONE;
    const char *prefix = "";
    char *prefix_owned = NULL;
    if (!dict_items(p->ev, root, &top, &ntop))
        return nomem(p);
    if (count_tensors(top, ntop)) {
        sd = top;
        nsd = ntop;
        top = NULL;
        ntop = 0;
    } else {
        static const char *const wrappers[] = {"state_dict", "model_state_dict", "model"};
        for (size_t w = 0; w < 3 && !sd; w++) {
            for (size_t i = 0; i < ntop && !sd; i++) {
                if (!te_is_str(top[i].key, wrappers[w]) || top[i].key->kind != TE_STR ||
                    top[i].value->kind != TE_DICT)
                    continue;
                if (!dict_items(p->ev, top[i].value, &sd, &nsd)) {
                    v = nomem(p);
                    goto out;
                }
                if (!count_tensors(sd, nsd)) {
                    free(sd);
                    sd = NULL;
                    continue;
                }
                prefix_owned = ms_strdup_printf("%s.", wrappers[w]);
                prefix = prefix_owned ? prefix_owned : "";
                /* the wrapper itself is not dropped: it is what we convert */
                top[i].value = NULL;
            }
        }
        if (!sd) {
            v = refuse(p, "the checkpoint's dict holds no tensor (nor a \"state_dict\", "
                          "\"model_state_dict\" or \"model\" dict of tensors)");
            goto out;
        }
    }
    for (size_t i = 0; i < ntop; i++)
        if (top[i].value && !add_dropped(p, "", &top[i])) {
            v = nomem(p);
            goto out;
        }
    p->tensors = calloc(nsd ? nsd : 1, sizeof(*p->tensors));
    if (!p->tensors) {
        v = nomem(p);
        goto out;
    }
    for (size_t i = 0; i < nsd; i++) {
        const te_value *k = sd[i].key, *val = sd[i].value;
        if (val->kind != TE_TENSOR) {
            if (!add_dropped(p, prefix, &sd[i])) {
                v = nomem(p);
                goto out;
            }
            continue;
        }
        if (k->kind != TE_STR || !valid_name(k->u.s.p, k->u.s.n)) {
            ms_strbuf sb;
            ms_strbuf_init(&sb, 512);
            render_key(k, &sb);
            v = refuse(p, "a tensor is stored under the key '%s', which is not a valid "
                          "safetensors name (a UTF-8 string without NUL, not __metadata__)",
                       sb.data ? sb.data : "");
            ms_strbuf_free(&sb);
            goto out;
        }
        cp_tensor *ct = &p->tensors[p->ntensors];
        ct->name = malloc((size_t)k->u.s.n + 1);
        if (!ct->name) {
            v = nomem(p);
            goto out;
        }
        memcpy(ct->name, k->u.s.p, (size_t)k->u.s.n);
        ct->name[k->u.s.n] = '\0';
        ct->t = te_tensor_at(p->ev, val->id);
        ct->kept_as = SIZE_MAX;
        p->ntensors++;
    }
    if (p->ndropped && !opts->drop_non_tensors) {
        ms_strbuf sb;
        ms_strbuf_init(&sb, 4096);
        for (size_t i = 0; i < p->ndropped && i < SHOW_ENTRIES; i++)
            ms_strbuf_printf(&sb, "%s%s (%s)", i ? ", " : "", p->dropped[i].name,
                             p->dropped[i].detail);
        if (p->ndropped > SHOW_ENTRIES)
            ms_strbuf_printf(&sb, " and %zu more", p->ndropped - SHOW_ENTRIES);
        v = refuse(p, "%zu entr%s of the checkpoint %s: %s. safetensors holds tensors only; "
                      "--drop-non-tensors converts the tensors and lists what it leaves out",
                   p->ndropped, p->ndropped == 1 ? "y" : "ies",
                   p->ndropped == 1 ? "is not a tensor" : "are not tensors",
                   sb.data ? sb.data : "");
        ms_strbuf_free(&sb);
    }
out:
    free(top);
    free(sd);
    free(prefix_owned);
    return v;
}

/* ------------------------------------------------------------------ */
/* shared storage and the output layout */

/* a tensor's place for the sharing sweep */
typedef struct extent {
    uint32_t storage;
    uint64_t begin, end;
    const char *name;
    size_t index;
} extent;

static int by_extent(const void *x, const void *y)
{
    const extent *a = x, *b = y;
    if (a->storage != b->storage)
        return a->storage < b->storage ? -1 : 1;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int by_output(const void *x, const void *y)
{
    const cp_tensor *a = x, *b = y;
    bool ad = a->kept_as != SIZE_MAX, bd = b->kept_as != SIZE_MAX;
    if (ad != bd)
        return ad ? 1 : -1;
    unsigned as = te_dtype_info(a->t->dtype)->size, bs = te_dtype_info(b->t->dtype)->size;
    if (as != bs)
        return as > bs ? -1 : 1; /* largest elements first: every tensor stays aligned */
    return strcmp(a->name, b->name);
}

static int by_note_name(const void *x, const void *y)
{
    return strcmp(((const ms_convert_note *)x)->name, ((const ms_convert_note *)y)->name);
}

static void measure(cp_tensor *ct)
{
    const te_tensor *t = ct->t;
    uint64_t es = te_dtype_info(t->dtype)->size, last = 0, expect = 1;
    ct->contiguous = true;
    ct->nbytes = t->numel * es;
    ct->begin = ct->end = t->byte_offset;
    if (!t->numel)
        return;
    /* with elements, the evaluator checked that none of this overflows */
    for (unsigned i = t->ndim; i-- > 0;) {
        if (t->shape[i] != 1 && t->stride[i] != expect)
            ct->contiguous = false;
        expect *= t->shape[i];
        last += (t->shape[i] - 1) * t->stride[i];
    }
    ct->end = t->byte_offset + (last + 1) * es;
}

static bool complete(const cp_plan *p, const cp_tensor *ct)
{
    te_storage *s = te_storage_at(p->ev, ct->t->storage);
    return ct->begin == 0 && ct->nbytes == s->nbytes;
}

static ms_convert_verdict resolve_sharing(cp_plan *p)
{
    size_t n = p->ntensors, m = 0;
    extent *order = malloc((n ? n : 1) * sizeof(*order));
    if (!order)
        return nomem(p);
    for (size_t i = 0; i < n; i++) {
        cp_tensor *ct = &p->tensors[i];
        measure(ct);
        te_storage *s = te_storage_at(p->ev, ct->t->storage);
        if (ct->t->numel && s->nbytes)
            order[m++] = (extent){ct->t->storage, ct->begin, ct->end, ct->name, i};
    }
    qsort(order, m, sizeof(*order), by_extent);
    ms_convert_verdict v = MS_CONVERT_DONE;
    for (size_t g = 0; g < m;) {
        /* one group: same storage, each range starting before the previous
         * one's end (HF compares with the previous range, not the widest) */
        size_t e = g + 1;
        uint64_t last_stop = order[g].end;
        while (e < m && order[e].storage == order[g].storage && order[e].begin < last_stop) {
            last_stop = order[e].end;
            e++;
        }
        if (e - g > 1) {
            size_t keep = SIZE_MAX;
            for (size_t i = g; i < e; i++) {
                const cp_tensor *c = &p->tensors[order[i].index];
                if (complete(p, c) &&
                    (keep == SIZE_MAX || strcmp(c->name, p->tensors[keep].name) < 0))
                    keep = order[i].index;
            }
            if (keep == SIZE_MAX) {
                ms_strbuf sb;
                ms_strbuf_init(&sb, 2048);
                for (size_t i = g; i < e && i < g + SHOW_ENTRIES; i++)
                    ms_strbuf_printf(&sb, "%s%s", i > g ? ", " : "", order[i].name);
                v = refuse(p, "tensors %s share storage and none of them covers all of it; "
                              "the Hugging Face libraries refuse to save such a state dict, "
                              "and so do we",
                           sb.data ? sb.data : "");
                ms_strbuf_free(&sb);
                goto out;
            }
            for (size_t i = g; i < e; i++)
                if (order[i].index != keep)
                    p->tensors[order[i].index].kept_as = keep;
        }
        g = e;
    }
    /* the tied notes, by dropped name, before the array is reordered */
    for (size_t i = 0; i < n; i++)
        p->ntied += p->tensors[i].kept_as != SIZE_MAX;
    p->tied = calloc(p->ntied ? p->ntied : 1, sizeof(*p->tied));
    if (!p->tied) {
        v = nomem(p);
        goto out;
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        const cp_tensor *c = &p->tensors[i];
        if (c->kept_as == SIZE_MAX)
            continue;
        p->tied[k].name = ms_strdup_printf("%s", c->name);
        p->tied[k].detail = ms_strdup_printf("%s", p->tensors[c->kept_as].name);
        if (!p->tied[k].name || !p->tied[k].detail) {
            p->ntied = k + 1;
            v = nomem(p);
            goto out;
        }
        k++;
    }
    qsort(p->tied, p->ntied, sizeof(*p->tied), by_note_name);
    /* output order; kept_as indices are not used after this */
    qsort(p->tensors, n, sizeof(*p->tensors), by_output);
    uint64_t at = 0;
    for (size_t i = 0; i < n && p->tensors[i].kept_as == SIZE_MAX; i++) {
        p->tensors[i].out_offset = at;
        if (!ms_add_u64(at, p->tensors[i].nbytes, &at)) {
            v = refuse(p, "the tensors' total size overflows 64 bits");
            goto out;
        }
        p->nkept++;
    }
    p->data_bytes = at;
    for (size_t i = 0; i < p->nkept; i++) {
        const cp_tensor *c = &p->tensors[i];
        if (!c->contiguous || !complete(p, c))
            p->nmaterialised++;
    }
out:
    free(order);
    return v;
}

/* ------------------------------------------------------------------ */
/* the zip container */

typedef struct zip_name {
    const uint8_t *name;
    size_t len;
    size_t entry;
} zip_name;

typedef struct zip_index {
    const zip_archive *za;
    zip_name *order; /* central entries sorted by name */
    size_t n;
} zip_index;

static int name_cmp_raw(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static int by_name(const void *x, const void *y)
{
    const zip_name *a = x, *b = y;
    int c = name_cmp_raw(a->name, a->len, b->name, b->len);
    return c ? c : (a->entry < b->entry ? -1 : a->entry > b->entry);
}

/* The central entry named root/rest; NULL when absent, *dup when named twice. */
static const zip_entry *zip_find(const zip_index *zi, const uint8_t *root, size_t rl,
                                 const char *rest, size_t rest_len, bool *dup)
{
    uint8_t buf[4096];
    if (rl + 1 + rest_len > sizeof(buf))
        return NULL;
    memcpy(buf, root, rl);
    buf[rl] = '/';
    memcpy(buf + rl + 1, rest, rest_len);
    size_t n = rl + 1 + rest_len, lo = 0, hi = zi->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (name_cmp_raw(zi->order[mid].name, zi->order[mid].len, buf, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= zi->n)
        return NULL;
    if (name_cmp_raw(zi->order[lo].name, zi->order[lo].len, buf, n) != 0)
        return NULL;
    if (lo + 1 < zi->n)
        *dup = name_cmp_raw(zi->order[lo + 1].name, zi->order[lo + 1].len, buf, n) == 0;
    return &zi->za->entries[zi->order[lo].entry];
}

/* The stored bytes of a member, or a reason why they cannot be read. */
static const char *member_span(const cp_plan *p, const zip_entry *e, uint64_t *offset)
{
    if (e->flags & (ZIP_FLAG_ENCRYPTED | ZIP_FLAG_STRONG_ENCRYPTION | ZIP_FLAG_PATCHED))
        return "is encrypted or patched";
    if (!e->local_ok || !e->data_ok)
        return "lies outside the file or has no local header";
    if (e->method != ZIP_METHOD_STORED || e->local_method != ZIP_METHOD_STORED)
        return "is compressed (torch stores storages uncompressed; we copy them straight from "
               "the file)";
    if (e->comp_size != e->uncomp_size)
        return "has a stored size different from its size";
    if (e->data_offset > p->len || e->comp_size > p->len - e->data_offset)
        return "lies outside the file";
    *offset = e->data_offset;
    return NULL;
}

static ms_convert_verdict read_zip(cp_plan *p, const ms_convert_options *opts)
{
    zip_archive za;
    zip_index zi = {&za, NULL, 0};
    ms_convert_verdict v = MS_CONVERT_DONE;
    if (zip_open(&za, p->data, p->len, opts->limits.archive_max_members) != MS_OK) {
        zip_close(&za);
        return nomem(p);
    }
    zi.order = malloc((za.nentries ? za.nentries : 1) * sizeof(*zi.order));
    if (!zi.order) {
        v = nomem(p);
        goto out;
    }
    for (size_t i = 0; i < za.nentries; i++)
        if (za.entries[i].in_central)
            zi.order[zi.n++] = (zip_name){za.entries[i].name, za.entries[i].name_len, i};
    qsort(zi.order, zi.n, sizeof(*zi.order), by_name);
    if (!za.nentries || !za.entries[0].in_central) {
        v = refuse(p, "the zip archive has no central directory entries");
        goto out;
    }
    /* torch takes the folder of the first central directory entry */
    const zip_entry *first = &za.entries[0];
    const uint8_t *slash = memchr(first->name, '/', first->name_len);
    if (!slash) {
        v = refuse(p, "the zip archive is not a torch.save checkpoint (its first member is "
                      "not in a folder)");
        goto out;
    }
    const uint8_t *root = first->name;
    size_t rl = (size_t)(slash - first->name);
    bool dup = false;
    const zip_entry *pkl = zip_find(&zi, root, rl, "data.pkl", 8, &dup);
    p->member = ms_strdup_printf("%.*s/data.pkl", (int)(rl > 1000 ? 1000 : rl),
                                 (const char *)root);
    if (!p->member) {
        v = nomem(p);
        goto out;
    }
    ms_sanitize_text(p->member);
    if (!pkl) {
        v = refuse(p, "the zip archive has no %s: it is not a torch.save checkpoint",
                   p->member);
        goto out;
    }
    bool dup2 = false;
    if (zip_find(&zi, root, rl, "constants.pkl", 13, &dup2)) {
        v = refuse(p, "the archive is a TorchScript model (it has constants.pkl): "
                      "torch.jit.load compiles and runs its code; only state dicts convert");
        goto out;
    }
    for (size_t i = 0; i < zi.n; i++) {
        const zip_entry *e = &za.entries[zi.order[i].entry];
        if (e->name_len > rl + 6 && memcmp(e->name + rl, "/code/", 6) == 0 &&
            memcmp(e->name, root, rl) == 0) {
            v = refuse(p, "the archive is a TorchScript model (it has code/): only state "
                          "dicts convert");
            goto out;
        }
    }
    if (dup) {
        v = refuse(p, "the archive names %s twice", p->member);
        goto out;
    }
    /* the pickle */
    const uint8_t *pdata;
    size_t plen;
    if (pkl->method == ZIP_METHOD_DEFLATE && pkl->local_method == ZIP_METHOD_DEFLATE &&
        !(pkl->flags & (ZIP_FLAG_ENCRYPTED | ZIP_FLAG_STRONG_ENCRYPTION | ZIP_FLAG_PATCHED)) &&
        pkl->data_ok) {
        if (pkl->uncomp_size > opts->limits.archive_max_member) {
            v = refuse(p, "%s inflates to %llu bytes, above the %llu-byte member limit",
                       p->member, (unsigned long long)pkl->uncomp_size,
                       (unsigned long long)opts->limits.archive_max_member);
            goto out;
        }
        size_t cap = (size_t)pkl->uncomp_size, produced = 0;
        p->pickle_owned = malloc(cap ? cap : 1);
        if (!p->pickle_owned) {
            v = nomem(p);
            goto out;
        }
        zip_inflate_result r = zip_inflate(p->data + pkl->data_offset, pkl->comp_size,
                                           p->pickle_owned, cap, &produced);
        if (r != ZIP_INFLATE_OK || produced != cap) {
            v = r == ZIP_INFLATE_NOMEM ? nomem(p)
                                       : refuse(p, "%s does not inflate to its recorded size",
                                                p->member);
            goto out;
        }
        pdata = p->pickle_owned;
        plen = cap;
    } else {
        uint64_t off;
        const char *why = member_span(p, pkl, &off);
        if (why) {
            v = refuse(p, "%s %s", p->member, why);
            goto out;
        }
        pdata = p->data + off;
        plen = (size_t)pkl->comp_size;
    }
    /* byte order */
    const zip_entry *bo = zip_find(&zi, root, rl, "byteorder", 9, &dup2);
    if (bo) {
        uint64_t off;
        const char *why = member_span(p, bo, &off);
        if (why || dup2) {
            v = refuse(p, "the byteorder member %s", why ? why : "is named twice");
            goto out;
        }
        const uint8_t *b = p->data + off;
        if (bo->comp_size == 3 && memcmp(b, "big", 3) == 0)
            p->big_endian = true;
        else if (!(bo->comp_size == 6 && memcmp(b, "little", 6) == 0)) {
            v = refuse(p, "the byteorder member says neither \"little\" nor \"big\"");
            goto out;
        }
    }
    te_value result;
    size_t end;
    ms_status st = te_run(p->ev, pdata, plen, 0, TE_MODE_ZIP, &result, &end);
    if (st != MS_OK) {
        v = eval_refused(p, st, NULL); /* the location names the member */
        goto out;
    }
    if (end != plen) {
        v = refuse(p, "%s holds %zu bytes after its pickle's STOP", p->member, plen - end);
        goto out;
    }
    /* every storage: <root>/data/<key>, stored, exactly its size */
    for (size_t i = 0; i < te_storage_count(p->ev); i++) {
        te_storage *s = te_storage_at(p->ev, i);
        char rest[600];
        int klen = (int)(s->key_len > 500 ? 500 : s->key_len);
        int rn = snprintf(rest, sizeof(rest), "data/%.*s", klen, (const char *)s->key);
        bool d = false;
        const zip_entry *e = s->key_len <= 500 && memchr(s->key, 0, s->key_len) == NULL
                                 ? zip_find(&zi, root, rl, rest, (size_t)rn, &d)
                                 : NULL;
        if (!e) {
            v = refuse(p, "storage '%.*s' has no member data/%.*s in the archive",
                       (int)(s->key_len > 64 ? 64 : s->key_len), (const char *)s->key,
                       (int)(s->key_len > 64 ? 64 : s->key_len), (const char *)s->key);
            goto out;
        }
        uint64_t off;
        const char *why = member_span(p, e, &off);
        if (!why && d)
            why = "is named twice";
        if (!why && e->comp_size != s->nbytes)
            why = "does not hold exactly the storage's bytes";
        if (why) {
            v = refuse(p, "the member of storage '%.*s' (%llu bytes expected) %s",
                       (int)(s->key_len > 64 ? 64 : s->key_len), (const char *)s->key,
                       (unsigned long long)s->nbytes, why);
            goto out;
        }
        s->file_offset = off;
        s->located = true;
    }
    v = choose_state_dict(p, &result, opts);
out:
    free(zi.order);
    zip_close(&za);
    return v;
}

/* ------------------------------------------------------------------ */
/* the legacy container */

static ms_convert_verdict read_legacy(cp_plan *p, const ms_convert_options *opts)
{
    static const char *const what[5] = {"the magic number pickle", "the protocol version pickle",
                                        "the sys_info pickle", "the main pickle",
                                        "the storage keys pickle"};
    te_value v5[5];
    size_t off = 0;
    for (int i = 0; i < 5; i++) {
        size_t end;
        ms_status st = te_run(p->ev, p->data, p->len, off, i == 3 ? TE_MODE_LEGACY : TE_MODE_PLAIN,
                              &v5[i], &end);
        if (st != MS_OK)
            return eval_refused(p, st, what[i]);
        off = end;
        if (i == 0 && (v5[0].kind != TE_BIGINT || v5[0].u.s.n != sizeof(legacy_magic) ||
                       memcmp(v5[0].u.s.p, legacy_magic, sizeof(legacy_magic)) != 0))
            return refuse(p, "the file is neither a zip nor a legacy torch.save checkpoint (no "
                             "magic number)");
        if (i == 1 && (v5[1].kind != TE_INT || v5[1].u.i != 1001))
            return refuse(p, "the legacy checkpoint's protocol version is not 1001");
        if (i == 2 && v5[2].kind != TE_DICT)
            return refuse(p, "the legacy checkpoint's sys_info is not a dict");
    }
    const te_value *keys = &v5[4];
    if (keys->kind != TE_LIST)
        return refuse(p, "the legacy checkpoint's storage keys are not a list");
    ms_cursor c = ms_cursor_make(p->data, p->len);
    c.off = off;
    for (size_t i = 0; i < te_len(p->ev, keys); i++) {
        const te_value *k = te_item(p->ev, keys, i);
        int64_t idx = k->kind == TE_STR ? te_storage_find(p->ev, k->u.s.p, (size_t)k->u.s.n) : -1;
        if (idx < 0)
            return refuse(p, "storage key %zu of the legacy checkpoint names no storage of the "
                             "pickle",
                          i);
        te_storage *s = te_storage_at(p->ev, (size_t)idx);
        if (s->located)
            return refuse(p, "the legacy checkpoint lists storage '%.*s' twice",
                          (int)(s->key_len > 64 ? 64 : s->key_len), (const char *)s->key);
        size_t at = c.off;
        uint64_t count = ms_cursor_u64le(&c);
        if (c.error)
            return refuse(p, "the legacy checkpoint ends before storage '%.*s' (offset %zu)",
                          (int)(s->key_len > 64 ? 64 : s->key_len), (const char *)s->key, at);
        if (count != s->numel)
            return refuse(p, "legacy storage '%.*s' at offset %zu holds %llu elements, its "
                             "persistent id says %llu",
                          (int)(s->key_len > 64 ? 64 : s->key_len), (const char *)s->key, at,
                          (unsigned long long)count, (unsigned long long)s->numel);
        s->file_offset = c.off;
        if (!ms_cursor_skip(&c, s->nbytes))
            return refuse(p, "legacy storage '%.*s' (%llu bytes at offset %zu) runs past the "
                             "end of the file",
                          (int)(s->key_len > 64 ? 64 : s->key_len), (const char *)s->key,
                          (unsigned long long)s->nbytes, at + 8);
        s->located = true;
    }
    for (size_t i = 0; i < te_storage_count(p->ev); i++) {
        te_storage *s = te_storage_at(p->ev, i);
        if (!s->located)
            return refuse(p, "legacy storage '%.*s' is used by the pickle but has no bytes in "
                             "the file",
                          (int)(s->key_len > 64 ? 64 : s->key_len), (const char *)s->key);
    }
    if (ms_cursor_left(&c))
        return refuse(p, "%zu bytes follow the last storage of the legacy checkpoint",
                      ms_cursor_left(&c));
    return choose_state_dict(p, &v5[3], opts);
}

/* ------------------------------------------------------------------ */

static ms_convert_verdict plan_init(cp_plan *p, const uint8_t *data, size_t len,
                                    const ms_convert_options *opts)
{
    memset(p, 0, sizeof(*p));
    p->data = data;
    p->len = len;
    p->ev = te_new(&opts->limits);
    return p->ev ? MS_CONVERT_DONE : nomem(p);
}

ms_convert_verdict cp_plan_build(cp_plan *p, const uint8_t *data, size_t len,
                                 const ms_convert_options *opts)
{
    ms_convert_verdict v = plan_init(p, data, len, opts);
    if (v != MS_CONVERT_DONE)
        return v;
    /* torch.load: a zip when it starts with a local file header */
    p->zip = len >= 4 && memcmp(data, "PK\3\4", 4) == 0;
    if (!p->zip && len >= 262 && memcmp(data + 257, "ustar", 5) == 0)
        return refuse(p, "the file is a tar archive: the pre-1.0 torch.save tar format is not "
                         "supported");
    v = p->zip ? read_zip(p, opts) : read_legacy(p, opts);
    if (v == MS_CONVERT_DONE && p->ntensors == 0)
        v = refuse(p, "the state dict holds no tensor; there is nothing to convert");
    if (v == MS_CONVERT_DONE)
        v = resolve_sharing(p);
    /* broadcast views (stride 0) written out in full: an expansion like any
     * other, under the same limit as decompression */
    if (v == MS_CONVERT_DONE && p->data_bytes > len &&
        p->data_bytes - len > opts->limits.archive_max_expanded)
        v = refuse(p, "the tensors would expand to %llu bytes from a %zu-byte file (views "
                      "that repeat elements), beyond the %llu-byte expansion limit",
                   (unsigned long long)p->data_bytes, len,
                   (unsigned long long)opts->limits.archive_max_expanded);
    return v;
}

ms_convert_verdict cp_plan_pickle(cp_plan *p, const uint8_t *data, size_t len,
                                  const ms_convert_options *opts)
{
    ms_convert_verdict v = plan_init(p, data, len, opts);
    if (v != MS_CONVERT_DONE)
        return v;
    te_value result;
    size_t end;
    ms_status st = te_run(p->ev, data, len, 0, TE_MODE_ZIP, &result, &end);
    if (st != MS_OK)
        return eval_refused(p, st, "the pickle");
    v = choose_state_dict(p, &result, opts);
    if (v == MS_CONVERT_DONE)
        v = resolve_sharing(p);
    return v;
}
