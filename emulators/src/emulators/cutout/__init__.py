"""cutout.pro's Photo Animer API (shared/docs/dashscope.md, section 6), served by the emulator process under
`/cutout`: point the product at `http://<emulator>/cutout/api/v1`. See emulators/README.md.

`envelope` (answers and error codes), `dialect` (keys, and the gate's answers), `api` (the two calls),
`photos` (input checks, the face), `records` / `store` (jobs and face answers in the state database),
`jobs` (their clock), `render` (MP4 and GIF), `task_info` (what a job answers, its signed links),
`results` (the files), `notices` (the completion POST), `admin` (`/admin/cutout/...`)."""
