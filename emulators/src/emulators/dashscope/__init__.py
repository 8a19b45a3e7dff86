"""DashScope Animate Anyone (shared/docs/dashscope.md, sections 1-5): its API as the emulator serves it
at the provider's own paths. See emulators/README.md."""
