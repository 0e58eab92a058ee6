"""C{python -m chatroom.bench}: the command line, see L{chatroom.bench.cli}."""

from chatroom.bench.cli import main

if __name__ == "__main__":
    main()
