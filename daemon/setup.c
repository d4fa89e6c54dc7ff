/*
 * setup: checks of the operator's part (folders, templates) and the one
 * notice to the managers when it breaks at run time.
 */
#include "setup.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lang.h"
#include "log.h"
#include "outbox.h"
#include "template.h"

const char *const setup_templates[] = {
    "already",
    "ask-role",
    "capacity",
    "capacity-refused",
    "checkin",
    "checkin-batch",
    "checkin-unclear",
    "circle-introduction",
    "circle-proposal",
    "closing",
    "confirm-action",
    "confirm-expired",
    "confirm-join",
    "confirm-leave",
    "confirm-mentor",
    "digest",
    "farewell",
    "feedback-thanks",
    "help",
    "introduction",
    "introduction-one",
    "invite-mentor",
    "join",
    "language",
    "manager-alert",
    "manager-alert-item",
    "manager-confirm",
    "manager-done",
    "mentor",
    "milestone",
    "no-pairing",
    "not-member",
    "oauth-refused",
    "pair-done",
    "pair-which",
    "partner-left",
    "partner-pointer",
    "pause",
    "pause-ending",
    "profile",
    "proposal",
    "proposal-accepted",
    "proposal-again",
    "proposal-closed",
    "proposal-declined",
    "rematch",
    "rematch-offer",
    "rematch-partner",
    "reminder",
    "resume",
    "status",
    "too-large",
    "undeliverable",
    "waitlist",
};
const size_t setup_ntemplates = sizeof(setup_templates) / sizeof(setup_templates[0]);

/* A folder mentord must read (mode R) or read and write (mode W). */
static int
setup_folder(const char *what, const char *dir, int writable, char *err, size_t errlen)
{
    struct stat sb;

    if (stat(dir, &sb) != 0) {
        snprintf(err, errlen, "%s folder %s: %s", what, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s folder %s: not a folder", what, dir);
        return -1;
    }
    if (access(dir, writable ? R_OK | W_OK | X_OK : R_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s folder %s: %s for user %ld", what, dir, strerror(errno),
                 (long)geteuid());
        return -1;
    }
    return 0;
}

/* Every folder of the search path "A:B" readable (the texts are checked per language below). */
static int
setup_check_templates(const char *path, FILE *report, char *err, size_t errlen)
{
    char dir[PATH_MAX];

    for (const char *p = path;;) {
        size_t n = strcspn(p, ":");
        if (n >= sizeof(dir)) {
            snprintf(err, errlen, "templates folder path too long");
            return -1;
        }
        memcpy(dir, p, n);
        dir[n] = '\0';
        if (setup_folder("templates", dir, 0, err, errlen) != 0)
            return -1;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    if (report != NULL)
        fprintf(report, "templates: %s readable\n", path);
    return 0;
}

/*
 * The texts in the community's language and in the managers': each must be
 * found (in that language, or in the community's as its fallback) and
 * render, or a member's mail would wait on an operator's mistake.
 */
static int
setup_check_languages(const struct config *cfg, FILE *report, char *err, size_t errlen)
{
    const char *lang = cfg->templates.language ? cfg->templates.language : "en";
    const char *codes[] = {lang, cfg->templates.managers_language};
    char path[PATH_MAX * 4];

    for (size_t i = 0; i < 2; i++) {
        if (codes[i] == NULL || (i == 1 && strcmp(codes[0], codes[1]) == 0))
            continue;
        if (lang_template_path(cfg->templates.dir, codes[i], lang, path,
                               sizeof(path)) != 0) {
            snprintf(err, errlen, "templates folder path too long");
            return -1;
        }
        for (size_t t = 0; t < setup_ntemplates; t++)
            if (template_check(path, setup_templates[t], err, errlen) != 0)
                return -1;
        if (report != NULL)
            fprintf(report, "templates (%s): %zu found, each rendered once\n", codes[i],
                    setup_ntemplates);
    }
    return 0;
}

/* The database's folder writable (SQLite creates the WAL beside it), the file read-write. */
static int
setup_check_store(const char *path, FILE *report, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path) >=
             (int)sizeof(dir)) {
        snprintf(err, errlen, "database path too long");
        return -1;
    }
    if (setup_folder("database", dir, 1, err, errlen) != 0)
        return -1;
    if (access(path, F_OK) == 0 && access(path, R_OK | W_OK) != 0) {
        snprintf(err, errlen, "database %s: %s for user %ld", path, strerror(errno),
                 (long)geteuid());
        return -1;
    }
    if (report != NULL)
        fprintf(report, "database: %s (folder %s writable)\n", path, dir);
    return 0;
}

int
setup_check(const struct config *cfg, FILE *report, char *err, size_t errlen)
{
    if (setup_check_store(cfg->store.path, report, err, errlen) != 0 ||
        setup_check_templates(cfg->templates.dir, report, err, errlen) != 0 ||
        setup_check_languages(cfg, report, err, errlen) != 0)
        return -1;
    return 0;
}

static const char setup_notice_body[] =
    "mentord has stopped taking mail from the inbox of %s because of a problem\n"
    "with its installation, not with anyone's mail:\n"
    "\n"
    "    %s\n"
    "\n"
    "Nothing is lost: the mail stays in the inbox and is answered as soon as the\n"
    "problem is fixed (mentord checks again on its own, or at once on reload).\n"
    "`mentord --check-config` names every problem it finds.\n"
    "\n"
    "This notice is sent once for this problem.\n";

int
setup_fault(const struct config *cfg, struct store *st, const char *problem, time_t now)
{
    if (store_begin(st) != 0)
        goto fail;
    int first = store_setup_fault(st, problem, now);
    if (first < 0)
        goto fail;
    if (first) {
        char *body = NULL, err[256];
        if (asprintf(&body, setup_notice_body, cfg->community.address, problem) < 0)
            goto fail;
        int rc = outbox_notice_managers(cfg, st,
                                        "mentord has stopped taking mail: installation problem",
                                        body, now, err, sizeof(err));
        free(body);
        if (rc != 0) {
            log_error("setup: %s", err);
            goto fail;
        }
    }
    if (store_commit(st) != 0)
        goto fail;
    if (first)
        log_error("setup: managers told: %s", problem);
    return 0;
fail:
    log_error("setup: recording the installation problem: %s", store_errmsg(st));
    store_rollback(st);
    return -1;
}

int
setup_ok(struct store *st, time_t now)
{
    if (store_begin(st) != 0)
        goto fail;
    int was = store_setup_ok(st, now);
    if (was < 0 || store_commit(st) != 0)
        goto fail;
    return was;
fail:
    log_error("setup: closing the installation problem: %s", store_errmsg(st));
    store_rollback(st);
    return -1;
}
