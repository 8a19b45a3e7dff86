#!/usr/bin/env bash
# `make run`: start Kafka and Postgres (kept in .data/ across restarts), migrate, then run the
# emulator (unless DASHSCOPE_API_KEY is set) and the five services under honcho until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

stop_infra() {
  scripts/kafka.sh stop || true
  scripts/postgres.sh stop || true
}
trap stop_infra EXIT

export "$(scripts/kafka.sh start | grep '^KAFKA_BOOTSTRAP_SERVERS=')"
export "$(scripts/postgres.sh start | grep '^DATABASE_URL=')"
python3 -m uv run alembic -c libs/common/alembic.ini upgrade head

export GATEWAY_HOST="${GATEWAY_HOST:-127.0.0.1}" GATEWAY_PORT="${GATEWAY_PORT:-8000}"
export EMULATOR_HOST="${EMULATOR_HOST:-127.0.0.1}" EMULATOR_PORT="${EMULATOR_PORT:-8100}"
export EMULATOR_DATA_DIR="${EMULATOR_DATA_DIR:-$PWD/.data/emulator}"
processes=(gateway uploader detector synthesizer poller)
if [[ -z "${DASHSCOPE_API_KEY:-}" ]]; then
  export DASHSCOPE_BASE_URL="${DASHSCOPE_BASE_URL:-http://$EMULATOR_HOST:$EMULATOR_PORT/api/v1}"
  processes=(emulator "${processes[@]}")
  echo "Provider: the DashScope emulator at $DASHSCOPE_BASE_URL"
else
  echo "Provider: DashScope at ${DASHSCOPE_BASE_URL:-https://dashscope.aliyuncs.com/api/v1}"
fi
echo "Gateway: http://$GATEWAY_HOST:$GATEWAY_PORT (Ctrl-C stops everything)"
python3 -m uv run honcho start -f Procfile "${processes[@]}"
