from synthesizer.main import main

main()
