from mlwarden.cli import main

main()
