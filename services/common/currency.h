/*
 * currency.h - the currencies a contract may be written in: the ISO 4217
 * codes in circulation (not funds, precious metals or testing codes, and
 * not codes withdrawn, such as HRK or BGN), each with the number of
 * digits after its decimal point (JPY 0, EUR 2, KWD 3), which amounts in
 * it are rounded to.
 */
#ifndef MSP_CURRENCY_H
#define MSP_CURRENCY_H

/* The minor unit's digits of code (three capitals), or -1 when code is
 * not a currency in circulation. */
int msp_currency_digits(const char *code);

#endif
