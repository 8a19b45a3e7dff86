from detector.main import main

main()
