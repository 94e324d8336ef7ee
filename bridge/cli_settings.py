"""The configuration every command reads the same way: config file, environment, ``--set``, own flags.

One helper so that ``serve``, ``doctor`` and the other commands agree on where settings come
from and refuse the same bad keys.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from bridge.config import DEFAULT_CONFIG_FILE, Config, load_config, parse_set_options


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config file (default: the project's config.yaml)")
    parser.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                        help="override a setting, e.g. --set osc.port=9200 (repeatable)")


def config_from_args(args: argparse.Namespace, flags: Mapping[str, Any] | None = None) -> Config:
    """The configuration for this command; ``flags`` maps ``section.key`` to the command's own flag values."""
    overrides: dict[str, Any] = parse_set_options(getattr(args, "set", None))
    overrides.update({key: value for key, value in (flags or {}).items() if value is not None})
    path = getattr(args, "config", None)
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    return load_config(path, overrides=overrides)
