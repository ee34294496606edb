/* unit_main.c - runs every unit test group and prints the tally. */
#include "unit.h"

int unit_passed, unit_failed;

int main(void)
{
    test_cursor();
    test_strbuf();
    test_pickle_vm();
    test_policy();
    test_report();
    test_secrets();
    test_npy();
    test_zip();
    test_keras_config();
    test_protobuf();
    test_pep440();
    test_osv();
    test_template();
    test_pyscan();
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}
