from genet5.cli import main

main()
