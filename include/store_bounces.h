/*
 * store_bounces: bounces and absences.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_bounces.c.
 */
#ifndef MENTORD_STORE_BOUNCES_H
#define MENTORD_STORE_BOUNCES_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ---- bounces and absences ---- */

int store_bounce_add(struct store *st, time_t now, const char *address, const char *severity,
                     const char *status, const char *diagnostic, double score);
/*
 * Add to a member's bounce score; *now_undeliverable tells whether the score
 * has reached threshold.  Returns 1 when the address is a member, 0 when not.
 */
int store_member_bounce(struct store *st, const char *address, double add, time_t now,
                        int threshold, int *now_undeliverable);
int store_member_set_away(struct store *st, const char *address, time_t until);

#endif
