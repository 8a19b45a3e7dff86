from archiver.main import main

main()
