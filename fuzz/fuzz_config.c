/*
 * fuzz_config: config_load on an arbitrary INI file.
 *
 * A configuration only loads when its password file exists and is private,
 * so every "@PW@" in the input is replaced by the path of such a file that
 * the harness makes once (mode 600, in its scratch folder).  The seeds
 * (fuzz/regress/config, fuzz/config.dict) use it, so mutations start from
 * configurations that load and reach the code after the password check:
 * the derived defaults, the rules between keys, config_print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fuzz.h"

#define PLACEHOLDER "@PW@"

/* The private password file, made on the first call; NULL when it cannot be. */
static const char *
password_file(const char *dir)
{
    static char path[128];

    if (path[0] != '\0')
        return path;
    if (fuzz_write_file(dir, "pw", (const uint8_t *)"secret\n", 7) != 0)
        return NULL;
    snprintf(path, sizeof(path), "%s/pw", dir);
    if (chmod(path, 0600) != 0) {
        path[0] = '\0';
        return NULL;
    }
    return path;
}

/* data with every PLACEHOLDER replaced by pw; NULL when out of memory. */
static char *
substitute(const uint8_t *data, size_t size, const char *pw, size_t *outlen)
{
    size_t plen = strlen(PLACEHOLDER), wlen = strlen(pw), n = 0;
    char *out = malloc(size * (wlen > plen ? wlen / plen + 1 : 1) + 1);

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < size;) {
        if (size - i >= plen && memcmp(data + i, PLACEHOLDER, plen) == 0) {
            memcpy(out + n, pw, wlen);
            n += wlen;
            i += plen;
        } else {
            out[n++] = (char)data[i++];
        }
    }
    *outlen = n;
    return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_scratch_dir();
    const char *pw = dir != NULL ? password_file(dir) : NULL;
    struct config cfg;
    char path[128], err[512];
    size_t len;
    char *text;

    if (pw == NULL || (text = substitute(data, size, pw, &len)) == NULL)
        return 0;
    if (fuzz_write_file(dir, "input.ini", (const uint8_t *)text, len) != 0) {
        free(text);
        return 0;
    }
    free(text);
    snprintf(path, sizeof(path), "%s/input.ini", dir);
    if (config_load(path, &cfg, err, sizeof(err)) != 0)
        return 0;
    (void)config_domain(&cfg);
    (void)config_is_manager(&cfg, "a@example.org");
    FILE *null = fopen("/dev/null", "w");
    if (null != NULL) {
        config_print(&cfg, null);
        fclose(null);
    }
    config_free(&cfg);
    return 0;
}
