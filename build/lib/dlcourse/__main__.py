"""``python -m dlcourse ...`` runs the command line (see :mod:`dlcourse.cli`)."""

from dlcourse.cli import main

raise SystemExit(main())
