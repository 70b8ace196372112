/*
 * test_currency.c - which currencies a contract may name, and their minor
 * units (common/currency.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/currency.h"

static void
test_currencies_in_circulation_and_their_digits(void **state)
{
    (void) state;
    assert_int_equal(msp_currency_digits("USD"), 2);
    assert_int_equal(msp_currency_digits("EUR"), 2);
    assert_int_equal(msp_currency_digits("INR"), 2);
    assert_int_equal(msp_currency_digits("JPY"), 0);
    assert_int_equal(msp_currency_digits("KRW"), 0);
    assert_int_equal(msp_currency_digits("KWD"), 3);
    assert_int_equal(msp_currency_digits("TND"), 3);
    /* the first and the last of the table: the search reaches both ends */
    assert_int_equal(msp_currency_digits("AED"), 2);
    assert_int_equal(msp_currency_digits("ZWG"), 2);
}

static void
test_what_is_not_a_currency_in_circulation(void **state)
{
    (void) state;
    const char *refused[] = {
        "XYZ",              /* no such code */
        "HRK", "BGN", "ZWL", "SLL", "ANG", "CUC",  /* withdrawn */
        "XTS", "XXX", "XAU", "XDR", "USN", "BOV",  /* testing, none, metal, funds */
        "usd", "US", "USDD", "", NULL,
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(msp_currency_digits(refused[i]), -1);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_currencies_in_circulation_and_their_digits),
        cmocka_unit_test(test_what_is_not_a_currency_in_circulation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
