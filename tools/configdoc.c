/*
 * configdoc: write the documentation made from the tables: the sample
 * configuration and the manual page mentord.ini(5) from the configuration
 * key table, and mentord(8)'s list of mail commands from the command table.
 *
 *   configdoc ini > etc/mentord.ini
 *   configdoc man > man/mentord.ini.5
 *   configdoc commands      (the block `make config-docs` puts in man/mentord.8)
 *
 * `make config-docs` runs them; test_config and test_reading check the
 * committed files match.
 */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "config.h"

int
main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "ini") == 0)
        config_doc_ini(stdout);
    else if (argc == 2 && strcmp(argv[1], "man") == 0)
        config_doc_man(stdout);
    else if (argc == 2 && strcmp(argv[1], "commands") == 0)
        command_doc_man(stdout);
    else {
        fprintf(stderr, "usage: configdoc ini|man|commands\n");
        return 2;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("configdoc: stdout");
        return 1;
    }
    return 0;
}
