/*
 * Tests for setup (the operator's part, checked), store_file (private modes,
 * backup, restore) and template_check: a missing or broken template and an
 * unwritable database folder are found before any member's mail meets them;
 * the managers are told once per problem; the database is private whatever
 * the umask.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "setup.h"
#include "store.h"
#include "template.h"
#include "testutil.h"

/* setup_templates names exactly the templates the source tree ships (in English, the reference). */
static void
test_template_table_matches_the_shipped_files(void **state)
{
    DIR *d = opendir(MENTORD_SRCDIR "/templates/en");
    struct dirent *e;
    size_t files = 0;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".txt") != 0)
            continue;
        files++;
        int found = 0;
        for (size_t i = 0; i < setup_ntemplates; i++)
            found |= strlen(setup_templates[i]) == n - 4 &&
                     strncmp(setup_templates[i], e->d_name, n - 4) == 0;
        if (!found)
            fail_msg("templates/en/%s is not in setup_templates", e->d_name);
    }
    closedir(d);
    assert_int_equal(files, setup_ntemplates);
}

/* A folder with every shipped template, as the test's own copy. */
static void
copy_templates(const char *to)
{
    char cmd[4200];

    snprintf(cmd, sizeof(cmd), "cp %s/templates/en/*.txt '%s'/", MENTORD_SRCDIR, to);
    assert_int_equal(system(cmd), 0);
}

static void
test_check_passes_then_names_each_problem(void **state)
{
    struct config cfg;
    char *managers[2], dir[64], tdir[128], db[160], err[512];

    (void)state;
    tu_test_config(&cfg, managers);
    assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "setup"), 0);
    snprintf(tdir, sizeof(tdir), "%s/tpl", dir);
    assert_int_equal(mkdir(tdir, 0755), 0);
    copy_templates(tdir);
    snprintf(db, sizeof(db), "%s/mentord.db", dir);
    cfg.templates.dir = tdir;
    cfg.store.path = db;
    if (setup_check(&cfg, NULL, err, sizeof(err)) != 0)
        fail_msg("setup_check: %s", err);

    /* a template missing */
    char path[256];
    snprintf(path, sizeof(path), "%s/help.txt", tdir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(setup_check(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "help.txt"));

    /* a broken one */
    assert_int_equal(tu_write_file(tdir, "help.txt", "Subject: Help\n\n{{#open}}never closed\n"),
                     0);
    assert_int_equal(setup_check(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not closed"));

    /* a search path: the first folder has only one template, the second the rest */
    copy_templates(tdir);
    char search[300], own[128];
    snprintf(own, sizeof(own), "%s/own", dir);
    assert_int_equal(mkdir(own, 0755), 0);
    assert_int_equal(tu_write_file(own, "help.txt", "Subject: Our help\n\nHello {{to_name}}\n"), 0);
    snprintf(search, sizeof(search), "%s:%s", own, tdir);
    cfg.templates.dir = search;
    assert_int_equal(setup_check(&cfg, NULL, err, sizeof(err)), 0);
    /* ... and a folder of the path that is not there */
    snprintf(search, sizeof(search), "%s/gone:%s", dir, tdir);
    assert_int_equal(setup_check(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "templates folder"));

    /* the database's folder missing */
    cfg.templates.dir = tdir;
    snprintf(db, sizeof(db), "%s/no-such/mentord.db", dir);
    assert_int_equal(setup_check(&cfg, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "database folder"));
    tu_rmrf(dir);
}

/* template_check sets every variable: a template is checked without knowing its variables. */
static void
test_template_check_needs_no_variables(void **state)
{
    char dir[64], err[256];

    (void)state;
    assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "tcheck"), 0);
    assert_int_equal(tu_write_file(dir, "a.txt", "Subject: Hi {{name}}\n\n{{#x}}{{y}}{{/x}}\n"), 0);
    assert_int_equal(template_check(dir, "a", err, sizeof(err)), 0);
    assert_int_equal(template_check(dir, "missing", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "missing.txt"));
    tu_rmrf(dir);
}

static int
count_outbox(const struct store_outbox *o, void *arg)
{
    (void)o;
    (*(int *)arg)++;
    return 0;
}

/* The managers hear of a problem once; a fixed problem and a new one are told again. */
static void
test_fault_told_once(void **state)
{
    struct config cfg;
    struct store *st;
    char *managers[2], err[256];
    int n = 0;

    (void)state;
    tu_test_config(&cfg, managers);
    cfg.community.n_managers = 2;
    assert_int_equal(store_open(":memory:", &st, err, sizeof(err)), 0);
    assert_int_equal(setup_fault(&cfg, st, "template help.txt: No such file", 1000), 0);
    assert_int_equal(setup_fault(&cfg, st, "template help.txt: No such file", 1060), 0);
    assert_int_equal(setup_fault(&cfg, st, "template help.txt: No such file", 1120), 0);
    assert_int_equal(store_outbox_each(st, "queued", count_outbox, &n), 0);
    assert_int_equal(n, 2); /* one per manager */
    assert_int_equal(setup_ok(st, 1200), 1);
    assert_int_equal(setup_ok(st, 1260), 0);
    assert_int_equal(setup_fault(&cfg, st, "templates folder /x: Permission denied", 1300), 0);
    n = 0;
    assert_int_equal(store_outbox_each(st, "queued", count_outbox, &n), 0);
    assert_int_equal(n, 4);
    store_close(st);
}

static mode_t
mode_of(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return sb.st_mode & 0777;
}

/* 0600 whatever the umask, for the database, its WAL and a backup; restore brings it back. */
static void
test_private_files_backup_restore(void **state)
{
    char dir[64], db[128], wal[140], bak[128], err[512];
    struct store *st;
    mode_t old = umask(022);

    (void)state;
    assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "files"), 0);
    snprintf(db, sizeof(db), "%s/m.db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", db);
    snprintf(bak, sizeof(bak), "%s/backup.db", dir);
    assert_int_equal(store_open(db, &st, err, sizeof(err)), 0);
    assert_int_equal(store_event_add(st, 1, "before", NULL, NULL, NULL), 0);
    assert_int_equal(mode_of(db), 0600);
    assert_int_equal(mode_of(wal), 0600);
    assert_int_equal(store_backup(st, bak, err, sizeof(err)), 0);
    assert_int_equal(mode_of(bak), 0600);
    assert_int_equal(store_event_add(st, 2, "after", NULL, NULL, NULL), 0);
    assert_int_equal(store_event_count(st, NULL), 2);
    /* restore refuses while a daemon holds the lock */
    int lock = store_daemon_lock(db, err, sizeof(err));
    assert_true(lock >= 0);
    assert_int_equal(store_restore(db, bak, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "running"));
    close(lock);
    store_close(st);
    assert_int_equal(store_restore(db, bak, err, sizeof(err)), 0);
    assert_int_equal(store_open(db, &st, err, sizeof(err)), 0);
    assert_int_equal(store_event_count(st, NULL), 1);
    store_close(st);
    /* not a database: refused, the database untouched */
    assert_int_equal(tu_write_file(dir, "junk.db", "hello\n"), 0);
    char junk[128];
    snprintf(junk, sizeof(junk), "%s/junk.db", dir);
    assert_int_equal(store_restore(db, junk, err, sizeof(err)), -1);
    /* an old database readable by all is made private */
    assert_int_equal(chmod(db, 0644), 0);
    assert_int_equal(store_open(db, &st, err, sizeof(err)), 0);
    assert_int_equal(mode_of(db) & 007, 0);
    store_close(st);
    umask(old);
    tu_rmrf(dir);
}

/*
 * A database another process keeps locked is the environment's trouble (the
 * message that met it is not at fault); a row the decision itself gets
 * refused is the decision's own.  Costs the store's 5 s busy timeout.
 */
static void
test_environment_errors_told_apart(void **state)
{
    struct store *st;
    sqlite3 *other = NULL;
    char dir[64], db[128], err[256];

    (void)state;
    assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "busy"), 0);
    snprintf(db, sizeof(db), "%s/m.db", dir);
    assert_int_equal(store_open(db, &st, err, sizeof(err)), 0);
    assert_int_equal(sqlite3_open(db, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_begin(st), -1);
    assert_int_equal(store_error_is_environment(st), 1);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(store_begin(st), 0);
    assert_int_equal(store_savepoint(st), 0);
    assert_int_equal(store_error_is_environment(st), 0);
    /* a refused row: the schema's own check */
    assert_int_equal(store_message_record(st,
                                          &(struct store_message){.mailbox = "INBOX",
                                                                  .uidvalidity = 1,
                                                                  .uid = 1,
                                                                  .outcome = NULL},
                                          1),
                     -1);
    assert_int_equal(store_error_is_environment(st), 0);
    store_rollback(st);
    store_close(st);
    tu_rmrf(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_table_matches_the_shipped_files),
        cmocka_unit_test(test_check_passes_then_names_each_problem),
        cmocka_unit_test(test_template_check_needs_no_variables),
        cmocka_unit_test(test_fault_told_once),
        cmocka_unit_test(test_private_files_backup_restore),
        cmocka_unit_test(test_environment_errors_told_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
