/*
 * console_assets: the console's HTML, CSS and JavaScript, embedded in the
 * binary. The table is generated at build time from the files under web/
 * by tools/embed.c (the build's own C compiler, nothing else), into
 * $(BUILD)/gen/console_assets.c; edit web/, never the generated file.
 */
#ifndef MLC_CONSOLE_CONSOLE_ASSETS_H
#define MLC_CONSOLE_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
    const char          *path;         /* "/index.html", "/app.js" */
    const char          *content_type; /* static */
    const unsigned char *data;
    size_t               len;
};

/* The asset served at path, or NULL. */
const struct console_asset *console_asset_find(const char *path);

#endif
