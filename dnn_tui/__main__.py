"""``python -m dnn_tui`` runs the command line."""

from dnn_tui.cli import main

raise SystemExit(main())
