from lvcodec.cli import main

main()
