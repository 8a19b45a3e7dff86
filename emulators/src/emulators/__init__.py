"""DashScope Animate Anyone emulator: a real HTTP server speaking the provider's contract."""

from emulators.app import create_app
from emulators.settings import EmulatorSettings

__all__ = ["EmulatorSettings", "create_app"]
