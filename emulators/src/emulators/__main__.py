"""`python -m emulators` / `emulator`: serve the emulator on EMULATOR_HOST:EMULATOR_PORT."""

from __future__ import annotations

import uvicorn

from emulators.app import create_app
from emulators.settings import EmulatorSettings


def main() -> None:
    settings = EmulatorSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
