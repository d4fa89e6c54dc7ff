/*
 * configdoc: write the sample configuration or the manual page mentord.ini(5)
 * from the configuration key table.
 *
 *   configdoc ini > etc/mentord.ini
 *   configdoc man > man/mentord.ini.5
 *
 * `make config-docs` runs both; test_config checks the committed files match.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

int
main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "ini") == 0)
        config_doc_ini(stdout);
    else if (argc == 2 && strcmp(argv[1], "man") == 0)
        config_doc_man(stdout);
    else {
        fprintf(stderr, "usage: configdoc ini|man\n");
        return 2;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("configdoc: stdout");
        return 1;
    }
    return 0;
}
