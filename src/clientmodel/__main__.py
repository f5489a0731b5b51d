"""``python -m clientmodel``: the same as the ``clientmodel`` command."""

from clientmodel.cli import main

raise SystemExit(main())
