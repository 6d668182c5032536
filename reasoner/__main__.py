"""`python -m reasoner` runs the command-line interface."""

from reasoner.cli import main

raise SystemExit(main())
