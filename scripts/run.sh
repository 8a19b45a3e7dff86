#!/usr/bin/env bash
# `make run`: start Kafka and Postgres (kept in .data/ across restarts), migrate and create the topics
# (python -m common.setup), then run the emulator (unless DASHSCOPE_API_KEY is set) and the services
# under honcho until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

stop_infra() {
  scripts/kafka.sh stop || true
  scripts/postgres.sh stop || true
}
trap stop_infra EXIT

export "$(scripts/kafka.sh start | grep '^KAFKA_BOOTSTRAP_SERVERS=')"
export "$(scripts/postgres.sh start | grep '^DATABASE_URL=')"
# The setup job: migrate the database, create the missing topics (idempotent).
python3 -m uv run python -m common.setup

export GATEWAY_HOST="${GATEWAY_HOST:-127.0.0.1}" GATEWAY_PORT="${GATEWAY_PORT:-8000}"
export EMULATOR_HOST="${EMULATOR_HOST:-127.0.0.1}" EMULATOR_PORT="${EMULATOR_PORT:-8100}"
export EMULATOR_DATA_DIR="${EMULATOR_DATA_DIR:-$PWD/.data/emulator}"
# The media store: a folder served by the gateway (MEDIA_BACKEND=s3 and S3_* for object storage).
export MEDIA_DIR="${MEDIA_DIR:-$PWD/.data/media}"
# Plain text lines for a person at a terminal (processes log JSON lines by default).
export LOG_FORMAT="${LOG_FORMAT:-text}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://$GATEWAY_HOST:$GATEWAY_PORT}"
# Local development: image URLs may be plain http on this machine (the emulator's own links), and a
# frontend dev server on the usual ports may call the API from the browser.
export IMAGE_URL_ALLOW_HTTP="${IMAGE_URL_ALLOW_HTTP:-true}"
export IMAGE_URL_ALLOWED_HOSTS="${IMAGE_URL_ALLOWED_HOSTS:-127.0.0.1,localhost,$EMULATOR_HOST}"
export CORS_ORIGINS="${CORS_ORIGINS:-http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173,http://127.0.0.1:5173}"
processes=(gateway uploader detector synthesizer poller archiver notifier)
if [[ -z "${DASHSCOPE_API_KEY:-}" ]]; then
  export DASHSCOPE_BASE_URL="${DASHSCOPE_BASE_URL:-http://$EMULATOR_HOST:$EMULATOR_PORT/api/v1}"
  processes=(emulator "${processes[@]}")
  echo "Provider: the DashScope emulator at $DASHSCOPE_BASE_URL"
else
  echo "Provider: DashScope at ${DASHSCOPE_BASE_URL:-https://dashscope.aliyuncs.com/api/v1}"
fi
echo "Gateway: http://$GATEWAY_HOST:$GATEWAY_PORT (Ctrl-C stops everything)"
python3 -m uv run honcho start -f Procfile "${processes[@]}"
