/*
 * inspect: how mentord reads a raw message, for `mentorctl inspect`.
 *
 * The daemon's own code: mail_parse with the size cap of [limits]
 * max_message_size, bounce_parse for bounces, and reading_read (reading.h),
 * the one reading step the daemon acts on: kind, intent with its
 * confidence, arguments, profile fields, the person's own text and why.
 * Nothing is sent and nothing is written.  With the daemon's database (st),
 * the daemon's own steps run against it (programme_explain): the proof the
 * mail carries (a reply to which of our mails or refs, our server's DMARC
 * pass, or only claimed), the reading with what is known of the sender, and
 * what the change would do (act now, or a "reply to confirm" mail first).
 * Without one (st NULL) the sender is read as one mentord knows nothing of,
 * and what depends on the store is named in the "why" lines, not decided.
 */
#ifndef MENTORD_INSPECT_H
#define MENTORD_INSPECT_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "store.h"

/*
 * Print what mentord makes of one raw message to out: as text, or with json
 * set as one JSON object on one line.  label names the message in the output
 * (a file name, "FILE#2" for the second message of an mbox).  A message that
 * cannot be parsed is reported as kind "unparseable", not an error.  Returns
 * 0, or -1 when memory runs out.
 */
int inspect_message(const struct config *cfg, struct store *st, const char *raw, size_t len,
                    const char *label, int json, FILE *out);

/*
 * Inspect every message in buf: an mbox (first line "From ") is split on its
 * "From " lines with mboxrd's ">From " unescaped; anything else is one
 * message.  Returns 0, or -1 when memory runs out.
 */
int inspect_buffer(const struct config *cfg, struct store *st, const char *buf, size_t len,
                   const char *label, int json, FILE *out);

/*
 * Read path (an .eml file or an mbox) and inspect it.  Returns 0 when all
 * its messages were read, 1 when the file could not be read (the reason
 * goes to stderr).
 */
int inspect_file(const struct config *cfg, struct store *st, const char *path, int json, FILE *out);

#endif
