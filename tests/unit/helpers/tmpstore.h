/*
 * tmpstore: a throw-away directory under /tmp for a unit test, and a SQLite
 * state store in it. tmpdir_remove deletes every file in the directory
 * (a store leaves -wal, -shm or -journal files beside it) and the directory.
 */
#ifndef MLC_TEST_TMPSTORE_H
#define MLC_TEST_TMPSTORE_H

#include <stddef.h>

#include "store/store.h"

/* mkdtemp of /tmp/mlc-<tag>-XXXXXX into dir; 0 or -1. */
int tmpdir_make(char *dir, size_t cap, const char *tag);
/* Removes the files directly in dir, then dir; missing is fine. */
void tmpdir_remove(const char *dir);

struct tmpstore {
    char          dir[64], db[96];  /* db: <dir>/mlc.db */
    struct store *st;               /* open */
};

/* A new directory and a store opened in it; 0, or -1 (nothing left behind). */
int tmpstore_open(struct tmpstore *t, const char *tag);
/* Closes the store and removes the directory; NULL-safe. */
void tmpstore_close(struct tmpstore *t);

#endif
