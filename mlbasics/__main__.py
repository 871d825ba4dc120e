"""``python -m mlbasics`` is the ``mlbasics`` command."""

from .cli import main

raise SystemExit(main())
