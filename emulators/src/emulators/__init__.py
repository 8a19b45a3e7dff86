"""DashScope Animate Anyone and cutout.pro Photo Animer emulator: a real HTTP server speaking both
providers' contracts (DashScope's in `emulators.dashscope`, cutout.pro's in `emulators.cutout`)."""

from emulators.app import create_app
from emulators.settings import EmulatorSettings

__all__ = ["EmulatorSettings", "create_app"]
