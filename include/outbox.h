/*
 * outbox: turn "send this template to this person" into a queued message.
 *
 * Renders the template, composes the RFC 5322 message and stores it in the
 * durable outbox, inside the caller's transaction, so the mail exists exactly
 * when the decision that caused it is committed.  Sending is smtp's job.
 */
#ifndef MENTORD_OUTBOX_H
#define MENTORD_OUTBOX_H

#include <stddef.h>
#include <time.h>

#include "compose.h"
#include "config.h"
#include "lang.h"
#include "mail.h"
#include "store.h"
#include "template.h"

struct outbox_mail {
    const char *to_addr;
    const char *to_name;             /* may be NULL */
    const char *template_name;       /* file in the templates dir, without .txt */
    const struct template_var *vars; /* extra variables; community_* are added */
    size_t nvars;
    const struct mail *in_reply_to; /* the mail answered, or NULL for scheduled mail */
    const char *kind;               /* "reply" (default), "confirm", "scheduled", "notice" */
    const char *ref;  /* conversation token, put in the outbox for threading; may be NULL */
    int erase_after;  /* blank the stored copy once sent (mail to a member who left) */
    const char *html; /* an HTML alternative of the rendered text (UTF-8), or NULL */
    const char *lang; /* write in this language (a code), or NULL to choose (outbox_language) */
    const char *lang_seen; /* the language of the mail answered, as detected, or NULL */
    const struct compose_mailbox *reply_to; /* Reply-To mailboxes (n_reply_to), or none */
    size_t n_reply_to;
    /*
     * Scheduled mail that continues a conversation (no in_reply_to): the
     * Message-IDs of our earlier mail in it, oldest first, space-separated;
     * the last becomes In-Reply-To, all of them References.  May be NULL.
     */
    const char *thread;
    /*
     * The recipient's member row as the store holds it now, when the caller
     * has it (respond.c: the sender's, read for the same mail): to_row_known
     * 1 and to_row the row, or NULL for no row.  0: outbox_queue reads it.
     */
    int to_row_known;
    const struct store_member *to_row;
};

/*
 * Queue one message.  The common variables community_name, community_address
 * and to_name are always available to the template.  Returns 0, or -1 with
 * err set (template error, bad address, store error).
 */
int outbox_queue(const struct config *cfg, struct store *st, const struct outbox_mail *om,
                 time_t now, char *err, size_t errlen);

/*
 * A plain notice to every manager, built without templates (they may be the
 * very thing missing): subject and body as given, queued in the caller's
 * transaction.  0, or -1 with err set.
 */
int outbox_notice_managers(const struct config *cfg, struct store *st, const char *subject,
                           const char *body, time_t now, char *err, size_t errlen);

/*
 * The language to write to address in, as a code with templates: the one
 * the member asked for, else the first language of their profile that has
 * templates, else seen (the language of the mail being answered, may be
 * NULL), else the one of their last mail, else the Content-Language of
 * in_reply_to (may be NULL), else the community's.  code gets it; 0, or -1
 * on a store error.
 */
int outbox_language(const struct config *cfg, struct store *st, const char *address,
                    const char *seen, const struct mail *in_reply_to, char code[LANG_CODE_MAX]);

/*
 * The languages a member reads, best first: the one outbox_language gives,
 * then the rest of their profile's, each once and with templates.  Returns
 * how many (at most max), or -1 on a store error.
 */
int outbox_languages_read(const struct config *cfg, struct store *st, const char *address,
                          char (*codes)[LANG_CODE_MAX], int max);

/*
 * The managers' language ([templates] managers_language, else the
 * community's), as a code with templates: the digest writes its own lines in it.
 */
const char *outbox_managers_language(const struct config *cfg);

/*
 * Render template name for the managers (the digest, an alert's item), in
 * [templates] managers_language, with the community's language standing in
 * for a text that language lacks.  0, or -1 with err set.
 */
int outbox_render_for_managers(const struct config *cfg, const char *name,
                               const struct template_var *vars, size_t nvars, char **subject,
                               char **body, char *err, size_t errlen);

#endif
