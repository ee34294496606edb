/* test_strbuf.c - capped text buffer, quoting and sanitising. */
#include <stdlib.h>

#include "unit.h"
#include "../../src/util/strbuf.h"

void test_strbuf(void)
{
    ms_strbuf sb;
    ms_strbuf_init(&sb, 8);
    ms_strbuf_puts(&sb, "hello");
    ms_strbuf_printf(&sb, " %d", 12345);
    CHECK(sb.truncated);
    CHECK(sb.len == 8);
    CHECK_STR(sb.data, "hello 12");
    ms_strbuf_free(&sb);

    ms_strbuf_init(&sb, 1000);
    ms_strbuf_quote(&sb, (const uint8_t *)"a'\x1b\n\xc3\xa9\xff", 7, false, 100);
    CHECK_STR(sb.data, "'a\\'\\x1b\\n\xc3\xa9\\xff'");
    ms_strbuf_free(&sb);

    ms_strbuf_init(&sb, 1000);
    ms_strbuf_quote(&sb, (const uint8_t *)"abcdef", 6, true, 3);
    CHECK_STR(sb.data, "b'abc'...(6 bytes)");
    ms_strbuf_free(&sb);

    char s[] = "ok\x1b[31m\xc3\x28\xe2\x82\xac";
    ms_sanitize_text(s);
    CHECK_STR(s, "ok?[31m?(\xe2\x82\xac");

    CHECK(ms_utf8_seq_len((const uint8_t *)"\xed\xa0\x80", 3) == 0); /* surrogate */
    CHECK(ms_utf8_seq_len((const uint8_t *)"\xc0\xaf", 2) == 0);     /* overlong */
    CHECK(ms_utf8_seq_len((const uint8_t *)"\xf0\x9f\x98\x80", 4) == 4);

    char *t = ms_strdup_printf("%s-%d", "x", 7);
    CHECK_STR(t, "x-7");
    free(t);
}
