from uploader.main import main

main()
