# One image for every service: `docker run <image> python -m <service>`.
FROM python:3.11-slim AS base
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PATH=/app/.venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Phase 1: dependencies only (cached until the lock file changes).
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY emulators/pyproject.toml emulators/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/uploader/pyproject.toml services/uploader/
COPY services/detector/pyproject.toml services/detector/
COPY services/synthesizer/pyproject.toml services/synthesizer/
COPY services/poller/pyproject.toml services/poller/
RUN uv sync --frozen --no-dev --all-packages --no-install-workspace
# Phase 2: the source.
COPY . .
RUN uv sync --frozen --no-dev --all-packages
USER 65532
