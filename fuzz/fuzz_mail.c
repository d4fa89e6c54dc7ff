/*
 * fuzz_mail: everything the daemon does with an incoming message before it
 * touches the store -- parse, classify, read a bounce, extract the reply,
 * find the command and the profile.  The input is the raw message.
 */
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "classify.h"
#include "command.h"
#include "fuzz.h"
#include "mail.h"
#include "profile.h"
#include "reply.h"

/* What the daemon reads once it has the person's own text. */
static void
fuzz_person(const struct mail *m)
{
    struct command cmd;
    struct profile p;
    char ref[COMMAND_TOKEN_LEN + 1];
    char *text = reply_extract(m->text);

    if (text == NULL)
        return;
    command_parse(m->subject, text, &cmd);
    command_parse(NULL, text, &cmd);
    if (m->subject != NULL) {
        command_find_ref(m->subject, ref);
        free(command_strip_prefixes(m->subject));
    }
    command_find_ref(text, ref);
    /* A plus-address detail can be anything after the '+'. */
    if (m->subject != NULL)
        command_from_detail(m->subject, &cmd);
    if (profile_parse(text, &p) == 0) {
        char *s = profile_serialise(&p);
        char *d = profile_describe(&p);
        int ok;
        profile_utc_offset(&p, 1700000000, &ok);
        free(s);
        free(d);
        profile_free(&p);
    }
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *raw = (const char *)data;
    struct mail *m = NULL;
    struct bounce_info b;
    const char *reason = NULL;
    char err[256];

    if (mail_parse(raw, size, &m, err, sizeof(err)) != 0)
        return 0;
    enum classify_kind kind = classify_mail(m, "mentors@example.org", &reason);
    (void)classify_name(kind);
    (void)mail_header(m, "Auto-Submitted");
    /* Every message, not only the classified bounces: bounce_parse must take any mail. */
    if (bounce_parse(m, raw, size, &b) == 0)
        bounce_free(&b);
    fuzz_person(m);
    mail_free(m);
    return 0;
}
