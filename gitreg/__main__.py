from gitreg.cli import main

main()
