/*
 * programme's private header: shared by programme.c (dispatch, automatic
 * mail) and membership.c (joining, confirming, leaving, a member's own
 * settings).  Not part of any other module's world.
 */
#ifndef MENTORD_PROGRAMME_INT_H
#define MENTORD_PROGRAMME_INT_H

#include <stddef.h>
#include <time.h>

#include "command.h"
#include "config.h"
#include "lang.h"
#include "mail.h"
#include "profile.h"
#include "reading.h"
#include "store.h"
#include "template.h"

struct programme_ctx {
    const struct config *cfg;
    struct store *st;
    const struct mail *m;
    time_t now;
    size_t size;            /* the message's real size */
    const char *text;       /* what the person wrote (quotes and signature removed) */
    int only_quoted;        /* nothing of their own: all of the mail was quoted or forwarded */
    struct profile profile; /* "Key: value" lines found in text (the reading's, not owned) */
    const struct reading *reading; /* what the mail says (reading.h) */
    char ref[64];                  /* conversation this mail answers, "" when none */
    char *detail;                  /* for the processed-message record */
    size_t detail_len;
    int erase_checkpoint;           /* a member was erased: checkpoint after commit */
    char lang_seen[LANG_CODE_MAX];  /* the language the mail is written in, "" unknown */
    char lang_asked[LANG_CODE_MAX]; /* "please write to me in ...": the language, or "" */
    int proof;            /* enum gate_proof: how the sender is proven (gate.h) */
    int quiet;            /* proven mail over the reply budget: it acts, unanswered */
    char *gate_text;      /* the text of a confirmed pending change (gate.c owns it) */
    int gate_owns_profile; /* profile is gate.c's (parsed from gate_text), not the reading's */
};

/* Queue a reply to the sender from template_name; kind/ref tag it for threading. */
int programme_reply(struct programme_ctx *c, const char *template_name,
                    const struct template_var *vars, size_t nvars, const char *kind,
                    const char *ref);
int programme_event(struct programme_ctx *c, const char *kind, const char *detail);

/* membership.c */
int programme_request(struct programme_ctx *c, const char *action);
int programme_confirm(struct programme_ctx *c, const char *token);
int programme_status(struct programme_ctx *c);
int programme_pause(struct programme_ctx *c, int weeks);
int programme_resume(struct programme_ctx *c);
int programme_capacity(struct programme_ctx *c, int n);
int programme_profile_update(struct programme_ctx *c);
int programme_no_pairing(struct programme_ctx *c, const char *what);
/* The role is not clear: "Would you like a mentor, or to be a mentor? Reply 1 or 2". */
int programme_ask_role(struct programme_ctx *c);

/*
 * pairing.c: a mail about a pairing: ACCEPT/DECLINE of a proposal, DONE,
 * REMATCH, or a reply (by ref) to a proposal or check-in.  Returns 1 when
 * the mail is not about a pairing, so the caller reads it another way.
 */
int programme_pair_mail(struct programme_ctx *c, const struct command *cmd);

/*
 * lifecycle.c: a member confirmed LEAVE; before their data is erased, end
 * their pairings kindly and tell each partner.
 */
int programme_member_leaving(struct programme_ctx *c, int64_t member_id);

/*
 * lifecycle.c: a match is final (accepted, or no acceptance asked): the
 * introduction mail(s), the check-ins and the end of the pairing are scheduled.
 * In the caller's transaction; 0, or -1 on error.
 */
int programme_pair_started(const struct config *cfg, struct store *st, int64_t pair, time_t now);

/*
 * lifecycle.c: a reply (by the pair's ref) to a check-in that is not a
 * command: the rating and comment become feedback; help starts when needed.
 */
int programme_checkin_reply(struct programme_ctx *c, int64_t pair);

/*
 * lifecycle.c: a confirmed MENTOR from someone who had been a mentee counts
 * as a conversion (event "conversion"); 1 when counted, 0 when not a former
 * mentee, -1 on error.  Call it when a volunteer's confirmation succeeds.
 */
int programme_note_conversion(struct store *st, const char *address, time_t now);

/*
 * lifecycle.c: when mail nobody asked for (a proposal, a notice about one's
 * pairing, an alert) may go to someone offset_min minutes from UTC: now, or
 * the next [lifecycle] quiet_end hour there when it is night.  Queued with
 * that time, such mail waits in the outbox and carries it as its Date.
 * programme_morning_in reads the offset from a profile text ("Time zone:"
 * line; UTC when there is none).
 */
time_t programme_morning(const struct config *cfg, int offset_min, time_t now);
time_t programme_morning_in(const struct config *cfg, const char *profile_text, time_t now);

/* pairing.c: a proposal's time is up (called by the scheduler in lifecycle.c). */
int programme_proposal_timeout(const struct config *cfg, struct store *st, int64_t pair,
                               time_t now);

/*
 * pairing.c: solve a matching instance read from CSV (see pairing.c for the
 * columns) with cfg's [matching] weights; prints the pairs and the total to
 * out.  0, or -1 with err ("FILE:LINE: what is wrong").  For mentorctl.
 */
int programme_match_instance(const struct config *cfg, FILE *csv, const char *name, time_t now,
                             FILE *out, char *err, size_t errlen);

/*
 * managers.c: a mail from a configured manager: a manager command (REPORT,
 * LIST, MATCH, UNMATCH, PAUSE, RESUME, REMOVE) or the confirmation of one.
 * Returns 1 when the mail is neither, so the caller reads it another way.
 */
int programme_manager_mail(struct programme_ctx *c);

#endif
