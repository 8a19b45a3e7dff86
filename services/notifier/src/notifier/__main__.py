from notifier.main import main

main()
