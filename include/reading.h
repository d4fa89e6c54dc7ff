/*
 * reading: what one mail says, in one pure step.
 *
 * From a parsed mail and what mentord knows of the sender's open
 * conversations (looked up by the caller and passed in as plain data) to a
 * `struct reading`: the kind of mail (a person's, or automatic), the intent
 * with a confidence, its arguments, the profile fields, the person's own
 * text and why.  No store is read or written and no mail is sent: the
 * daemon (programme.c) acts on the reading, and `mentorctl inspect` prints
 * the same reading, so both always agree.
 *
 * Context decides between readings: a reply to a proposal reads as accept or
 * decline, a reply to a check-in as a rating, a first mail from a stranger
 * most likely as a wish to take part.  Quoted and forwarded text is never
 * read (reply.h).
 */
#ifndef MENTORD_READING_H
#define MENTORD_READING_H

#include <stddef.h>
#include <time.h>

#include "classify.h"
#include "command.h"
#include "config.h"
#include "intent.h"
#include "mail.h"
#include "profile.h"

/* What mentord knows of the sender, found by the caller (the store, or nothing). */
struct reading_context {
    int known;            /* 1 when the fields below were looked up; 0: nothing is known */
    int member;           /* the sender is a member (any state but erased) */
    int paused;           /* ... and their membership is paused */
    int pending_confirm;  /* a confirmation mail to the sender is open */
    int pending_role;     /* ... and it is the question "a mentor, or to be a mentor?" */
    int answers_confirm;  /* the mail answers (by ref) that open confirmation */
    int answers_proposal; /* the mail answers (by ref) a proposal the sender may accept */
    int answers_checkin;  /* the mail answers (by ref) a check-in of the sender's pair */
    int open_proposals;   /* proposals waiting for the sender's answer */
    int open_pairs;       /* active pairs the sender belongs to */
    int manager;          /* the sender is a configured manager */
    time_t now;           /* for "until January" */
};

enum reading_kind {
    READING_PERSON = 0, /* a person's mail: read for an intent */
    READING_AUTOMATIC,  /* bounce, auto-reply, list, spam, loop: recorded, never answered */
    READING_NO_SENDER,  /* no usable From: address */
    READING_TOO_LARGE,  /* over [limits] max_message_size: only the headers were read */
};

/* What to ask back when the intent is not clear enough to act on. */
enum reading_ask {
    READING_ASK_NONE = 0,
    READING_ASK_ROLE,     /* "Would you like a mentor, or to be a mentor? Reply 1 or 2" */
    READING_ASK_PROPOSAL, /* "Reply YES to take X on, or NO" */
};

#define READING_MAX_WHY 12

struct reading {
    enum reading_kind kind;
    enum classify_kind classified; /* for READING_AUTOMATIC */
    const char *class_reason;      /* static */
    enum intent_kind intent;       /* INTENT_NONE: nothing to act on (help) */
    int confidence;                /* 0-100 */
    enum reading_ask ask;
    struct command cmd;     /* the command the daemon acts on (kind, number, token, where) */
    int rating;             /* check-in rating 1-5, 0 when none */
    const char *rating_how; /* static: what the rating was read from ("stars", ...) */
    int pause_weeks;        /* for INTENT_PAUSE: 0 open-ended */
    int capacity;           /* a number of mentees said in a sentence, -1 when none */
    struct command_manager manager; /* a manager's command (n == 0: none) */
    int refuses_confirm;            /* says no to the open confirmation: it is not confirmed */
    char role_answer;       /* '1' (a mentor) or '2' (to mentor) when answering the role question */
    struct profile profile; /* "Key: value" lines, and for a wish to take part what prose told */
    struct profile told;    /* what prose told (name, languages, time zone), kept apart */
    char *place;            /* the place as written in prose ("Denver"), or NULL */
    char *text;             /* the person's own text ("" when none) */
    char *prose;            /* its start, as read for sentences (at most 32 KB) */
    char *sent_along;       /* nothing of their own: what they quoted or forwarded, else NULL */
    const char *address_header; /* the header that named a plus-address command, or NULL */
    char why[READING_MAX_WHY][240];
    size_t n_why;
    char *strings; /* a reading from the isolated reader (reader.h): the block that holds
                      class_reason, rating_how and address_header; else NULL */
};

/*
 * Read m.  size is the message's real size (larger than what was parsed
 * when it was over the limit).  ctx may be NULL (nothing known).  Returns 0,
 * or -1 when memory runs out (out is then freed).
 */
int reading_read(const struct config *cfg, const struct mail *m, size_t size,
                 const struct reading_context *ctx, struct reading *out);
void reading_free(struct reading *r);

/* The reading's intent as the corpus names it ("join", "rating", "question_or_other", ...). */
const char *reading_intent_name(const struct reading *r);

/*
 * Does the address at p (a '+' inside the header value v) read
 * LOCAL+DETAIL@DOMAIN for addr?  1 with DETAIL copied (at most len - 1
 * characters), else 0.  Also how a bounce's VERP tag is found (programme.c).
 */
int reading_plus_detail(const char *addr, const char *v, const char *p, char *detail, size_t len);


#endif
