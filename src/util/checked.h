/* checked.h - overflow-checked arithmetic for sizes that come from files. */
#ifndef MS_CHECKED_H
#define MS_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

static inline bool ms_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

static inline bool ms_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

#endif
