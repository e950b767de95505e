#include "helpers/tmpstore.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tmpdir_make(char *dir, size_t cap, const char *tag)
{
    int n = snprintf(dir, cap, "/tmp/mlc-%s-XXXXXX", tag);

    return n > 0 && (size_t)n < cap && mkdtemp(dir) != NULL ? 0 : -1;
}

void tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int tmpstore_open(struct tmpstore *t, const char *tag)
{
    memset(t, 0, sizeof(*t));
    if (tmpdir_make(t->dir, sizeof(t->dir), tag) != 0)
        return -1;
    snprintf(t->db, sizeof(t->db), "%s/mlc.db", t->dir);
    if (store_open(t->db, &t->st, NULL) != MLC_OK) {
        tmpdir_remove(t->dir);
        return -1;
    }
    return 0;
}

void tmpstore_close(struct tmpstore *t)
{
    if (t == NULL)
        return;
    store_close(t->st);
    t->st = NULL;
    if (t->dir[0] != '\0')
        tmpdir_remove(t->dir);
}
