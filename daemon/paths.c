/*
 * paths: the data directory, relative to the running executable first.
 *
 * /proc/self/exe names the binary actually running, whatever PREFIX it was
 * built with: /opt/mentord/sbin/mentord finds /opt/mentord/share/mentord.
 * The candidate counts only when it holds a templates folder, so a binary in
 * the build tree (build/mentord) falls back to the compiled-in directory.
 */
#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MENTORD_DATADIR
#define MENTORD_DATADIR "/usr/local/share/mentord"
#endif

/* EXE/../share/mentord when it has a templates folder; 0 found, -1 not. */
static int
paths_beside_exe(char *out, size_t len)
{
    char exe[PATH_MAX], probe[PATH_MAX + 32];
    struct stat sb;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0'; /* the bin or sbin directory */
    slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0'; /* the prefix ("" for /sbin) */
    if (snprintf(probe, sizeof(probe), "%s/share/mentord/templates", exe) >= (int)sizeof(probe) ||
        stat(probe, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return -1;
    return snprintf(out, len, "%s/share/mentord", exe) < (int)len ? 0 : -1;
}

/* The data directory ("/usr/share/mentord", ...) into out; 0, or -1 when it does not fit. */
static int
paths_datadir(char *out, size_t len)
{
    if (paths_beside_exe(out, len) == 0)
        return 0;
    return snprintf(out, len, "%s", MENTORD_DATADIR) < (int)len ? 0 : -1;
}

int
paths_templates_dir(char *out, size_t len)
{
    char data[PATH_MAX];

    if (paths_datadir(data, sizeof(data)) != 0)
        return -1;
    return snprintf(out, len, "%s/templates", data) < (int)len ? 0 : -1;
}
