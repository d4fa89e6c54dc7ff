/*
 * reply: the text the person wrote, without what they quoted or signed.
 *
 * Input is the UTF-8 body text of a mail (as mail_parse gives it, LF line
 * ends; CRLF is tolerated).  Removed, as the common clients write them:
 *   - ">" quoted lines (and Supercite "Name>" lines), wherever they are: in
 *     an inline reply the person's lines between the quotes are kept, the
 *     quoted questions they answer are not (the text is read for commands,
 *     profile fields and check-in ratings, so no quoted line may reach it);
 *   - the attribution that introduces a quote: "On ... wrote:" and its
 *     translations ("Am ... schrieb", "Le ... a écrit", "El ... escribió",
 *     "... napisał(a):", "... 写道：", ...), also wrapped over several lines,
 *     and the date-first forms ("2016-10-24 15:36 GMT+02:00 Name <a@b>:");
 *   - everything from an unquoted original on: an attribution not followed by
 *     a quote, "-----Original Message-----" and other dash-wrapped separators,
 *     Outlook "From:/Sent:/To:/Subject:" blocks (and their translations),
 *     "________" rules, "Begin forwarded message:" (a forwarded message is
 *     someone else's text, also when nothing is written above it);
 *   - signatures from a "-- " (or "--") line on, and phone/app footers
 *     ("Sent from my iPhone", "Get Outlook for iOS", "Envoyé de mon iPhone").
 * "Best regards," and what follows it are kept: a sign-off is the person's.
 *
 * Text that only quotes (nothing written by the person) gives "" from
 * reply_extract: quoted text is never read for commands.  reply_read gives
 * that quoted or forwarded text instead, marked as sent along, for showing.
 * Linear in the size of the input, without regular expressions.
 */
#ifndef MENTORD_REPLY_H
#define MENTORD_REPLY_H

/* Where reply_read's text comes from. */
enum reply_origin {
    REPLY_OWN,        /* the person wrote it */
    REPLY_SENT_ALONG, /* nothing of their own: the quoted or forwarded text they sent */
    REPLY_NONE,       /* nothing at all ("") */
};

/*
 * The text of the reply, malloc'd: the person's own text (as reply_extract)
 * when there is any.  When the person wrote nothing of their own, it is what
 * they sent along instead, and *origin says so: the quote with its "> "
 * marks, a forwarded message without its separator and header block, or an
 * original pasted under an attribution ("On ... wrote:" lines left out).
 * That text is for showing (the answer that says "your mail had only quoted
 * text", mentorctl inspect); it is someone else's words, so nothing in it is
 * ever read for commands, profile fields or ratings.  Returns NULL only when
 * memory runs out.
 */
char *reply_read(const char *text, enum reply_origin *origin);

/*
 * The person's own text, malloc'd, with trailing spaces removed from each line
 * and leading/trailing blank lines removed ("" when nothing is left, also
 * when reply_read would give text sent along).  This is what commands,
 * profile fields and check-in ratings are read from.  text may
 * be NULL (treated as "").  Returns NULL only when memory runs out.
 */
char *reply_extract(const char *text);

#endif
