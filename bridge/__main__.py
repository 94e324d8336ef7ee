"""``python -m bridge``: the command line; a Ctrl-C while Python is still importing it ends as any other."""

import sys

try:
    from bridge.cli import main
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
