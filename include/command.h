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
#include <stdio.h>

/*
 * The kinds of member command, one per row of command_table.h (their numbers
 * are stored: see there).
 */
enum command_kind {
    COMMAND_NONE = 0, /* nothing recognised: answer with help */
#define COMMAND_MEMBER(KIND, NUMBER, ...) COMMAND_##KIND = NUMBER,
#define COMMAND_MANAGER(...)
#include "command_table.h"
#undef COMMAND_MEMBER
#undef COMMAND_MANAGER
};

/*
 * What a command needs before it may act, beyond a From: header (which
 * proves nothing).  The trust layer enforces it; the table only declares it.
 */
enum command_proof {
    PROOF_NONE = 0,    /* harmless: answered to the address, about nobody else (STATUS, HELP) */
    PROOF_OWN_CONFIRM, /* starts a request its own confirmation mail completes (JOIN, LEAVE) */
    PROOF_REQUIRED,    /* changes state: a reply carrying our secret, or DMARC pass, else a
                          confirming reply to a short mail first (gate.h) */
    PROOF_MANAGER,     /* a manager's command: a manager's authenticated mail */
};

/* How the arguments after the command word are read. */
enum command_args {
    COMMAND_ARGS_NONE = 0,
    COMMAND_ARGS_WEEKS, /* PAUSE [N weeks]: also "two weeks", "until January" in sentences */
    COMMAND_ARGS_COUNT, /* CAPACITY N */
    COMMAND_ARGS_TOKEN, /* CONFIRM TOKEN */
    COMMAND_ARGS_WORDS, /* a manager's: member addresses, a state */
};

/*
 * The table of commands, made from command_table.h (where each member and
 * manager command is declared once).  The phrases that ask for the same
 * thing in plain words live in the intent tables under the same name
 * (data/intents/LANG.txt); the help mail's list is made from this table and
 * the README's and the man page's are checked against it; programme.c binds
 * each kind to its handler from the same rows.
 */
struct command_def {
    enum command_kind kind; /* COMMAND_NONE for a manager's command */
    const char *name;       /* lower case, as command_name() and the intent tables say it */
    const char *usage;      /* as the help mail writes it: "PAUSE [N weeks]" */
    enum command_args args;
    enum command_proof proof;
    int manager;      /* 1: a manager's command */
    const char *help; /* one line: what it does */
    /*
     * PROOF_REQUIRED: what the confirmation mail for a claimed request names,
     * as a phrase of the reader's language (language.data "phrase.KEY") with
     * these English words when it has none; with a number, key_n1/words_n1
     * for "one" and key_n/words_n for "other" (lang_plural), "{n}" the number.
     */
    struct command_confirm {
        const char *key, *words;
        const char *key_n1, *words_n1, *key_n, *words_n;
    } confirm;
};

/* The CONFIRMS column of command_table.h. */
#define COMMAND_CONFIRMS(key, words, key_n1, words_n1, key_n, words_n)                             \
    {                                                                                              \
        key, words, key_n1, words_n1, key_n, words_n                                               \
    }
#define COMMAND_CONFIRMS_NOTHING                                                                   \
    {                                                                                              \
        NULL, NULL, NULL, NULL, NULL, NULL                                                         \
    }

extern const struct command_def command_defs[];
extern const size_t command_n_defs;

/* The table's row for kind, NULL for COMMAND_NONE. */
const struct command_def *command_def_of(enum command_kind kind);

/*
 * The help mail's list of member commands, one "  USAGE  help" line each, in
 * language l (its "usage_NAME" and "help_NAME" phrases; the table's English
 * where it has none, and for l NULL).  malloc'd.
 */
struct lang;
char *command_help_list(const struct lang *l);

/*
 * The member commands as mentord(8) lists them (roff: ".TP", ".B USAGE", the
 * help line), in the table's order.  `make config-docs` writes it into
 * man/mentord.8; test_reading checks the committed page holds it.
 */
void command_doc_man(FILE *out);

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

/* A manager's command: the lower-cased verb, then its arguments as written. */
#define COMMAND_MANAGER_WORDS 6
struct command_manager {
    char buf[512];
    char *w[COMMAND_MANAGER_WORDS]; /* point into buf: copy with care */
    size_t n;                       /* 0: none */
};

/*
 * A manager command (REPORT, LIST, MATCH, UNMATCH, PAUSE, RESUME, REMOVE):
 * the Subject when it holds one with its arguments, else the first line
 * written ("Subject: Remove" with "remove nina@..." in the body).  Returns 1
 * and fills out when there is one, else 0.
 */
int command_manager_parse(const char *subject, const char *text, struct command_manager *out);

/* Split one line into a manager command's words (the verb lower-cased). */
void command_manager_split(const char *line, struct command_manager *cmd);

/* Subject with any run of Re:/Fwd:/AW:/SV:/... prefixes removed (malloc'd). */
char *command_strip_prefixes(const char *subject);

#endif
