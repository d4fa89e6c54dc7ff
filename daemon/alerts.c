/*
 * alerts: what the managers should look at now (a silent mentor, a worrying
 * answer to a check-in), gathered in the store as the handlers raise them
 * and sent in one mail to each manager at the end of a run of the daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "log.h"
#include "outbox.h"
#include "quiet.h"

/* Strip trailing newlines: templates put a value on its own line. */
static void
alerts_chomp(char *s)
{
    size_t n = s ? strlen(s) : 0;

    while (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
}

/*
 * An alert for the managers is kept in the store, not mailed at once: every
 * alert raised in one run of the daemon goes out in one mail at its end
 * (alerts_flush), so one silent mentor with two mentees, or a
 * morning's worrying answers, make one mail and not one each.
 */
int
alerts_raise(const struct config *cfg, struct store *st, const struct template_var *vars,
             size_t nvars, time_t now)
{
    char err[512], *subject = NULL, *body = NULL, *item = NULL;
    int rc = -1;

    if (cfg->community.n_managers == 0)
        return 0;
    if (outbox_render_for_managers(cfg, "manager-alert-item", vars, nvars, &subject, &body, err,
                                   sizeof(err)) != 0) {
        log_ctx(LOG_LEVEL_ERROR, NULL, NULL, "cannot alert the managers: %s", err);
        return -1;
    }
    alerts_chomp(body);
    if (asprintf(&item, "* %s\n\n%s", subject, body) < 0)
        item = NULL;
    if (item == NULL)
        log_ctx(LOG_LEVEL_ERROR, NULL, NULL, "cannot alert the managers: out of memory");
    else if ((rc = store_alert_add(st, now, item)) != 0)
        log_ctx(LOG_LEVEL_ERROR, NULL, NULL, "cannot alert the managers: %s", store_errmsg(st));
    free(subject);
    free(body);
    free(item);
    return rc;
}

int
alerts_flush(const struct config *cfg, struct store *st, time_t now)
{
    char err[512], zone[128], count[16], *alerts = NULL;
    size_t n = 0;
    int64_t last = 0;
    int rc = 0;

    if (store_alert_pending(st, &alerts, &n, &last) != 0)
        return -1;
    if (n == 0)
        return 0;
    /* Not a reply to the managers: it waits for the morning in their ([digest]) time zone. */
    snprintf(zone, sizeof(zone), "Time zone: %s\n",
             cfg->digest.timezone ? cfg->digest.timezone : "UTC");
    time_t at = quiet_morning_in(cfg, zone, now);
    snprintf(count, sizeof(count), "%zu", n);
    struct template_var v[] = {
        {"alerts", alerts}, {"count", count}, {"several", n > 1 ? "yes" : NULL}};
    for (size_t i = 0; rc == 0 && i < cfg->community.n_managers; i++) {
        struct outbox_mail om = {
            .to_addr = cfg->community.managers[i],
            .template_name = "manager-alert",
            .vars = v,
            .nvars = 3,
            .kind = "notice",
        };
        if (outbox_queue(cfg, st, &om, at, err, sizeof(err)) != 0) {
            log_ctx(LOG_LEVEL_ERROR, NULL, om.to_addr, "cannot alert a manager: %s", err);
            rc = -1;
        }
    }
    if (rc == 0 && store_alert_mark_sent(st, last, now) != 0)
        rc = -1;
    free(alerts);
    return rc == 0 ? 1 : -1;
}
