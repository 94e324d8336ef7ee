"""The configuration every command reads the same way: config file, environment, ``--set``, own flags.

One helper so that ``serve``, ``doctor``, ``generate`` and the others, ``request`` and
``tokens`` agree on where settings come from and refuse the same bad keys: a ``model.id`` or
``osc.port`` written in config.yaml means the same to all of them.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from bridge.config import DEFAULT_CONFIG_FILE, SCHEMA, Config, ConfigError, load_config, parse_set_options


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config file (default: the project's config.yaml)")
    parser.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                        help="override a setting, e.g. --set osc.port=9200 (repeatable)")


def _check_flag(spelling: str, dotted: str, value: Any) -> None:
    """A flag's value judged by its setting's rule, the error naming the flag the user typed."""
    section, key = dotted.split(".", 1)
    setting = SCHEMA[section][key]
    if setting.check is not None and isinstance(value, setting.kind) and not setting.check(value):
        raise ConfigError(f"{spelling} {value!r} is not accepted; use {setting.accepted}")


def config_from_args(args: argparse.Namespace, flags: Mapping[str, Any] | None = None,
                     spelled: Mapping[str, str] | None = None) -> Config:
    """The configuration for this command.

    ``flags`` maps ``section.key`` to the command's own flag values (None: not given);
    ``spelled`` maps ``section.key`` to the flag's name (``--port``) for error messages.
    """
    given = {key: value for key, value in (flags or {}).items() if value is not None}
    for dotted, value in given.items():
        _check_flag((spelled or {}).get(dotted, dotted), dotted, value)
    overrides: dict[str, Any] = parse_set_options(getattr(args, "set", None))
    overrides.update(given)
    path = getattr(args, "config", None)
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    return load_config(path, overrides=overrides)
