/*
 * config_int.h: the configuration key table, private to the config module
 * (config.c loads and prints with it, config_keys.c holds it, config_doc.c
 * writes the sample file and the manual page from it).  No other file
 * includes this header.
 *
 * Each key is described once, in config_keys.c: its section and name, the
 * type of its value, the range, the default as it would be written in the
 * file, and the text that documents it.  Everything else (the defaults a
 * loaded configuration starts from, --check-config's printout,
 * etc/mentord.ini and mentord.ini(5)) is derived from that table.
 */
#ifndef MENTORD_CONFIG_INT_H
#define MENTORD_CONFIG_INT_H

#include <stddef.h>

#include "config.h"

#ifndef MENTORD_DATADIR
#define MENTORD_DATADIR "/usr/local/share/mentord"
#endif
#define CONFIG_DEFAULT_TEMPLATES_DIR MENTORD_DATADIR "/templates"

enum config_key_type {
    CK_STR,      /* any text without control characters */
    CK_ADDR,     /* an addr-spec */
    CK_ADDRLIST, /* comma-separated addr-specs (community.managers; not at offset) */
    CK_HOST,     /* a host name or IP address */
    CK_BOOL,
    CK_INT,      /* decimal integer in [min, max] */
    CK_DURATION, /* seconds, or a number with an s/m/h/d/w suffix, in [min, max] seconds */
    CK_SIZE,     /* bytes, or a number with a k/M/G suffix (powers of 1024), in [min, max] */
    CK_REAL,     /* a decimal number in [min, max] */
    CK_CHOICE,   /* one of the words in choices ("a|b|c"), case-sensitive */
    CK_SECURITY, /* tls, starttls or none */
    CK_LEVEL,    /* a log level */
    CK_READABLE, /* path of a file that must be readable now (tls_ca_file) */
    CK_AUTH,     /* password, xoauth2 or oauthbearer */
};

/* Flags of a key. */
enum {
    CKF_REQUIRED = 1 << 0, /* the file must set it */
    CKF_EMPTY = 1 << 1,    /* "key =" (an empty value) is allowed */
    CKF_SECRET = 1 << 2,   /* a password file: read at load time, its content never printed */
    CKF_DERIVED = 1 << 3,  /* printed commented out: the effective value comes from other keys */
    CKF_SHOWN = 1 << 4,    /* the sample file sets it (not commented out), with the example */
};

struct config_key {
    const char *section;
    const char *name;
    enum config_key_type type;
    size_t offset; /* of the field in struct config */
    int min, max;  /* CK_INT, CK_DURATION, CK_SIZE, CK_REAL */
    unsigned flags;
    /*
     * The default as it would be written in the file ("3d", "yes", "INBOX"),
     * parsed by the same code as the file's values; NULL when there is none
     * or when it is derived from other keys (then defdoc says how).
     */
    const char *def;
    const char *defdoc;  /* the default in words, when def cannot say it */
    const char *choices; /* CK_CHOICE: "pairs|circles" */
    const char *example; /* shown in the sample file instead of def */
    const char *doc;     /* what it does; "\n" starts a new line */
};

struct config_section {
    const char *name;
    const char *doc;
};

extern const struct config_key config_keys[];
extern const size_t config_keys_count;
extern const struct config_section config_keys_sections[];
extern const size_t config_keys_sections_count;

#endif
