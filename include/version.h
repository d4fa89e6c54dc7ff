/*
 * version: the one place the release number is written (mentord --version,
 * mentorctl --version, the log's start line).  debian/changelog's upstream
 * version must agree; tests/test_docs.sh checks it.
 */
#ifndef MENTORD_VERSION_H
#define MENTORD_VERSION_H

#define MENTORD_VERSION "0.1.0"

#endif
