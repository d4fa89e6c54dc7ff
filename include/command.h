/*
 * command: what the person asked for, from the Subject or the first lines of
 * the body.  Forgiving: case-insensitive, reply/forward prefixes (Re:, Fwd:,
 * AW:, SV:, ...) ignored, a few synonyms.  Quoted text is never read.
 */
#ifndef MENTORD_COMMAND_H
#define MENTORD_COMMAND_H

enum command_kind {
    COMMAND_NONE = 0, /* nothing recognised: answer with help */
    COMMAND_JOIN,     /* a newcomer wants a mentor */
    COMMAND_MENTOR,   /* a member volunteers as a mentor */
    COMMAND_HELP,
};

struct command {
    enum command_kind kind;
    int from_subject; /* 1 when found in the Subject, 0 when in the body */
};

/* Find the command in subject (may be NULL) or body (may be NULL). */
void command_parse(const char *subject, const char *body, struct command *out);
const char *command_name(enum command_kind kind);

/* Subject with any run of Re:/Fwd:/AW:/SV:/... prefixes removed (malloc'd). */
char *command_strip_prefixes(const char *subject);

#endif
