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
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}
