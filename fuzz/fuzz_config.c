/*
 * fuzz_config: config_load on an arbitrary INI file.  The password files it
 * names will rarely exist; the error paths are what is being exercised.
 */
#include <stdio.h>

#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_scratch_dir();
    struct config cfg;
    char path[128], err[512];

    if (dir == NULL || fuzz_write_file(dir, "input.ini", data, size) != 0)
        return 0;
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
