# A private, throw-away PostgreSQL server for the benchmarks (sourced,
# never run): initdb in a temp dir, pg_ctl listening only on a Unix socket
# in that dir, a role "mlc". The same recipe as tests/lib/pg-server (on the
# PostgreSQL branch), as functions a script with its own EXIT trap can call.
#
#   . bench/pg.bash
#   pg_available || echo "no server: $PG_WHY"
#   pg_start              # a server in a new temp dir
#   url=$(pg_createdb "$PG_ADMIN_URL" "$PG_URL" NAME)   # a fresh database
#   pg_sql URL QUERY      # rows, tab-separated, no header
#   pg_stop               # from the caller's EXIT trap; idempotent
#
# After pg_start: PG_URL (postgresql:///mlc?host=DIR&user=mlc: role and
# database "mlc"), PG_ADMIN_URL (the superuser "postgres"), PG_DIR (the temp
# dir: data, socket, logs; pg_stop removes it unless PG_KEEP is set).
# PostgreSQL refuses to run as root: as root the server runs as the
# "postgres" user (runuser), which owns DIR. Binaries: PG_BINDIR, else the
# newest /usr/lib/postgresql/*/bin (scripts/install-deps: postgresql-15).
# pg_hba trusts every local connection: the socket's directory is private.

PG_STARTED=""

# pg_available: 0 when a server can be started here; else 1 with the
# reason in PG_WHY.
pg_available() {
    local d b
    PG_WHY=""
    if [ -z "${PG_BINDIR:-}" ]; then
        for d in /usr/lib/postgresql/*/bin; do
            [ -d "$d" ] || continue
            if [ -z "${PG_BINDIR:-}" ] || [ "$(printf '%s\n%s\n' "$PG_BINDIR" "$d" | sort -V | tail -n 1)" = "$d" ]; then
                PG_BINDIR="$d"
            fi
        done
    fi
    for b in initdb pg_ctl psql; do
        if [ -z "${PG_BINDIR:-}" ] || [ ! -x "$PG_BINDIR/$b" ]; then
            PG_WHY="no $b in ${PG_BINDIR:-/usr/lib/postgresql/*/bin} (scripts/install-deps installs postgresql-15)"
            return 1
        fi
    done
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { PG_WHY="running as root and there is no postgres user"; return 1; }
        command -v runuser >/dev/null || { PG_WHY="running as root without runuser"; return 1; }
        PG_AS=(runuser -u postgres --)
    fi
    return 0
}

# pg_start: initdb and start; returns 1 with the logs on stderr when
# either fails. fsync stays on: the figures are those of a durable store.
pg_start() {
    local opts
    pg_available || { echo "pg_start: $PG_WHY" >&2; return 1; }
    # Its own dir: a caller's private temp dir is closed to "postgres".
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mlc-pg.XXXXXX") || return 1
    [ ${#PG_AS[@]} -eq 0 ] || chown postgres: "$PG_DIR"
    chmod 0700 "$PG_DIR"
    if ! "${PG_AS[@]}" "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
            --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1; then
        echo "pg_start: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; return 1
    fi
    # Connections: each `mlc run` holds one per worker plus a few (tasks,
    # leader, webhooks); 4 processes and the bench's own queries fit.
    opts="-c listen_addresses='' -k $PG_DIR -c fsync=on -c max_connections=120"
    opts+=" -c shared_buffers=64MB -c log_min_messages=warning"
    if ! "${PG_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
            -o "$opts" -w -t 60 start >/dev/null 2>&1; then
        echo "pg_start: the server did not start:" >&2; cat "$PG_DIR/server.log" >&2; return 1
    fi
    PG_STARTED=1
    PG_ADMIN_URL="postgresql:///postgres?host=$PG_DIR&user=postgres"
    # shellcheck disable=SC2034  # for the caller
    PG_URL="postgresql:///mlc?host=$PG_DIR&user=mlc"
    if ! "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" \
            -c "CREATE ROLE mlc LOGIN" -c "CREATE DATABASE mlc OWNER mlc" \
            >"$PG_DIR/setup.log" 2>&1; then
        echo "pg_start: cannot create the role and database:" >&2; cat "$PG_DIR/setup.log" >&2
        return 1
    fi
}

pg_stop() {
    if [ -n "$PG_STARTED" ]; then
        "${PG_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            "${PG_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
        PG_STARTED=""
    fi
    if [ -n "${PG_DIR:-}" ] && [ -z "${PG_KEEP:-}" ]; then rm -rf "$PG_DIR"; fi
    PG_DIR=""
}

# pg_psql URL ARGS...: psql without a startup file, stopping at the first
# error. psql from the server's bindir, else the one on PATH.
pg_psql() {
    local psql="psql" url="$1"; shift
    [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/psql" ] && psql="$PG_BINDIR/psql"
    "$psql" -X -q -v ON_ERROR_STOP=1 "$url" "$@"
}

# pg_sql URL QUERY: the rows, fields separated by tabs, no header.
pg_sql() { pg_psql "$1" -A -t -F $'\t' -c "$2"; }

# pg_url_with_db URL NAME: URL naming database NAME instead.
pg_url_with_db() {
    sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/'"$2"'#' <<<"$1"
}

# pg_url_user URL: the role a URL connects as (user= or user@), else "".
pg_url_user() {
    local u
    u=$(sed -nE 's#.*[?&]user=([^&]*).*#\1#p' <<<"$1")
    [ -n "$u" ] || u=$(sed -nE 's#^postgres(ql)?://([^:@/]+)(:[^@/]*)?@.*#\2#p' <<<"$1")
    printf '%s\n' "$u"
}

# pg_createdb ADMIN_URL URL NAME: (re)creates database NAME, owned by URL's
# role, through ADMIN_URL; prints URL naming it.
pg_createdb() {
    local admin="$1" url="$2" name="$3" owner
    owner=$(pg_url_user "$url")
    PGOPTIONS="-c client_min_messages=warning" pg_psql "$admin" -c "DROP DATABASE IF EXISTS \"$name\"" \
        -c "CREATE DATABASE \"$name\"${owner:+ OWNER \"$owner\"}" >/dev/null || return 1
    pg_url_with_db "$url" "$name"
}

# pg_dropdb ADMIN_URL NAME
pg_dropdb() { PGOPTIONS="-c client_min_messages=warning" pg_psql "$1" -c "DROP DATABASE IF EXISTS \"$2\"" >/dev/null 2>&1; }
