/* test_zip.c - the ZIP structure reader on archives built byte by byte:
 * end record search (comment, appended data), zip64, data descriptors, every
 * tampering kind, inflate results, unsafe names; and the format module end
 * to end through ms_scan_buffer. */
#include <stdlib.h>
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "../../src/codec/zip.h"
#include "unit.h"

typedef struct zb {
    uint8_t buf[16384];
    size_t len;
} zb;

static void put(zb *b, const void *p, size_t n)
{
    if (n > 0 && b->len + n <= sizeof(b->buf)) {
        memcpy(b->buf + b->len, p, n);
        b->len += n;
    }
}

static void put16(zb *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void put32(zb *b, uint32_t v)
{
    put16(b, (uint16_t)v);
    put16(b, (uint16_t)(v >> 16));
}

static void put64(zb *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static void set16(zb *b, size_t at, uint16_t v)
{
    b->buf[at] = (uint8_t)v;
    b->buf[at + 1] = (uint8_t)(v >> 8);
}

static void set32(zb *b, size_t at, uint32_t v)
{
    set16(b, at, (uint16_t)v);
    set16(b, at + 2, (uint16_t)(v >> 16));
}

typedef struct hdr {
    const char *name;
    uint16_t flags, method;
    uint32_t crc, csize, usize;
    const uint8_t *extra;
    uint16_t xlen;
} hdr;

static size_t local_header(zb *b, const hdr *h)
{
    size_t at = b->len;
    put32(b, 0x04034b50);
    put16(b, 20);
    put16(b, h->flags);
    put16(b, h->method);
    put32(b, 0); /* time, date */
    put32(b, h->crc);
    put32(b, h->csize);
    put32(b, h->usize);
    put16(b, (uint16_t)strlen(h->name));
    put16(b, h->xlen);
    put(b, h->name, strlen(h->name));
    put(b, h->extra, h->xlen);
    return at;
}

static void central_header(zb *b, const hdr *h, uint32_t offset)
{
    put32(b, 0x02014b50);
    put16(b, 0x031e);
    put16(b, 20);
    put16(b, h->flags);
    put16(b, h->method);
    put32(b, 0);
    put32(b, h->crc);
    put32(b, h->csize);
    put32(b, h->usize);
    put16(b, (uint16_t)strlen(h->name));
    put16(b, h->xlen);
    put16(b, 0); /* comment */
    put16(b, 0); /* disk */
    put16(b, 0);
    put32(b, 0);
    put32(b, offset);
    put(b, h->name, strlen(h->name));
    put(b, h->extra, h->xlen);
}

static void end_record(zb *b, uint16_t n, uint32_t cd_size, uint32_t cd_off, const char *comment)
{
    put32(b, 0x06054b50);
    put16(b, 0);
    put16(b, 0);
    put16(b, n);
    put16(b, n);
    put32(b, cd_size);
    put32(b, cd_off);
    put16(b, (uint16_t)strlen(comment));
    put(b, comment, strlen(comment));
}

typedef struct member {
    const char *name;
    const char *data;
} member;

/* A clean stored archive of `n` members; offsets of each local header in
 * loff[], of the directory in *cd. */
static void simple_zip(zb *b, const member *m, size_t n, size_t *loff, size_t *cd,
                       const char *comment)
{
    b->len = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(m[i].data);
        hdr h = {m[i].name, 0, 0, zip_crc32((const uint8_t *)m[i].data, len), len, len, NULL, 0};
        loff[i] = local_header(b, &h);
        put(b, m[i].data, len);
    }
    *cd = b->len;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(m[i].data);
        hdr h = {m[i].name, 0, 0, zip_crc32((const uint8_t *)m[i].data, len), len, len, NULL, 0};
        central_header(b, &h, (uint32_t)loff[i]);
    }
    end_record(b, (uint16_t)n, (uint32_t)(b->len - *cd), (uint32_t)*cd, comment);
}

static size_t count_issues(const zip_archive *za, zip_issue_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < za->nissues; i++)
        n += za->issues[i].kind == kind;
    return n;
}

static void open_zip(zip_archive *za, const zb *b)
{
    ms_status st = zip_open(za, b->buf, b->len, 1000);
    CHECK(st == MS_OK);
}

static const member two[] = {{"a/data.pkl", "first member"}, {"a/version", "3\n"}};

static void test_clean_and_comment(void)
{
    zb b;
    size_t loff[2], cd;
    zip_archive za;
    simple_zip(&b, two, 2, loff, &cd, "");
    open_zip(&za, &b);
    CHECK(za.have_end && za.nentries == 2 && za.nissues == 0);
    CHECK(za.entries[0].name_len == 10 && memcmp(za.entries[0].name, "a/data.pkl", 10) == 0);
    CHECK(za.entries[0].local_ok && za.entries[0].data_ok && za.entries[0].in_central);
    CHECK(memcmp(b.buf + za.entries[0].data_offset, "first member", 12) == 0);
    CHECK(za.entries[1].local_offset == loff[1]);
    zip_close(&za);

    /* a comment, even one holding an end record signature (whose own comment
     * length, "ab", would not fit) */
    simple_zip(&b, two, 2, loff, &cd, "xPK\x05\x06 0123456789012345ab and more text");
    open_zip(&za, &b);
    CHECK(za.nentries == 2 && za.nissues == 0 && za.comment_len == 38);
    zip_close(&za);

    /* bytes after the comment */
    simple_zip(&b, two, 2, loff, &cd, "c");
    put(&b, "TRAILER", 7);
    open_zip(&za, &b);
    CHECK(za.nentries == 2 && count_issues(&za, ZIP_ISSUE_APPENDED) == 1 && za.nissues == 1);
    CHECK(za.issues[0].offset == b.len - 7 && za.issues[0].length == 7);
    zip_close(&za);
}

static void test_zip64(void)
{
    zb b = {.len = 0};
    const char *data = "zip64 member";
    uint32_t len = (uint32_t)strlen(data), crc = zip_crc32((const uint8_t *)data, len);
    uint8_t lx[20], cx[28];
    zb t = {.len = 0};
    put16(&t, 1);
    put16(&t, 16);
    put64(&t, len);
    put64(&t, len);
    memcpy(lx, t.buf, 20);
    hdr lh = {"big.bin", 0, 0, crc, 0xffffffffu, 0xffffffffu, lx, 20};
    local_header(&b, &lh);
    put(&b, data, len);
    size_t cd = b.len;
    t.len = 0;
    put16(&t, 1);
    put16(&t, 24);
    put64(&t, len);
    put64(&t, len);
    put64(&t, 0); /* local header offset */
    memcpy(cx, t.buf, 28);
    hdr ch = {"big.bin", 0, 0, crc, 0xffffffffu, 0xffffffffu, cx, 28};
    central_header(&b, &ch, 0xffffffffu);
    size_t cd_size = b.len - cd, e64 = b.len;
    put32(&b, 0x06064b50);
    put64(&b, 44);
    put16(&b, 45);
    put16(&b, 45);
    put32(&b, 0);
    put32(&b, 0);
    put64(&b, 1);
    put64(&b, 1);
    put64(&b, cd_size);
    put64(&b, cd);
    put32(&b, 0x07064b50);
    put32(&b, 0);
    put64(&b, e64);
    put32(&b, 1);
    end_record(&b, 0xffff, 0xffffffffu, 0xffffffffu, "");
    zip_archive za;
    open_zip(&za, &b);
    CHECK(za.zip64 && za.zip64_end_offset == e64);
    CHECK(za.nentries == 1 && za.nissues == 0);
    CHECK(za.entries[0].zip64 && za.entries[0].comp_size == len &&
          za.entries[0].uncomp_size == len);
    CHECK(za.entries[0].local_comp_size == len && za.entries[0].data_ok);
    zip_close(&za);

    /* the locator points nowhere: reported, the classic record is used */
    set32(&b, b.len - 22 - 20 + 8, 5);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_DIRECTORY_MOVED) == 1); /* found right before it */
    zip_close(&za);
}

/* one streamed member: local sizes zero, descriptor after the data */
static void build_streamed(zb *b, bool sig, bool wide, bool zip64_extra, uint32_t desc_csize)
{
    const char *data = "streamed data";
    uint32_t len = (uint32_t)strlen(data), crc = zip_crc32((const uint8_t *)data, len);
    uint8_t x[20];
    zb t = {.len = 0};
    put16(&t, 1);
    put16(&t, 16);
    put64(&t, 0);
    put64(&t, 0);
    memcpy(x, t.buf, 20);
    b->len = 0;
    hdr lh = {"s.bin",
              ZIP_FLAG_DESCRIPTOR,
              0,
              0,
              zip64_extra ? 0xffffffffu : 0,
              zip64_extra ? 0xffffffffu : 0,
              zip64_extra ? x : NULL,
              zip64_extra ? 20 : 0};
    local_header(b, &lh);
    put(b, data, len);
    if (sig)
        put32(b, 0x08074b50);
    put32(b, crc);
    if (wide) {
        put64(b, desc_csize);
        put64(b, len);
    } else {
        put32(b, desc_csize);
        put32(b, len);
    }
    size_t cd = b->len;
    hdr ch = {"s.bin", ZIP_FLAG_DESCRIPTOR, 0, crc, len, len, NULL, 0};
    central_header(b, &ch, 0);
    end_record(b, 1, (uint32_t)(b->len - cd), (uint32_t)cd, "");
}

static void test_descriptors(void)
{
    zb b;
    zip_archive za;
    for (int v = 0; v < 4; v++) {
        bool sig = v & 1, wide = v & 2;
        build_streamed(&b, sig, wide, wide, 13);
        open_zip(&za, &b);
        CHECK(za.nentries == 1 && za.nissues == 0);
        CHECK(za.entries[0].has_descriptor && za.entries[0].desc_comp_size == 13);
        CHECK(za.entries[0].end == b.len - 22 - 46 - 5);
        zip_close(&za);
    }
    /* a descriptor whose size does not match the data */
    build_streamed(&b, true, false, false, 99);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_DESCRIPTOR_MISMATCH) == 1);
    zip_close(&za);
    /* no directory: the streamed member is found by its descriptor */
    build_streamed(&b, true, false, false, 13);
    b.len -= 22 + 46 + 5;
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_NO_END_RECORD) == 1);
    CHECK(za.nentries == 1 && !za.entries[0].in_central && za.entries[0].comp_size == 13);
    CHECK(za.entries[0].uncomp_size == 13);
    zip_close(&za);
}

static void test_header_disagreements(void)
{
    zb b;
    size_t loff[2], cd;
    zip_archive za;
    static const struct {
        size_t field; /* local header offset of the field */
        unsigned width;
        uint32_t value;
        zip_issue_kind kind;
    } cases[] = {
        {30 + 9, 1, 'X', ZIP_ISSUE_NAME_MISMATCH}, /* "a/data.pkX" */
        {6, 2, 0x0800, ZIP_ISSUE_FLAGS_MISMATCH},  /* utf-8 bit only locally */
        {6, 2, 0x0001, ZIP_ISSUE_ENCRYPTED_FLAG},  /* encrypted bit */
        {8, 2, 8, ZIP_ISSUE_METHOD_MISMATCH},      /* deflate locally */
        {14, 4, 0xdeadbeef, ZIP_ISSUE_CRC_FIELD_MISMATCH},
        {18, 4, 5, ZIP_ISSUE_SIZE_MISMATCH},
        {22, 4, 99, ZIP_ISSUE_SIZE_MISMATCH},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        simple_zip(&b, two, 2, loff, &cd, "");
        size_t at = loff[0] + cases[i].field;
        if (cases[i].width == 1)
            b.buf[at] = (uint8_t)cases[i].value;
        else if (cases[i].width == 2)
            set16(&b, at, (uint16_t)cases[i].value);
        else
            set32(&b, at, cases[i].value);
        open_zip(&za, &b);
        CHECK(count_issues(&za, cases[i].kind) == 1);
        CHECK(za.nentries == 2 && za.entries[0].local_ok && za.entries[0].data_ok);
        zip_close(&za);
    }
    /* the central directory's flag bits changed instead (CVE-2025-1945) */
    simple_zip(&b, two, 2, loff, &cd, "");
    set16(&b, cd + 8, 0x0001);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_FLAGS_MISMATCH) == 1);
    CHECK(count_issues(&za, ZIP_ISSUE_ENCRYPTED_FLAG) == 1);
    zip_close(&za);
}

static void test_layout(void)
{
    zb b;
    size_t loff[2], cd;
    zip_archive za;

    /* the second entry points at the first one's local header */
    simple_zip(&b, two, 2, loff, &cd, "");
    size_t second = cd + 46 + strlen(two[0].name);
    set32(&b, second + 42, (uint32_t)loff[0]);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_OVERLAP) == 1);
    CHECK(count_issues(&za, ZIP_ISSUE_NAME_MISMATCH) == 1);
    CHECK(count_issues(&za, ZIP_ISSUE_UNLISTED_LOCAL) == 1); /* a/version's real header */
    zip_close(&za);

    /* a local header offset past the end */
    simple_zip(&b, two, 2, loff, &cd, "");
    set32(&b, second + 42, 60000);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_OUTSIDE) == 1);
    zip_close(&za);

    /* member data running past the end of the file */
    simple_zip(&b, two, 2, loff, &cd, "");
    set32(&b, cd + 20, 50000);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_OUTSIDE) == 1 && !za.entries[0].data_ok);
    zip_close(&za);

    /* a listed member without a local header */
    simple_zip(&b, two, 2, loff, &cd, "");
    set32(&b, loff[1], 0x41414141);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_LOCAL_MISSING) == 1);
    CHECK(count_issues(&za, ZIP_ISSUE_GAP) == 1);
    zip_close(&za);

    /* duplicate names */
    static const member dup[] = {{"x.pkl", "one"}, {"x.pkl", "two"}};
    simple_zip(&b, dup, 2, loff, &cd, "");
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_DUPLICATE_NAME) == 1 && za.nissues == 1);
    zip_close(&za);

    /* the end record's count disagrees with the directory */
    simple_zip(&b, two, 2, loff, &cd, "");
    set16(&b, b.len - 22 + 10, 3);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_COUNT_MISMATCH) == 1);
    CHECK(count_issues(&za, ZIP_ISSUE_MULTI_DISK) == 1); /* entries here != total */
    zip_close(&za);

    /* a broken second directory entry: the member comes from its local header */
    simple_zip(&b, two, 2, loff, &cd, "");
    set32(&b, second, 0x42424242);
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_DIRECTORY_BROKEN) == 1);
    CHECK(count_issues(&za, ZIP_ISSUE_UNLISTED_LOCAL) == 1 && za.nentries == 2);
    CHECK(!za.entries[1].in_central && za.entries[1].local_offset == loff[1]);
    zip_close(&za);

    /* no end record at all: local headers from offset 0 */
    simple_zip(&b, two, 2, loff, &cd, "");
    b.len = cd;
    open_zip(&za, &b);
    CHECK(count_issues(&za, ZIP_ISSUE_NO_END_RECORD) == 1);
    CHECK(count_issues(&za, ZIP_ISSUE_UNLISTED_LOCAL) == 2 && za.nentries == 2);
    zip_close(&za);

    /* bytes between two members */
    zb g = {.len = 0};
    hdr h0 = {"g0", 0, 0, zip_crc32((const uint8_t *)"aa", 2), 2, 2, NULL, 0};
    hdr h1 = {"g1", 0, 0, zip_crc32((const uint8_t *)"bb", 2), 2, 2, NULL, 0};
    size_t o0 = local_header(&g, &h0);
    put(&g, "aa", 2);
    put(&g, "hidden", 6);
    size_t o1 = local_header(&g, &h1);
    put(&g, "bb", 2);
    size_t gcd = g.len;
    central_header(&g, &h0, (uint32_t)o0);
    central_header(&g, &h1, (uint32_t)o1);
    end_record(&g, 2, (uint32_t)(g.len - gcd), (uint32_t)gcd, "");
    open_zip(&za, &g);
    CHECK(count_issues(&za, ZIP_ISSUE_GAP) == 1 && za.nissues == 1);
    CHECK(za.issues[0].offset == o0 + 34 && za.issues[0].length == 6);
    zip_close(&za);
}

static void test_prepended(void)
{
    zb b, p = {.len = 0};
    size_t loff[2], cd;
    zip_archive za;
    simple_zip(&b, two, 2, loff, &cd, "");
    /* offsets not adjusted: Python's zipfile shifts them, PyTorch does not */
    put(&p, "PREFIX-", 7);
    put(&p, b.buf, b.len);
    open_zip(&za, &p);
    CHECK(count_issues(&za, ZIP_ISSUE_PREPENDED) == 1);
    CHECK(count_issues(&za, ZIP_ISSUE_DIRECTORY_MOVED) == 1);
    CHECK(za.nentries == 2 && za.entries[0].local_ok && za.entries[0].local_offset == 7);
    zip_close(&za);
    /* offsets adjusted (a self-extractor): only the prepended bytes */
    for (size_t i = 0; i < 2; i++)
        set32(&p, 7 + cd + (i ? 46 + strlen(two[0].name) : 0) + 42, (uint32_t)(loff[i] + 7));
    set32(&p, p.len - 22 + 16, (uint32_t)(cd + 7));
    open_zip(&za, &p);
    CHECK(count_issues(&za, ZIP_ISSUE_PREPENDED) == 1 && za.nissues == 1);
    CHECK(za.issues[0].offset == 0 && za.issues[0].length == 7);
    zip_close(&za);
}

static void test_limits_and_garbage(void)
{
    zb b;
    size_t loff[2], cd;
    zip_archive za;
    simple_zip(&b, two, 2, loff, &cd, "");
    CHECK(zip_open(&za, b.buf, b.len, 1) == MS_OK);
    CHECK(za.nentries == 1 && count_issues(&za, ZIP_ISSUE_ENTRY_LIMIT) == 1);
    zip_close(&za);
    static const uint8_t junk[] = "PK\x03\x04 not really a zip PK\x05\x06";
    CHECK(zip_open(&za, junk, sizeof(junk) - 1, 10) == MS_OK);
    CHECK(za.nentries == 0);
    zip_close(&za);
    CHECK(zip_open(&za, junk, 0, 10) == MS_OK);
    CHECK(count_issues(&za, ZIP_ISSUE_NO_END_RECORD) == 1);
    zip_close(&za);
}

static void test_inflate(void)
{
    uint8_t plain[4000], comp[8192], out[4000];
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (uint8_t)(i * 7 % 13);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    CHECK(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    zs.next_in = plain;
    zs.avail_in = sizeof(plain);
    zs.next_out = comp;
    zs.avail_out = sizeof(comp);
    CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    size_t clen = sizeof(comp) - zs.avail_out;
    deflateEnd(&zs);
    size_t got = 0;
    CHECK(zip_inflate(comp, clen, out, sizeof(out), &got) == ZIP_INFLATE_OK);
    CHECK(got == sizeof(plain) && memcmp(out, plain, got) == 0);
    CHECK(zip_inflate(comp, clen, out, 100, &got) == ZIP_INFLATE_OVERFLOW && got == 100);
    CHECK(zip_inflate(comp, clen / 2, out, sizeof(out), &got) == ZIP_INFLATE_SHORT);
    uint8_t bad[] = {0xff, 0xff, 0xff, 0xff};
    CHECK(zip_inflate(bad, sizeof(bad), out, sizeof(out), &got) == ZIP_INFLATE_BAD);
    CHECK(zip_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926u);
}

/* Each method Python's zipfile (and this scanner) decodes, compressed here
 * with the same libraries, through zip_decompress: the bytes back, a
 * declared size too small (OVERFLOW), a stream cut short (SHORT), a stream
 * with a byte changed (BAD, or at least not the same bytes). */
static size_t compress_with(unsigned method, const uint8_t *in, size_t n, uint8_t *out,
                            size_t cap, bool lzma_end_marker)
{
    switch (method) {
    case ZIP_METHOD_BZIP2: {
        unsigned len = (unsigned)cap;
        return BZ2_bzBuffToBuffCompress((char *)out, &len, (char *)(uintptr_t)in, (unsigned)n, 9,
                                        0, 0) == BZ_OK
                   ? len
                   : 0;
    }
    case ZIP_METHOD_XZ: {
        size_t pos = 0;
        return lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, in, n, out, &pos, cap) ==
                       LZMA_OK
                   ? pos
                   : 0;
    }
    case ZIP_METHOD_ZSTD: {
        size_t r = ZSTD_compress(out, cap, in, n, 19);
        return ZSTD_isError(r) ? 0 : r;
    }
    case ZIP_METHOD_LZMA: {
        /* the zip form: version 9.20, properties length 5, properties,
         * then raw LZMA1 (with or without the end-of-payload marker) */
        lzma_options_lzma opt;
        if (lzma_lzma_preset(&opt, 6))
            return 0;
        lzma_filter f[2] = {{lzma_end_marker ? LZMA_FILTER_LZMA1 : LZMA_FILTER_LZMA1EXT, &opt},
                            {LZMA_VLI_UNKNOWN, NULL}};
        if (!lzma_end_marker) {
            opt.ext_flags = 0;
            opt.ext_size_low = (uint32_t)n;
            opt.ext_size_high = 0;
        }
        uint32_t props_size = 0;
        lzma_filter pf = {LZMA_FILTER_LZMA1, &opt};
        if (lzma_properties_size(&props_size, &pf) != LZMA_OK || props_size != 5)
            return 0;
        out[0] = 9;
        out[1] = 20;
        out[2] = 5;
        out[3] = 0;
        if (lzma_properties_encode(&pf, out + 4) != LZMA_OK)
            return 0;
        lzma_stream ls = LZMA_STREAM_INIT;
        if (lzma_raw_encoder(&ls, f) != LZMA_OK)
            return 0;
        ls.next_in = in;
        ls.avail_in = n;
        ls.next_out = out + 9;
        ls.avail_out = cap - 9;
        lzma_ret rc = lzma_code(&ls, LZMA_FINISH);
        size_t len = cap - ls.avail_out;
        lzma_end(&ls);
        return rc == LZMA_STREAM_END ? len : 0;
    }
    default:
        return 0;
    }
}

static void test_methods(void)
{
    enum { N = 50000 };
    uint8_t *plain = malloc(N), *comp = malloc(2 * N), *out = malloc(N + 16);
    CHECK(plain && comp && out);
    if (!plain || !comp || !out)
        goto done;
    for (size_t i = 0; i < N; i++)
        plain[i] = (uint8_t)(i % 251 < 100 ? 'a' + i % 7 : (i * 2654435761u) >> 24);
    static const struct {
        unsigned method;
        bool end_marker;
    } cases[] = {{ZIP_METHOD_BZIP2, true},
                 {ZIP_METHOD_XZ, true},
                 {ZIP_METHOD_ZSTD, true},
                 {ZIP_METHOD_LZMA, true},
                 {ZIP_METHOD_LZMA, false}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        unsigned m = cases[k].method;
        CHECK(zip_method_decoded(m));
        size_t clen = compress_with(m, plain, N, comp, 2 * N, cases[k].end_marker);
        CHECK(clen > 0);
        if (!clen)
            continue;
        size_t got = 0;
        zip_inflate_result r = zip_decompress(m, comp, clen, out, N, &got);
        CHECK(r == ZIP_INFLATE_OK && got == N && memcmp(out, plain, N) == 0);
        if (r != ZIP_INFLATE_OK)
            fprintf(stderr, "test_methods: method %u (end marker %d): result %d, %zu bytes\n", m,
                    cases[k].end_marker, (int)r, got);
        r = zip_decompress(m, comp, clen, out, 1000, &got);
        CHECK(r == ZIP_INFLATE_OVERFLOW && got == 1000 && memcmp(out, plain, 1000) == 0);
        r = zip_decompress(m, comp, clen / 2, out, N, &got);
        CHECK(r == ZIP_INFLATE_SHORT || r == ZIP_INFLATE_BAD);
        CHECK(got < N);
        /* a byte of the payload changed: never the original bytes in full */
        comp[clen / 2] ^= 0x5a;
        r = zip_decompress(m, comp, clen, out, N, &got);
        CHECK(r != ZIP_INFLATE_OK || memcmp(out, plain, N) != 0);
        comp[clen / 2] ^= 0x5a;
        /* nothing at all */
        r = zip_decompress(m, comp, 0, out, N, &got);
        CHECK(r == ZIP_INFLATE_SHORT || r == ZIP_INFLATE_BAD);
    }
    /* lzma: a header that is not the zip form, and a dictionary declared at
     * 4 GiB (allocated no larger than the output needs) */
    size_t got = 0;
    CHECK(zip_decompress(ZIP_METHOD_LZMA, (const uint8_t *)"\x09\x14\x06\x00" "abcdef", 10, out,
                         N, &got) == ZIP_INFLATE_BAD);
    size_t clen = compress_with(ZIP_METHOD_LZMA, plain, 100, comp, 2 * N, true);
    CHECK(clen > 9);
    comp[4 + 1] = comp[4 + 2] = comp[4 + 3] = comp[4 + 4] = 0xff; /* dict_size 0xffffffff */
    CHECK(zip_decompress(ZIP_METHOD_LZMA, comp, clen, out, 100, &got) == ZIP_INFLATE_OK &&
          got == 100 && memcmp(out, plain, 100) == 0);
    /* methods not decoded */
    CHECK(!zip_method_decoded(9) && !zip_method_decoded(98) && !zip_method_decoded(99));
    CHECK(zip_decompress(98, comp, clen, out, N, &got) == ZIP_INFLATE_BAD);
done:
    free(plain);
    free(comp);
    free(out);
}

static void test_names(void)
{
#define NAME(s) (const uint8_t *)(s), sizeof(s) - 1
    CHECK(zip_name_problem(NAME("archive/data.pkl")) == NULL);
    CHECK(zip_name_problem(NAME("a/..b/c..")) == NULL);
    CHECK_STR(zip_name_problem(NAME("../../evil.pkl")), "'..' component");
    CHECK_STR(zip_name_problem(NAME("a/b/..")), "'..' component");
    CHECK_STR(zip_name_problem(NAME("/etc/passwd")), "absolute path");
    CHECK_STR(zip_name_problem(NAME("\\share\\x")), "absolute path");
    CHECK_STR(zip_name_problem(NAME("C:evil")), "drive letter");
    CHECK_STR(zip_name_problem(NAME("a\\..\\b")), "'..' component");
    CHECK_STR(zip_name_problem(NAME("a\\b")), "backslash");
    CHECK_STR(zip_name_problem(NAME("a\0b")), "NUL byte");
#undef NAME
    CHECK_STR(zip_issue_kind_name(ZIP_ISSUE_NAME_MISMATCH), "name-mismatch");
    CHECK_STR(zip_issue_kind_name(ZIP_ISSUE_KIND_COUNT), "unknown");
}

/* rule ids found in a report for `kind` (details.kind) */
static size_t findings(const ms_report *r, const char *rule, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        if (strcmp(r->findings[i].rule_id, rule) != 0)
            continue;
        const char *k = json_string_value(json_object_get(r->findings[i].details, "kind"));
        if (!kind || (k && strcmp(k, kind) == 0))
            n++;
    }
    return n;
}

/* A one-member archive (name, method, `n` bytes of member data, sizes both
 * n) built in b, scanned into a new report. */
static ms_report *scan_one_member(zb *b, const ms_limits *lim, const char *name,
                                  uint16_t method, const char *data, uint32_t n)
{
    b->len = 0;
    hdr h = {name, 0, method, 0, n, n, NULL, 0};
    local_header(b, &h);
    put(b, data, n);
    size_t cd = b->len;
    central_header(b, &h, 0);
    end_record(b, 1, (uint32_t)(b->len - cd), (uint32_t)cd, "");
    ms_report *r = ms_report_new("t");
    CHECK(r && ms_scan_buffer(r, lim, "m.zip", b->buf, b->len) == MS_OK);
    return r;
}

static void test_scan(void)
{
    ms_limits lim;
    ms_limits_default(&lim);
    /* the storage holds a pickle importing os.system: torch never unpickles
     * a storage, so it is not read */
    static const member m[] = {{"archive/data.pkl", "\x80\x02}."},
                               {"archive/version", "3\n"},
                               {"archive/data/0", "cos\nsystem\n(S'id'\ntR."}};
    zb b;
    size_t loff[3], cd;
    simple_zip(&b, m, 3, loff, &cd, "");
    ms_report *r = ms_report_new("t");
    CHECK(ms_scan_buffer(r, &lim, "t.pt", b.buf, b.len) == MS_OK);
    CHECK(r->nfiles == 1 && strcmp(r->files[0].format, "pytorch-zip") == 0);
    CHECK(findings(r, "PICKLE-INSECURE-FORMAT", NULL) == 1); /* data.pkl, not the storage */
    CHECK(r->nfindings == 1 && strcmp(r->findings[0].location, "t.pt!archive/data.pkl") == 0);
    ms_report_free(r);

    /* a wrong CRC is reported and the member still scanned */
    set32(&b, cd + 16, 0x01020304);
    set32(&b, loff[0] + 14, 0x01020304);
    r = ms_report_new("t");
    CHECK(ms_scan_buffer(r, &lim, "t.pt", b.buf, b.len) == MS_OK);
    CHECK(findings(r, "ARCHIVE-TAMPERING", "crc-mismatch") == 1);
    CHECK(findings(r, "PICKLE-INSECURE-FORMAT", NULL) == 1);
    ms_report_free(r);

    /* a deflated member whose stream holds more than declared */
    uint8_t comp[64];
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    CHECK(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    zs.next_in = (uint8_t *)"\x80\x02}q\x00.";
    zs.avail_in = 6;
    zs.next_out = comp;
    zs.avail_out = sizeof(comp);
    CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    uint32_t clen = (uint32_t)(sizeof(comp) - zs.avail_out);
    deflateEnd(&zs);
    uint32_t crc4 = zip_crc32((const uint8_t *)"\x80\x02}q", 4);
    b.len = 0;
    hdr h = {"p.pkl", 0, ZIP_METHOD_DEFLATE, crc4, clen, 4, NULL, 0};
    local_header(&b, &h);
    put(&b, comp, clen);
    cd = b.len;
    central_header(&b, &h, 0);
    end_record(&b, 1, (uint32_t)(b.len - cd), (uint32_t)cd, "");
    r = ms_report_new("t");
    CHECK(ms_scan_buffer(r, &lim, "p.zip", b.buf, b.len) == MS_OK);
    CHECK(findings(r, "ARCHIVE-TAMPERING", "size-exceeds-declared") == 1);
    CHECK(findings(r, "ARCHIVE-TAMPERING", "crc-mismatch") == 0); /* CRC of what was read */
    ms_report_free(r);

    /* an unsupported method, and an unsafe name */
    r = scan_one_member(&b, &lim, "../x.pkl", 98, "BZh", 3); /* PPMd */
    CHECK(findings(r, "ARCHIVE-UNSUPPORTED-METHOD", NULL) == 1);
    CHECK(findings(r, "ARCHIVE-UNSAFE-PATH", NULL) == 1);
    ms_report_free(r);

    /* the same bytes as bzip2 (method 12): decoded, and cut short */
    r = scan_one_member(&b, &lim, "x.pkl", 12, "BZh", 3);
    CHECK(findings(r, "ARCHIVE-UNSUPPORTED-METHOD", NULL) == 0);
    CHECK(findings(r, "ARCHIVE-MALFORMED", "stream-broken") == 1);
    ms_report_free(r);
}

void test_zip(void)
{
    test_clean_and_comment();
    test_zip64();
    test_descriptors();
    test_header_disagreements();
    test_layout();
    test_prepended();
    test_limits_and_garbage();
    test_inflate();
    test_methods();
    test_names();
    test_scan();
}
