#!/usr/bin/env bash
# S3-compatible object storage on 127.0.0.1 for development and tests: moto in server mode, from
# the project's own environment (`moto[server]` in the dev group; `make install` puts it in .venv).
#
#   scripts/s3.sh start|run|stop|status
#
# Environment: S3_DATA_DIR (default <repo>/.data/s3: pid file and log), S3_PORT (59000),
# S3_START_TIMEOUT (60 s). If S3_ENDPOINT_URL is set, start/run only print it: that store is used
# as given. Any access key and secret are accepted. moto keeps buckets and objects in memory: they
# are gone after a stop (use MinIO or a real bucket for media that must survive a restart).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
DATA_DIR=$(realpath -m "${S3_DATA_DIR:-$REPO_DIR/.data/s3}")
PORT=${S3_PORT:-59000}
START_TIMEOUT=${S3_START_TIMEOUT:-60}
PID_FILE=$DATA_DIR/moto.pid
PORT_FILE=$DATA_DIR/moto.port
LOG_FILE=$DATA_DIR/moto.log
PYTHON=$REPO_DIR/.venv/bin/python

log() { echo "s3.sh: $*" >&2; }
die() { log "$*"; exit 1; }
endpoint() { echo "S3_ENDPOINT_URL=http://127.0.0.1:$1"; }

ensure_installed() {
    [[ -x $PYTHON ]] && "$PYTHON" -c 'import moto.server, flask' 2>/dev/null \
        || die "moto[server] not installed in $REPO_DIR/.venv: run 'make install'"
}

# Prints the pid of our running server, or fails.
running_pid() {
    local pid
    [[ -f $PID_FILE ]] || return 1
    pid=$(cat "$PID_FILE")
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'moto\.server'; then
        echo "$pid"
    else
        rm -f "$PID_FILE"
        return 1
    fi
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Ready = an S3 call (ListBuckets, unsigned: moto answers it) gets an HTTP 200.
answers() {
    timeout 10 "$PYTHON" - "$1" >/dev/null 2>&1 <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5) as answer:
    sys.exit(0 if answer.status == 200 else 1)
EOF
}

wait_ready() {
    local pid=$1 port=$2 deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$LOG_FILE" >&2 2>/dev/null || true
            die "moto exited during start-up (log: $LOG_FILE)"
        fi
        port_open "$port" && answers "$port" && return 0
        sleep 0.3
    done
    tail -n 30 "$LOG_FILE" >&2 2>/dev/null || true
    die "moto not answering after ${START_TIMEOUT}s (pid $pid, log: $LOG_FILE)"
}

SERVER_CMD=("$PYTHON" -m moto.server -H 127.0.0.1 -p "$PORT")

start() {
    local pid
    if [[ -n ${S3_ENDPOINT_URL:-} ]]; then
        echo "S3_ENDPOINT_URL=$S3_ENDPOINT_URL"
        return 0
    fi
    ensure_installed
    mkdir -p "$DATA_DIR"
    if pid=$(running_pid); then
        PORT=$(cat "$PORT_FILE")
        log "already running (pid $pid, port $PORT)"
    else
        port_open "$PORT" && die "port $PORT is already in use by another process"
        log "starting moto (S3) on 127.0.0.1:$PORT (log: $LOG_FILE)"
        setsid "${SERVER_CMD[@]}" </dev/null >"$LOG_FILE" 2>&1 &
        pid=$!
        echo "$pid" >"$PID_FILE"
        echo "$PORT" >"$PORT_FILE"
    fi
    wait_ready "$pid" "$PORT"
    endpoint "$PORT"
}

run() {
    local pid
    if [[ -n ${S3_ENDPOINT_URL:-} ]]; then
        echo "S3_ENDPOINT_URL=$S3_ENDPOINT_URL (external store; idling)"
        exec sleep infinity # a process manager expects this process to stay up
    fi
    ensure_installed
    if pid=$(running_pid); then
        die "already running in the background (pid $pid); use stop first"
    fi
    port_open "$PORT" && die "port $PORT is already in use by another process"
    mkdir -p "$DATA_DIR"
    endpoint "$PORT"
    echo $$ >"$PID_FILE" # exec keeps this pid
    echo "$PORT" >"$PORT_FILE"
    exec "${SERVER_CMD[@]}"
}

stop() {
    local pid
    if ! pid=$(running_pid); then
        log "not running"
        return 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "still running after 10 s; sending SIGKILL"
        kill -KILL "$pid"
    fi
    rm -f "$PID_FILE" "$PORT_FILE"
    log "stopped (pid $pid)"
}

status() {
    local pid
    if pid=$(running_pid); then
        echo "running (pid $pid) $(endpoint "$(cat "$PORT_FILE")") data=$DATA_DIR"
    else
        echo "not running (data=$DATA_DIR)"
        return 3
    fi
}

case ${1:-} in
start) start ;;
run) run ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 start|run|stop|status" ;;
esac
