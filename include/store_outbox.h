/*
 * store_outbox: the durable outbox, its threading and the reply budget.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_outbox.c.
 */
#ifndef MENTORD_STORE_OUTBOX_H
#define MENTORD_STORE_OUTBOX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ---- outbox ---- */

struct store_outbox {
    int64_t id;
    char *recipient;  /* envelope recipient */
    char *sender;     /* envelope sender */
    char *message_id; /* without angle brackets */
    char *headers;    /* header block, CRLF line ends, ending with CRLF */
    char *body;       /* body, CRLF line ends */
    char *status;     /* "queued", "sent", "failed" */
    int attempts;
    time_t created;
    time_t next_attempt;
    char *last_error;
    char *reply;    /* the SMTP server's final reply once sent */
    time_t sent_at; /* 0 until sent */
};

int store_outbox_add(struct store *st, const char *recipient, const char *sender,
                     const char *message_id, const char *headers, const char *body, time_t now,
                     int64_t *id_out);
/* A mail to queue with everything known of it (store_outbox_queue). */
struct store_outbox_new {
    const char *recipient, *sender, *message_id, *headers, *body;
    time_t at;                 /* created, and first due */
    const char *kind, *ref;    /* as store_outbox_tag sets them */
    const char *verp;          /* as store_outbox_set_trust sets it (NULL: none) */
    int stranger;              /* the recipient confirmed nothing */
    const char *template_name; /* as store_outbox_set_template sets it */
};
/* store_outbox_add, store_outbox_tag, _set_trust and _set_template in one INSERT. */
int store_outbox_queue(struct store *st, const struct store_outbox_new *m, int64_t *id_out);
/* Up to limit (<= 0: no limit) queued messages with next_attempt <= now, longest due first. */
int store_outbox_due(struct store *st, time_t now, int limit, struct store_outbox **items,
                     size_t *n);
void store_outbox_free(struct store_outbox *items, size_t n);
/* Sent/defer/fail apply to a queued message only; any other id is an error. */
int store_outbox_sent(struct store *st, int64_t id, time_t now, const char *reply);
/*
 * The sent outcomes of a group (n of them, any number) as store_outbox_sent
 * would write them one by one, in a few statements: one UPDATE per mail was
 * most of a drain's store work.  Every id must be queued, or it is an error.
 */
struct store_outbox_mark {
    int64_t id;
    const char *reply;
};
int store_outbox_sent_all(struct store *st, const struct store_outbox_mark *marks, size_t n,
                          time_t now);
int store_outbox_defer(struct store *st, int64_t id, time_t next_attempt, const char *error);
int store_outbox_fail(struct store *st, int64_t id, time_t now, const char *error);
/* Count by status ("queued", "sent", "failed"; NULL for all). */
int store_outbox_count(struct store *st, const char *status);
/* Earliest next_attempt among queued messages; 0 when none, (time_t)-1 on error. */
time_t store_outbox_next_due(struct store *st);
int store_outbox_each(struct store *st, const char *status,
                      int (*fn)(const struct store_outbox *, void *), void *arg);

/*
 * Threading.  Mail that expects an answer carries a conversation reference
 * (a token): store_outbox_tag sets the kind ("reply", "confirm", "scheduled")
 * and ref of a queued mail, and store_outbox_lookup finds the recipient and
 * ref ("" when none) of our mail with a given Message-ID (an In-Reply-To or
 * References entry, or the Message-ID a bounce returns): 1 when found.
 */
int store_outbox_tag(struct store *st, int64_t id, const char *kind, const char *ref);
/* The template a queued mail was made from ("introduction"), kept for what answers it. */
int store_outbox_set_template(struct store *st, int64_t id, const char *name);
/*
 * Withdraw the queued, never tried mail made from template name to
 * recipient (a later mail says the same and more): how many, or -1.
 */
int store_outbox_withdraw(struct store *st, const char *recipient, const char *name);
/* That template of our mail message_id: 1 with name set ("" when unknown), 0 not ours, -1. */
int store_outbox_template_of(struct store *st, const char *message_id, char *name, size_t len);
/* The template of our newest mail to recipient with that ref ([ref] in a Subject): as above. */
int store_outbox_template_by_ref(struct store *st, const char *recipient, const char *ref,
                                 char *name, size_t len);
/*
 * The thread a new mail to recipient continues: the Message-IDs of the latest
 * mail to them from each of templates (NULL-terminated), oldest template
 * first, space-separated in *ids (malloc'd; NULL when there is none).
 */
int store_outbox_thread(struct store *st, const char *recipient, const char *const *templates,
                        char **ids);
int store_outbox_lookup(struct store *st, const char *message_id, char *recipient, size_t rlen,
                        char *ref, size_t ref_len);
/* Mail of kind queued for recipient since the given time (the reply budget). */
int store_outbox_recent(struct store *st, const char *recipient, const char *kind, time_t since);
/*
 * Answers (kinds reply and confirm) queued to recipient since day_since into
 * *in_day, and of them since hour_since (later) into *in_hour: the reply
 * budget's two counts in one statement.  0, or -1 on error.
 */
int store_outbox_answers(struct store *st, const char *recipient, time_t day_since, time_t hour_since,
                         int *in_day, int *in_hour);

/* Blank a queued mail's recipient, headers and body once it is sent or failed. */
int store_outbox_erase_after(struct store *st, int64_t id);

#endif
