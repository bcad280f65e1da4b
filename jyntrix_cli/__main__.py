"""`python -m jyntrix_cli`: the `jyntrix` command."""

from jyntrix_cli.cli import main

raise SystemExit(main())
