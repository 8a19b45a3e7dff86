# syntax=docker/dockerfile:1
# One image per process, all from this file: `docker build --target <name> -t dancer/<name> .`
# Targets: gateway uploader detector synthesizer poller archiver notifier emulators setup.
#
# Each target has a builder stage `<name>-build` that installs only that package's locked dependencies
# (`uv sync --package <name>`: its own closure in uv.lock, so no stage image carries the emulator, and
# only archiver and emulators carry PyAV), then that package's source; the image copies the virtual
# environment and that source onto a fresh Python, runs as a numeric non-root user and has no pip or uv
# cache (uv's cache is a BuildKit cache mount, never a layer). tests/deploy/ checks all of this statically
# (and hadolint lints this file in `make test`).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------------
# uv and the workspace's manifests: what every builder starts from (no source yet, so the dependency
# layers below stay cached until uv.lock or a pyproject.toml changes).
FROM ${PYTHON_IMAGE} AS uv
# The version `make install` uses (Makefile: UV_VERSION).
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3.11 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_CACHE_DIR=/root/.cache/uv
WORKDIR /app
# Every workspace member's pyproject.toml: uv finds the workspace through them (sources come later).
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/uploader/pyproject.toml services/uploader/
COPY services/detector/pyproject.toml services/detector/
COPY services/synthesizer/pyproject.toml services/synthesizer/
COPY services/poller/pyproject.toml services/poller/
COPY services/archiver/pyproject.toml services/archiver/
COPY services/notifier/pyproject.toml services/notifier/
COPY emulators/pyproject.toml emulators/
COPY tools/admin/pyproject.toml tools/admin/

# ---------------------------------------------------------------------------------------------------
# The runtime every image starts from: the same Python as the builders (the venv links to it), a
# numeric non-root user (65532, as in deploy/k8s), no bytecode written at run time (the source is
# compiled at build time, and the file system may be read-only).
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 65532 dancer \
    && useradd --system --no-log-init --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin dancer
WORKDIR /app

# A pipeline stage (and the notifier): /healthz, /readyz, /metrics on HEALTH_HOST:HEALTH_PORT.
FROM runtime AS stage-runtime
ENV HEALTH_HOST=0.0.0.0 \
    HEALTH_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['HEALTH_PORT'] + '/readyz', timeout=4)"]

# ===================================================================================================
# gateway: the REST API, on GATEWAY_PORT (8000), with /healthz, /readyz and /metrics on the same port.
FROM uv AS gateway-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package gateway
COPY libs/common/src/ libs/common/src/
COPY services/gateway/src/ services/gateway/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package gateway \
    && python -m compileall -q --invalidation-mode checked-hash libs/common/src services/gateway/src

FROM runtime AS gateway
COPY --from=gateway-build /app/.venv /app/.venv
COPY --from=gateway-build /app/libs/common/src /app/libs/common/src
COPY --from=gateway-build /app/services/gateway/src /app/services/gateway/src
ENV GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['GATEWAY_PORT'] + '/readyz', timeout=4)"]
USER 65532:65532
CMD ["python", "-m", "gateway"]

# ===================================================================================================
FROM uv AS uploader-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package uploader
COPY libs/common/src/ libs/common/src/
COPY services/uploader/src/ services/uploader/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package uploader \
    && python -m compileall -q --invalidation-mode checked-hash libs/common/src services/uploader/src

FROM stage-runtime AS uploader
COPY --from=uploader-build /app/.venv /app/.venv
COPY --from=uploader-build /app/libs/common/src /app/libs/common/src
COPY --from=uploader-build /app/services/uploader/src /app/services/uploader/src
USER 65532:65532
CMD ["python", "-m", "uploader"]

# ===================================================================================================
FROM uv AS detector-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package detector
COPY libs/common/src/ libs/common/src/
COPY services/detector/src/ services/detector/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package detector \
    && python -m compileall -q --invalidation-mode checked-hash libs/common/src services/detector/src

FROM stage-runtime AS detector
COPY --from=detector-build /app/.venv /app/.venv
COPY --from=detector-build /app/libs/common/src /app/libs/common/src
COPY --from=detector-build /app/services/detector/src /app/services/detector/src
USER 65532:65532
CMD ["python", "-m", "detector"]

# ===================================================================================================
FROM uv AS synthesizer-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package synthesizer
COPY libs/common/src/ libs/common/src/
COPY services/synthesizer/src/ services/synthesizer/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package synthesizer \
    && python -m compileall -q --invalidation-mode checked-hash libs/common/src services/synthesizer/src

FROM stage-runtime AS synthesizer
COPY --from=synthesizer-build /app/.venv /app/.venv
COPY --from=synthesizer-build /app/libs/common/src /app/libs/common/src
COPY --from=synthesizer-build /app/services/synthesizer/src /app/services/synthesizer/src
USER 65532:65532
CMD ["python", "-m", "synthesizer"]

# ===================================================================================================
FROM uv AS poller-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package poller
COPY libs/common/src/ libs/common/src/
COPY services/poller/src/ services/poller/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package poller \
    && python -m compileall -q --invalidation-mode checked-hash libs/common/src services/poller/src

FROM stage-runtime AS poller
COPY --from=poller-build /app/.venv /app/.venv
COPY --from=poller-build /app/libs/common/src /app/libs/common/src
COPY --from=poller-build /app/services/poller/src /app/services/poller/src
USER 65532:65532
CMD ["python", "-m", "poller"]

# ===================================================================================================
# archiver: the one stage with PyAV (it decodes every video and makes the poster).
FROM uv AS archiver-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package archiver
COPY libs/common/src/ libs/common/src/
COPY services/archiver/src/ services/archiver/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package archiver \
    && python -m compileall -q --invalidation-mode checked-hash libs/common/src services/archiver/src

FROM stage-runtime AS archiver
COPY --from=archiver-build /app/.venv /app/.venv
COPY --from=archiver-build /app/libs/common/src /app/libs/common/src
COPY --from=archiver-build /app/services/archiver/src /app/services/archiver/src
USER 65532:65532
CMD ["python", "-m", "archiver"]

# ===================================================================================================
FROM uv AS notifier-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package notifier
COPY libs/common/src/ libs/common/src/
COPY services/notifier/src/ services/notifier/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package notifier \
    && python -m compileall -q --invalidation-mode checked-hash libs/common/src services/notifier/src

FROM stage-runtime AS notifier
COPY --from=notifier-build /app/.venv /app/.venv
COPY --from=notifier-build /app/libs/common/src /app/libs/common/src
COPY --from=notifier-build /app/services/notifier/src /app/services/notifier/src
USER 65532:65532
CMD ["python", "-m", "notifier"]

# ===================================================================================================
# emulators: the DashScope emulator (no `common`: it shares no code with the product), on
# EMULATOR_PORT (8100); its state lives in EMULATOR_DATA_DIR (/data, a volume in docker-compose.yml).
FROM uv AS emulators-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package emulators
COPY emulators/src/ emulators/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package emulators \
    && python -m compileall -q --invalidation-mode checked-hash emulators/src

FROM runtime AS emulators
COPY --from=emulators-build /app/.venv /app/.venv
COPY --from=emulators-build /app/emulators/src /app/emulators/src
# A named volume mounted here starts out owned by the image's user.
RUN install -d -o 65532 -g 65532 /data
ENV EMULATOR_HOST=0.0.0.0 \
    EMULATOR_PORT=8100 \
    EMULATOR_DATA_DIR=/data
EXPOSE 8100
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['EMULATOR_PORT'] + '/admin/health', timeout=4)"]
USER 65532:65532
CMD ["python", "-m", "emulators"]

# ===================================================================================================
# setup: the one-shot job of a deployment, `python -m common.setup` (migrations, then the Kafka topics;
# exits 0). It also carries the operator's CLI, `dancer-admin` (package `admin`, which depends on
# `common`): `docker compose run --rm setup dancer-admin --help`.
FROM uv AS setup-build
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package admin
COPY libs/common/src/ libs/common/src/
COPY libs/common/alembic.ini libs/common/
COPY libs/common/migrations/ libs/common/migrations/
COPY tools/admin/src/ tools/admin/src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package admin \
    && python -m compileall -q --invalidation-mode checked-hash libs/common/src libs/common/migrations \
        tools/admin/src

FROM runtime AS setup
COPY --from=setup-build /app/.venv /app/.venv
COPY --from=setup-build /app/libs/common /app/libs/common
COPY --from=setup-build /app/tools/admin/src /app/tools/admin/src
# A job, not a server: nothing to check while it runs; its exit code is its health.
HEALTHCHECK NONE
USER 65532:65532
CMD ["python", "-m", "common.setup"]
