/* test_cursor.c - the bounded reader: short reads set a sticky error. */
#include "unit.h"
#include "../../src/util/checked.h"
#include "../../src/util/cursor.h"

void test_cursor(void)
{
    const uint8_t data[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 'a', '\n', 'b'};
    ms_cursor c = ms_cursor_make(data, sizeof(data));
    CHECK(ms_cursor_u8(&c) == 1);
    CHECK(ms_cursor_u16le(&c) == 0x0302);
    CHECK(ms_cursor_u32le(&c) == 0x07060504);
    CHECK(!c.error);
    CHECK(ms_cursor_left(&c) == 5);
    CHECK(ms_cursor_u64le(&c) == 0); /* only 5 bytes left */
    CHECK(c.error);
    CHECK(ms_cursor_u8(&c) == 0); /* sticky */
    CHECK(c.off == 7);

    c = ms_cursor_make(data, sizeof(data));
    CHECK(ms_cursor_skip(&c, 9));
    size_t n = 0;
    const uint8_t *line = ms_cursor_line(&c, &n);
    CHECK(line && n == 1 && line[0] == 'a');
    CHECK(ms_cursor_line(&c, &n) == NULL); /* "b" has no newline */
    CHECK(c.error);

    c = ms_cursor_make(data, sizeof(data));
    CHECK(!ms_cursor_skip(&c, (uint64_t)1 << 40));
    CHECK(ms_cursor_take(&c, 1) == NULL);

    uint64_t r;
    CHECK(!ms_mul_u64(UINT64_MAX / 2, 3, &r));
    CHECK(ms_mul_u64(1u << 20, 1u << 20, &r) && r == (1ull << 40));
    CHECK(!ms_add_u64(UINT64_MAX, 1, &r));
}
