/*
 * paths: where the installed data files are, found at run time.
 *
 * `make install PREFIX=P` puts the programs in P/sbin and P/bin and the
 * templates in P/share/mentord/templates.  The programs look for their data
 * beside themselves (EXE/../share/mentord), so a binary built for one PREFIX
 * and installed under another still finds its templates; the data directory
 * compiled in (MENTORD_DATADIR) is only the fallback, for a binary run from
 * somewhere else (the build tree).
 */
#ifndef MENTORD_PATHS_H
#define MENTORD_PATHS_H

#include <stddef.h>


/* The default [templates] dir: paths_datadir() + "/templates". */
int paths_templates_dir(char *out, size_t len);

#endif
