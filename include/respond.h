/*
 * respond: the context of one person's mail while it is handled, and the two
 * things every handler does with it: answer the sender (through the outbox)
 * and record an event.  Below the handlers (membership, pairing, lifecycle,
 * managers, gate) and the dispatcher (programme.c), so handlers answer mail
 * without calling back up into the dispatcher.
 */
#ifndef MENTORD_RESPOND_H
#define MENTORD_RESPOND_H

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

struct respond_ctx {
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
    int proof;                      /* enum gate_proof: how the sender is proven (gate.h) */
    char proof_by[400];             /* what proves it, in words ("" when claimed) */
    int quiet;                      /* proven mail over the reply budget: it acts, unanswered */
    char *gate_text;                /* the text of a confirmed pending change (gate.c owns it) */
    int gate_owns_profile; /* profile is gate.c's (parsed from gate_text), not the reading's */
    struct reading *gate_reading; /* a confirmed rating's reading (gate.c owns it), or NULL */
    int sender_row; /* when the mail was read: 1 the sender had a member row, 0 none, -1 unknown */
};

/*
 * Queue a reply to the sender from template_name; kind/ref tag it for
 * threading.  Proven mail over the reply budget (c->quiet) goes unanswered.
 * 0, or -1 with c->detail saying why.
 */
int respond_reply(struct respond_ctx *c, const char *template_name, const struct template_var *vars,
                  size_t nvars, const char *kind, const char *ref);
/* Record an event about the sender in the event log; 0, or -1 with c->detail set. */
int respond_event(struct respond_ctx *c, const char *kind, const char *detail);

#endif
