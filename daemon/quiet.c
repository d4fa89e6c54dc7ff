/*
 * quiet: quiet hours in each person's own time zone, the morning that mail
 * nobody asked for waits for.
 */
#include <time.h>

#include "profile.h"
#include "quiet.h"

#define DAY (24 * 60 * 60)

static int
quiet_is_night(const struct config *cfg, int hour)
{
    int qs = cfg->lifecycle.quiet_start, qe = cfg->lifecycle.quiet_end;

    if (qs == qe)
        return 0;
    return qs > qe ? (hour >= qs || hour < qe) : (hour >= qs && hour < qe);
}

time_t
quiet_morning(const struct config *cfg, int offset_min, time_t now)
{
    time_t local = now + (time_t)offset_min * 60;
    struct tm tm;

    if (gmtime_r(&local, &tm) == NULL || !quiet_is_night(cfg, tm.tm_hour))
        return now;
    tm.tm_hour = cfg->lifecycle.quiet_end;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    time_t morning = timegm(&tm);
    if (morning <= local)
        morning += DAY;
    return morning - (time_t)offset_min * 60;
}

time_t
quiet_morning_in(const struct config *cfg, const char *profile_text, time_t now)
{
    struct profile p;
    int ok = 0;

    if (profile_parse(profile_text ? profile_text : "", &p) != 0)
        return now; /* unreadable: as for an unknown zone, UTC would be a guess too */
    int offset = profile_utc_offset(&p, (long long)now, &ok);
    profile_free(&p);
    return quiet_morning(cfg, ok ? offset : 0, now);
}
