/*
 * imap: one libetpan IMAP session to the community's mailbox.
 *
 * Connects with implicit TLS, STARTTLS or plain text, verifies the server's
 * certificate (against the system trust store or a given CA file, and the host
 * name) before any credential is sent, logs in and selects a mailbox.  The
 * daemon drives it: search for new UIDs, fetch them (a batch per command), and
 * only after the messages' effects are committed, move or flag them.
 *
 * Functions return 0 on success, -1 on failure with imap_error() describing it
 * (including what the server said).  After a failure the session should be
 * closed and reconnected; the caller owns the backoff.
 */
#ifndef MENTORD_IMAP_H
#define MENTORD_IMAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct imap;

int imap_connect(const struct config_imap *cfg, struct imap **out, char *err, size_t errlen);

/*
 * imap_connect with cfg->auth: xoauth2 and oauthbearer log in with token (an
 * OAuth 2.0 access token, used for this login only and never logged),
 * password ignores it.  Returns IMAP_AUTH_REFUSED when the server answered
 * the login with NO (a wrong password, an expired or revoked token), so the
 * caller can fetch a new token and try once more; -1 on any other failure.
 */
enum { IMAP_AUTH_REFUSED = -2 };
int imap_connect_auth(const struct config_imap *cfg, const char *token, struct imap **out,
                      char *err, size_t errlen);
void imap_close(struct imap *im); /* LOGOUT when possible; NULL is fine */
const char *imap_error(const struct imap *im);

/* Capabilities seen after login. */
int imap_has_idle(const struct imap *im);
int imap_has_move(const struct imap *im);
int imap_has_uidplus(const struct imap *im);

/*
 * Act as if the server had not advertised these (an OR of IMAP_CAP_*): for
 * servers whose extension is broken, and to test the fallbacks (COPY +
 * EXPUNGE, NOOP polling).  Only ever turns features off.
 */
enum { IMAP_CAP_IDLE = 1, IMAP_CAP_MOVE = 2, IMAP_CAP_UIDPLUS = 4 };
void imap_disable_caps(struct imap *im, unsigned caps);

/* SELECT mailbox (read-write); reports UIDVALIDITY and UIDNEXT. */
int imap_select(struct imap *im, const char *mailbox, uint32_t *uidvalidity, uint32_t *uidnext);

/* Create a mailbox if it does not exist yet (used for processed_mailbox). */
int imap_ensure_mailbox(struct imap *im, const char *mailbox);

/*
 * UIDs of undeleted messages with first <= uid <= last (last 0 means no upper
 * bound), ascending, optionally only those without keyword (e.g.
 * "$MentordDone").  Never returns a UID outside the range, even though
 * "UID SEARCH UID n:*" on the server does.  *uids is malloc'd.
 */
int imap_search(struct imap *im, uint32_t first, uint32_t last, const char *without_keyword,
                uint32_t **uids, size_t *n);

/* The whole raw message (BODY.PEEK[], so \Seen is not set); *data is malloc'd, NUL-terminated. */
int imap_fetch(struct imap *im, uint32_t uid, char **data, size_t *len);

/* Move uid to dest: UID MOVE, else UID COPY + \Deleted + UID EXPUNGE (plain EXPUNGE without
 * UIDPLUS). */
int imap_move(struct imap *im, uint32_t uid, const char *dest);

/* Add flags to uid, e.g. "\\Seen" or a keyword "$MentordDone". */
int imap_add_flag(struct imap *im, uint32_t uid, const char *flag);

/*
 * Batches: one command for many messages, so a large inbox costs a round trip
 * per batch rather than per message.  Fill in uid (ascending) of each entry;
 * messages the server does not answer for (expunged meanwhile) keep found = 0.
 */
struct imap_message {
    uint32_t uid;
    uint32_t size; /* RFC822.SIZE (imap_fetch_sizes) */
    int found;     /* the server returned what was asked for this message */
    int whole;     /* data is the whole message already (imap_fetch_sizes_heads) */
    char *data;    /* imap_fetch_bodies: malloc'd, NUL-terminated */
    size_t len;
};

/* UID FETCH uids RFC822.SIZE: sets size and found. */
int imap_fetch_sizes(struct imap *im, struct imap_message *msgs, size_t n);
/*
 * UID FETCH uids (RFC822.SIZE BODY.PEEK[]<0.head>), head at most limit (0:
 * no limit): the sizes, as imap_fetch_sizes, and in the same round trip the
 * whole of every message shorter than head (data, len, whole set).  The
 * others keep no data; imap_fetch_bodies then fetches only those.
 */
#define IMAP_SMALL_HEAD (8u << 10)
int imap_fetch_sizes_heads(struct imap *im, struct imap_message *msgs, size_t n, uint32_t head,
                           uint32_t limit);
/*
 * UID FETCH uids BODY.PEEK[]<0.limit> (0: all): sets data, len and found.  A
 * message whose RFC822.SIZE (imap_fetch_sizes) is limit or more is too large
 * to be read: only its first min(limit, IMAP_OVER_HEAD) bytes are fetched.
 * A message that is whole already is left as it is.
 */
#define IMAP_OVER_HEAD (256u << 10)
/* What imap_fetch_bodies fetches of a message of size bytes under limit (0: all). */
uint32_t imap_fetch_bytes(uint32_t size, uint32_t limit);

int imap_fetch_bodies(struct imap *im, struct imap_message *msgs, size_t n, uint32_t limit);
/* Free the bodies (not the array). */
void imap_messages_clear(struct imap_message *msgs, size_t n);
/* imap_move / imap_add_flag for many UIDs at once (one UID MOVE, one UID STORE). */
int imap_move_many(struct imap *im, const uint32_t *uids, size_t n, const char *dest);
int imap_add_flag_many(struct imap *im, const uint32_t *uids, size_t n, const char *flag);

/* 1 when the selected mailbox accepts keyword flags (PERMANENTFLAGS has \*). */
int imap_keywords_allowed(const struct imap *im);
/* UID STORE -FLAGS.SILENT (flag). */
int imap_remove_flag(struct imap *im, uint32_t uid, const char *flag);
/*
 * UIDs of undeleted messages in the selected mailbox carrying keyword, or
 * (keyword NULL) whose header has value; *uids malloc'd, sorted.
 */
int imap_search_mark(struct imap *im, const char *keyword, const char *header, const char *value,
                     uint32_t **uids, size_t *n);

/*
 * Give back the memory of the largest response so far: libetpan grows its
 * receive buffers to the biggest FETCH answer (a batch of mail) and never
 * shrinks them.  Call between commands, e.g. after a pass over the inbox.
 */
void imap_release_memory(struct imap *im);

/*
 * Wait for new mail for at most timeout seconds: IDLE when the server has it
 * (the caller re-issues it at least every 9 minutes by passing timeout <= 540),
 * otherwise sleeping and NOOP.  IDLE returns after at most 20 s even so, for
 * the caller to select again (a mailbox re-created under us, with a new
 * UIDVALIDITY, sends an idling session nothing).  Returns early when *stop becomes non-zero
 * (checked at least once a second).  Returns 1 when the server announced new
 * mail (EXISTS/RECENT), 0 on timeout or stop, -1 on error.  Either way the
 * caller then searches for new UIDs, so nothing arriving in between is missed.
 */
int imap_wait(struct imap *im, int timeout, int use_idle, volatile sig_atomic_t *stop);

/* NOOP, to check the connection is alive. */
int imap_noop(struct imap *im);

#endif
