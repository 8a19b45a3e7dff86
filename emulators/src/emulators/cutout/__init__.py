"""cutout.pro's Photo Animer API (shared/docs/dashscope.md, section 6), served by the emulator process
under `/cutout`: point the product at `http://<emulator>/cutout/api/v1`. See emulators/README.md."""
