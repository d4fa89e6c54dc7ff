/*
 * pairing_csv: a matching instance read from CSV and solved with the
 * configured weights, for `mentorctl match --instance` (trying weights on a
 * community's data without a database).
 */
#ifndef MENTORD_PAIRING_CSV_H
#define MENTORD_PAIRING_CSV_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "config.h"

/*
 * Solve a matching instance read from CSV (see pairing_csv.c for the
 * columns) with cfg's [matching] weights; prints the pairs and the total to
 * out.  0, or -1 with err ("FILE:LINE: what is wrong").
 */
int pairing_csv_solve(const struct config *cfg, FILE *csv, const char *name, time_t now, FILE *out,
                      char *err, size_t errlen);

#endif
