#!/usr/bin/env bash
# Private PostgreSQL cluster on 127.0.0.1 for development and tests.
#
#   scripts/postgres.sh start|run|stop|status|createdb NAME
#
# Environment: PG_DATA_DIR (default <repo>/.data/postgres), PG_PORT (55432), PG_DATABASE (dancer).
# If DATABASE_URL is set, start/run only print it: that database is used as given.
# The server refuses to run as root, so as root every server command runs as the `postgres`
# system user (created by Debian's package); PG_DATA_DIR and all its parents must be
# traversable by that user. Auth is `trust`: the server listens on loopback and its own socket only.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
DATA_DIR=$(realpath -m "${PG_DATA_DIR:-$REPO_DIR/.data/postgres}")
PORT=${PG_PORT:-55432}
DATABASE=${PG_DATABASE:-dancer}
ROLE=dancer
PGDATA_DIR=$DATA_DIR/pgdata
SOCKET_DIR=$DATA_DIR/run
LOG_FILE=$DATA_DIR/postgres.log
SERVER_OPTS=(-c "port=$PORT" -c listen_addresses=127.0.0.1 -c "unix_socket_directories=$SOCKET_DIR")

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }
url() { echo "DATABASE_URL=postgresql+asyncpg://$ROLE@127.0.0.1:$PORT/$1"; }

find_bin() {
    # Debian keeps the server binaries off PATH, in /usr/lib/postgresql/<version>/bin.
    local dir
    for dir in "$(dirname "$(realpath "$(command -v initdb)" 2>/dev/null)")" \
        $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/psql ]] && { echo "$dir"; return 0; }
    done
    return 1
}

ensure_installed() {
    PG_BIN=$(find_bin) && return 0
    [[ $(id -u) == 0 ]] || die "PostgreSQL server not installed; run: sudo apt-get install -y postgresql"
    log "installing PostgreSQL with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    PG_BIN=$(find_bin) || die "initdb not found after installing postgresql"
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [[ $(id -u) == 0 ]]; then
        (cd / && setpriv --reuid=postgres --regid=postgres --init-groups -- "$@")
    else
        "$@"
    fi
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

is_running() { [[ -f $PGDATA_DIR/PG_VERSION ]] && as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

psql_admin() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" -U postgres -d postgres "$@"
}

prepare() {
    ensure_installed
    mkdir -p "$DATA_DIR"
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' system user (install Debian's postgresql package)"
        chown postgres: "$DATA_DIR"
        as_owner test -w "$DATA_DIR" \
            || die "user postgres cannot reach $DATA_DIR (a parent directory is not traversable, e.g. mode 0700); set PG_DATA_DIR elsewhere"
    fi
    # A unix socket path is limited to 107 bytes.
    ((${#SOCKET_DIR} + 20 <= 107)) || die "PG_DATA_DIR path too long for a unix socket: $DATA_DIR"
    as_owner mkdir -p "$SOCKET_DIR"
    if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
        log "initialising cluster in $PGDATA_DIR"
        as_owner "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$DATA_DIR/initdb.out" 2>&1 \
            || { cat "$DATA_DIR/initdb.out" >&2; die "initdb failed"; }
    fi
}

ensure_database() {
    local db=$1
    psql_admin -v role="$ROLE" -v db="$db" <<'EOF'
SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
EOF
}

start() {
    if [[ -n ${DATABASE_URL:-} ]]; then
        echo "DATABASE_URL=$DATABASE_URL"
        return 0
    fi
    ensure_installed
    if is_running; then
        PORT=$(sed -n 4p "$PGDATA_DIR/postmaster.pid") # the port it was started with
        log "already running (port $PORT, data in $DATA_DIR)"
    else
        port_open "$PORT" && die "port $PORT is already in use by another process"
        prepare
        log "starting PostgreSQL on 127.0.0.1:$PORT (data in $DATA_DIR)"
        as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 \
            -o "$(printf "%q " "${SERVER_OPTS[@]}")" start >/dev/null \
            || { tail -n 30 "$LOG_FILE" >&2; die "server did not start"; }
    fi
    ensure_database "$DATABASE"
    url "$DATABASE"
}

run() {
    if [[ -n ${DATABASE_URL:-} ]]; then
        echo "DATABASE_URL=$DATABASE_URL (external database; idling)"
        exec sleep infinity # a process manager expects this process to stay up
    fi
    ensure_installed
    is_running && die "already running in the background; use stop first"
    port_open "$PORT" && die "port $PORT is already in use by another process"
    prepare
    # The role and database are created once the server accepts connections. Double fork, so
    # the helper is not a child of the postmaster (which treats an unknown child's failure as a crash).
    ( (
        for _ in $(seq 120); do
            "$PG_BIN/pg_isready" -q -h "$SOCKET_DIR" -p "$PORT" -U postgres -d postgres && break
            sleep 0.5
        done
        if ensure_database "$DATABASE"; then url "$DATABASE"; else log "could not create role/database"; fi
    ) & )
    cd /
    if [[ $(id -u) == 0 ]]; then
        exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
            "$PG_BIN/postgres" -D "$PGDATA_DIR" "${SERVER_OPTS[@]}"
    fi
    exec "$PG_BIN/postgres" -D "$PGDATA_DIR" "${SERVER_OPTS[@]}"
}

stop() {
    ensure_installed
    if ! is_running; then
        log "not running"
        return 0
    fi
    as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 30 stop >/dev/null
    log "stopped"
}

status() {
    ensure_installed
    if is_running; then
        echo "running on 127.0.0.1:$(sed -n 4p "$PGDATA_DIR/postmaster.pid") data=$DATA_DIR"
    else
        echo "not running (data=$DATA_DIR)"
        return 3
    fi
}

createdb() {
    local name=${1:?usage: $0 createdb NAME}
    ensure_installed
    is_running || die "not running; start it first"
    PORT=$(sed -n 4p "$PGDATA_DIR/postmaster.pid")
    ensure_database "$name"
    url "$name"
}

case ${1:-} in
start) start ;;
run) run ;;
stop) stop ;;
status) status ;;
createdb) createdb "${2:-}" ;;
*) die "usage: $0 start|run|stop|status|createdb NAME" ;;
esac
