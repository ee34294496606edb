/*
 * pep440.h - Python package versions and version specifiers (PEP 440, as
 * maintained at packaging.python.org/en/latest/specifications/version-specifiers/).
 *
 * Versions are parsed with the spec's normalisation rules (leading "v", case,
 * "-"/"_"/"." separators, alpha/beta/c/pre/preview/rev/r spellings, implicit
 * pre/post/dev numbers, "1.0-1" as a post-release) and compared in the spec's
 * order: epoch, release (trailing zeros ignored), then dev < pre < release <
 * post, then the local label segment by segment. Specifiers follow the
 * spec's matching rules, including the exclusive-comparison and pre-release
 * rules, and were checked against the reference implementation (pypa
 * `packaging`). Nothing here allocates.
 */
#ifndef MS_PEP440_H
#define MS_PEP440_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Release segments kept (1.2.3.4... ); real versions use at most 5 or 6. */
#define PEP440_MAX_RELEASE 32
/* Characters of a local label (the part after '+'), normalised. */
#define PEP440_MAX_LOCAL 64
/* Characters of a version or specifier text accepted at all. */
#define PEP440_MAX_TEXT 256
/* Specifiers in one comma-separated set (">=1.0, !=1.3, <2"). */
#define PEP440_MAX_SPECIFIERS 16

typedef enum pep440_pre_kind {
    PEP440_PRE_NONE = 0,
    PEP440_PRE_ALPHA, /* a, alpha */
    PEP440_PRE_BETA,  /* b, beta */
    PEP440_PRE_RC,    /* rc, c, pre, preview */
} pep440_pre_kind;

typedef struct pep440_version {
    uint64_t epoch;
    uint64_t release[PEP440_MAX_RELEASE];
    uint8_t nrelease; /* >= 1 */
    uint8_t pre_kind; /* pep440_pre_kind */
    bool has_post, has_dev;
    uint64_t pre, post, dev;
    char local[PEP440_MAX_LOCAL + 1]; /* lower case, '.'-separated; "" when none */
} pep440_version;

/* Parses `len` bytes (surrounding whitespace allowed) as a PEP 440 version.
 * Returns false, leaving *out unspecified, for anything the spec rejects or a
 * number above 2^64-1 or more segments than the caps above. */
bool pep440_parse(const char *text, size_t len, pep440_version *out);
/* The same for a NUL-terminated string. */
bool pep440_parse_str(const char *text, pep440_version *out);

/* <0, 0, >0 in PEP 440 order, local labels included. */
int pep440_compare(const pep440_version *a, const pep440_version *b);
/* The same with local labels ignored (public versions). */
int pep440_compare_public(const pep440_version *a, const pep440_version *b);

bool pep440_is_prerelease(const pep440_version *v);  /* has a pre or dev part */
bool pep440_is_postrelease(const pep440_version *v); /* has a post part */
/* Drops the local label in place. */
void pep440_strip_local(pep440_version *v);

/* Writes the normalised form ("1!2.0rc1.post2.dev3+ubuntu.1") NUL-terminated
 * into buf; returns the length it needs (like snprintf). */
size_t pep440_format(const pep440_version *v, char *buf, size_t cap);

typedef enum pep440_op {
    PEP440_OP_COMPATIBLE, /* ~= */
    PEP440_OP_EQ,         /* ==, also ==V.* */
    PEP440_OP_NE,         /* !=, also !=V.* */
    PEP440_OP_LE,         /* <= */
    PEP440_OP_GE,         /* >= */
    PEP440_OP_LT,         /* <  */
    PEP440_OP_GT,         /* >  */
    PEP440_OP_ARBITRARY,  /* === (string equality) */
} pep440_op;

typedef struct pep440_specifier {
    pep440_op op;
    bool wildcard;          /* ==V.* or !=V.* */
    bool version_valid;     /* false only for === with a non-PEP 440 string */
    pep440_version version; /* for .* only epoch and release are set */
    char text[PEP440_MAX_TEXT + 1]; /* the version text as written, trimmed */
} pep440_specifier;

typedef struct pep440_specifier_set {
    pep440_specifier items[PEP440_MAX_SPECIFIERS];
    size_t n; /* 0: the empty set, which every final release satisfies */
} pep440_specifier_set;

/* One specifier ("~= 2.2", ">=1.0", "==1.1.*"). False when PEP 440 rejects it
 * (a wildcard or local label where the operator forbids one, "~=" with a
 * single release segment, an unknown operator). */
bool pep440_specifier_parse(const char *text, size_t len, pep440_specifier *out);
/* A comma-separated set; an empty or all-blank text is the empty set. */
bool pep440_specifier_set_parse(const char *text, size_t len, pep440_specifier_set *out);

/* Pre-release policy for matching: PEP440_PRE_DEFAULT follows the spec (a
 * pre-release matches only when a specifier names a pre-release itself). */
typedef enum pep440_prereleases {
    PEP440_PRE_DEFAULT = -1,
    PEP440_PRE_EXCLUDE = 0,
    PEP440_PRE_INCLUDE = 1,
} pep440_prereleases;

/* Whether version `v` satisfies the specifier. "===" compares the normalised
 * form of `v` with the specifier's text, ignoring case. */
bool pep440_specifier_contains(const pep440_specifier *s, const pep440_version *v,
                               pep440_prereleases pre);
bool pep440_specifier_set_contains(const pep440_specifier_set *set, const pep440_version *v,
                                   pep440_prereleases pre);
/* Whether the specifier (set) names a pre-release, which lets pre-releases
 * match by default. */
bool pep440_specifier_allows_prereleases(const pep440_specifier *s);

/* The lowest version a set allows, from its lower bounds (==, ===, ~=, >=, >
 * and ==V.*): true with *out set, and *exclusive true when that bound is a
 * ">" (the set allows only versions above *out). False when the set has no
 * lower bound (only <, <=, != or nothing). */
bool pep440_specifier_set_lowest(const pep440_specifier_set *set, pep440_version *out,
                                 bool *exclusive);

/* PEP 503 name normalisation: lower case, runs of '-', '_', '.' become one
 * '-'. Writes at most cap-1 bytes and a NUL; returns false when the name does
 * not fit or is empty. */
bool pep503_normalize(const char *name, size_t len, char *out, size_t cap);

#endif
