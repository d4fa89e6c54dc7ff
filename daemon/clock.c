/*
 * clock: the daemon's idea of "now", with MENTORD_NOW as an injectable start.
 */
#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest MENTORD_NOW value we remember; anything longer is not a valid time anyway. */
#define CLOCK_ENV_MAX 64

static int
is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (month == 2 && is_leap(year))
        return 29;
    return days[month - 1];
}

/* Read exactly n decimal digits at *p into *out and advance; 0 when they are not all digits. */
static int
read_digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return 0;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 1;
}

static time_t
parse_epoch(const char *text)
{
    char *end;
    long long v;

    for (const char *p = text; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0)
        return -1;
    if ((long long)(time_t)v != v)
        return -1;
    return (time_t)v;
}

/* "YYYY-MM-DD[THH:MM[:SS]][Z]", always UTC. */
static time_t
parse_iso(const char *text)
{
    const char *p = text;
    struct tm tm;
    int year, month, day, hour = 0, min = 0, sec = 0;

    if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &month) || *p++ != '-' ||
        !read_digits(&p, 2, &day))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &min))
            return -1;
        if (*p == ':') {
            p++;
            if (!read_digits(&p, 2, &sec))
                return -1;
        }
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    if (*p != '\0')
        return -1;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour > 23 || min > 59 || sec > 59)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    return timegm(&tm);
}

time_t
clock_parse(const char *text)
{
    if (text == NULL || *text == '\0')
        return -1;
    /* A date always has a '-' after the year; a bare number is seconds since the epoch. */
    if (strchr(text, '-') == NULL)
        return parse_epoch(text);
    return parse_iso(text);
}

time_t
clock_now(void)
{
    /*
     * The one piece of process state mentord keeps outside struct config:
     * MENTORD_NOW only fixes the *start*, so we must remember which real
     * time that start corresponds to and let time run on from there.  The
     * value of MENTORD_NOW is remembered too, so that a process (a test)
     * changing it gets a fresh anchor instead of a stale one.
     */
    static struct {
        char env[CLOCK_ENV_MAX];
        time_t fake_start;
        time_t real_start;
    } anchor;
    const char *env = getenv("MENTORD_NOW");
    time_t real = time(NULL);
    time_t fake;

    if (env == NULL || *env == '\0' || strlen(env) >= sizeof(anchor.env))
        return real;
    if (strcmp(env, anchor.env) != 0) {
        fake = clock_parse(env);
        if (fake == -1)
            return real; /* an invalid value is ignored; mentord --now validates its own */
        snprintf(anchor.env, sizeof(anchor.env), "%s", env);
        anchor.fake_start = fake;
        anchor.real_start = real;
    }
    return anchor.fake_start + (real - anchor.real_start);
}

double
clock_seconds(clockid_t which)
{
    struct timespec ts;

    if (clock_gettime(which, &ts) != 0)
        return 0; /* only for a clock this system lacks: both callers' clocks are POSIX's */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
