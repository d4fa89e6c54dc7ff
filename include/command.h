/*
 * command: what the person asked for, from the Subject or the first lines of
 * the body.  Forgiving: case-insensitive, reply/forward prefixes (Re:, Fwd:,
 * AW:, SV:, ...) ignored, synonyms.  Quoted text is never read: the caller
 * passes the text the person wrote (reply.h), and the scan also stops at the
 * first quoted line.
 */
#ifndef MENTORD_COMMAND_H
#define MENTORD_COMMAND_H

#include <stddef.h>

enum command_kind {
    COMMAND_NONE = 0, /* nothing recognised: answer with help */
    COMMAND_JOIN,     /* a newcomer wants a mentor: join, sign me up, newcomer */
    COMMAND_MENTOR,   /* a member volunteers: mentor, volunteer */
    COMMAND_HELP,     /* help, ?, info */
    COMMAND_STATUS,   /* status: what mentord knows about me */
    COMMAND_PAUSE,    /* pause [N weeks]: number = weeks, 0 when not given */
    COMMAND_RESUME,   /* resume, unpause, back */
    COMMAND_LEAVE,    /* leave, stop, unsubscribe, remove me, quit */
    COMMAND_DONE,     /* done, finished: end the pairing early */
    COMMAND_REMATCH,  /* rematch, new mentor */
    COMMAND_CAPACITY, /* capacity N: number = N */
    COMMAND_CONFIRM,  /* confirm [TOKEN]: token set when given */
    COMMAND_ACCEPT,   /* accept, yes (to a proposal) */
    COMMAND_DECLINE,  /* decline, no (to a proposal) */
};

/*
 * Tokens mentord hands out (secret.h): lower-case letters and digits without
 * look-alikes, 14 characters (about 69 bits).  Tokens of 10 characters, handed
 * out by earlier versions, are still read while they last.
 */
#define COMMAND_TOKEN_LEN 14
#define COMMAND_TOKEN_LEN_OLD 10
#define COMMAND_TOKEN_ALPHABET "23456789abcdefghjkmnpqrstuvwxyz"

struct command {
    enum command_kind kind;
    int from_subject; /* 1 when found in the Subject, 0 when in the body or address */
    int from_address; /* 1 when it came from the plus-address (mentors+join@...) */
    int number;       /* PAUSE weeks, CAPACITY n; -1 when absent or not a number */
    char token[COMMAND_TOKEN_LEN + 1]; /* CONFIRM's token, "" when absent */
};

/* Find the command in subject (may be NULL) or body (may be NULL). */
void command_parse(const char *subject, const char *body, struct command *out);

/*
 * The command named by a plus-address detail ("join" in mentors+join@...).
 * Returns 1 and fills out when detail names a command, else 0.  When it does,
 * the body is not scanned for commands: the address said it all.
 */
int command_from_detail(const char *detail, struct command *out);

/*
 * The reference tag mentord puts in the Subject of mail that expects an
 * answer, "[ref TOKEN]", found anywhere in text (case-insensitive).  Clients
 * that drop In-Reply-To and References keep the Subject.  Returns 1 and
 * copies the token (lower case) into out, else 0.
 */
int command_find_ref(const char *text, char out[COMMAND_TOKEN_LEN + 1]);

const char *command_name(enum command_kind kind);

/* Subject with any run of Re:/Fwd:/AW:/SV:/... prefixes removed (malloc'd). */
char *command_strip_prefixes(const char *subject);

#endif
