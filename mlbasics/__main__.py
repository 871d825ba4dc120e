"""``python -m mlbasics`` is the ``mlbasics`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
