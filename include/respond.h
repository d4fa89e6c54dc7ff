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

/*
 * What the store holds of the sender, read once for all the steps of one
 * mail (programme_context, the gate, the handler, the answer): their member
 * row and their open confirmation token.  Each copy is the store's as long
 * as the connection has written nothing since it was read (store_changes);
 * after a write it is read again at its next use.  A copy read again is
 * kept until respond_forget, so a pointer a handler holds stays valid for
 * the whole mail (what it points to is the store's as of when it was read).
 */
struct respond_sender {
    int have_row;     /* row (NULL: no member row) was read ... */
    long long row_at; /* ... when store_changes() was this */
    struct store_member *row;
    int have_token;
    long long token_at;
    struct store_token *token;      /* the newest open token, NULL when none */
    struct store_member **old_rows; /* copies read again since: freed by respond_forget */
    size_t n_old_rows;
    int lang_written;                  /* the member upsert recorded these languages: */
    char written_asked[LANG_CODE_MAX]; /* ... c->lang_asked then */
    char written_seen[LANG_CODE_MAX];  /* ... c->lang_seen then */
    struct store_token **old_tokens;
    size_t n_old_tokens;
};

/*
 * Senders' rows read for mails ahead of their turn (programme_read_context),
 * kept for that turn (respond_take), each with the store's stamp of its
 * address (store.h) and the time its open token was looked up for.  A few
 * slots, each new one over the oldest: a kept copy that no turn takes is
 * only freed.
 */
#define RESPOND_KEPT 4
struct respond_kept_one {
    char *address; /* NULL: a free slot */
    time_t now;
    struct store_stamp stamp;
    struct store_member *row;  /* NULL: no member row */
    struct store_token *token; /* NULL: no open token */
};
struct respond_kept {
    struct respond_kept_one slot[RESPOND_KEPT];
    unsigned next; /* the slot the next respond_keep fills */
};

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
    struct respond_sender sender; /* respond_member, respond_open_token; respond_forget frees */
};

/*
 * Queue a reply to the sender from template_name; kind/ref tag it for
 * threading.  Proven mail over the reply budget (c->quiet) goes unanswered.
 * 0, or -1 with c->detail saying why.
 */
int respond_reply(struct respond_ctx *c, const char *template_name, const struct template_var *vars,
                  size_t nvars, const char *kind, const char *ref);
/*
 * The sender's member row as the store holds it now: 1 with *row set (the
 * context's, valid until respond_forget), 0 for no row, -1 on a store error.
 * Read from the store only when the copy is older than the last write.
 */
int respond_member(struct respond_ctx *c, const struct store_member **row);
/*
 * The copy of the sender's row, only when it is still the store's (nothing
 * written since it was read), without reading: 1 with *row set (NULL: no
 * member row), 0 when there is no current copy.
 */
int respond_member_current(struct respond_ctx *c, const struct store_member **row);
/* The sender's address has confirmed (a member row, active or paused): 1, 0, or -1. */
int respond_confirmed(struct respond_ctx *c);
/* The sender's newest open token, as respond_member: 1 with *t set, 0 none, -1. */
int respond_open_token(struct respond_ctx *c, const struct store_token **t);
/*
 * The caller wrote the sender's member row, and nothing else, since
 * store_changes() was before: the copy of their open token is still the
 * store's (a member row holds none, and no trigger on members writes one).
 */
void respond_row_written(struct respond_ctx *c, long long before);
/*
 * As respond_row_written, and row is the sender's member row as the store
 * now holds it (store_member_upsert_row): it becomes the copy, so the answer
 * needs no read of it.  Taken over (respond_forget frees it).  Only when the
 * copy the caller wrote over was the store's at before; else row is freed
 * and the row is read again at its next use.
 */
void respond_row_is(struct respond_ctx *c, long long before, struct store_member *row);
/*
 * The caller wrote the sender's tokens, and nothing else, since
 * store_changes() was before: the copy of their member row is still the
 * store's (no trigger on tokens writes a member row).
 */
void respond_tokens_written(struct respond_ctx *c, long long before);
/*
 * The caller's member upsert recorded c->lang_asked and c->lang_seen as they
 * are now ("" kept the stored value), as programme.c's language note would.
 */
void respond_lang_written(struct respond_ctx *c);
/*
 * 1 when the sender's row already holds c->lang_asked and c->lang_seen as
 * they are now (respond_lang_written, neither changed since): the note of
 * the language after the answer has nothing left to write.  Else 0.
 */
int respond_lang_noted(const struct respond_ctx *c);
/* Free what respond_member and respond_open_token kept. */
void respond_forget(struct respond_ctx *c);
/*
 * Move c's copies of its sender's row and open token into k, when both were
 * read and at was the address's stamp (store_stamp_take) before they were:
 * the stamp still the same now, the copies are the store's as of at.  Else
 * nothing is kept.  respond_forget then frees the rest of c as before.
 */
void respond_keep(struct respond_ctx *c, const struct store_stamp *at, struct respond_kept *k);
/*
 * At the start of a mail's turn (nothing of its sender read yet): the copies
 * k kept of its sender become c's, read at no cost, when they are still the
 * store's (the address's stamp unchanged since) and the token was looked up
 * for c->now.  The slot is emptied either way.
 */
void respond_take(struct respond_ctx *c, struct respond_kept *k);
/* Free every slot of k (it may be used again). */
void respond_kept_free(struct respond_kept *k);

/* Record an event about the sender in the event log; 0, or -1 with c->detail set. */
int respond_event(struct respond_ctx *c, const char *kind, const char *detail);

#endif
