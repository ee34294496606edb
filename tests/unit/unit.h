/* unit.h - a minimal test harness: CHECK records a failure and goes on. */
#ifndef MS_UNIT_H
#define MS_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_passed, unit_failed;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (cond) {                                                                              \
            unit_passed++;                                                                       \
        } else {                                                                                 \
            unit_failed++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);             \
        }                                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                                          \
    do {                                                                                         \
        const char *a_ = (a), *b_ = (b);                                                         \
        if (a_ && b_ && strcmp(a_, b_) == 0) {                                                   \
            unit_passed++;                                                                       \
        } else {                                                                                 \
            unit_failed++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK_STR failed: '%s' != '%s'\n", __FILE__, __LINE__,      \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                     \
        }                                                                                        \
    } while (0)

void test_cursor(void);
void test_strbuf(void);
void test_pickle_vm(void);
void test_policy(void);
void test_report(void);
void test_secrets(void);
void test_npy(void);
void test_zip(void);
void test_keras_config(void);
void test_protobuf(void);
void test_pep440(void);
void test_osv(void);
void test_template(void);
void test_pyscan(void);

#endif
