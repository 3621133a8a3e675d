"""``python -m qlat …`` is the ``qlat`` command."""

from qlat.cli.main import main

raise SystemExit(main())
