"""The ``midi-llm-bridge`` command line.

Subcommands register themselves from small modules so that light commands
(``tokens``, ``request``) never import torch: a REAPER script waiting on the
client should not wait for a deep-learning framework to load.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bridge import __version__
from bridge.cli_tokens import add_tokens_command


class UserError(Exception):
    """An error caused by the input, reported as one line without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="midi-llm-bridge",
        description="Serve the MIDI-LLM text-to-MIDI model to DAWs, or use it from the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    add_tokens_command(commands)
    _add_optional_commands(commands)
    return parser


def _add_optional_commands(commands: argparse._SubParsersAction) -> None:
    """Commands of later modules, registered when they are present."""
    import importlib

    for module_name in ("bridge.cli_engine", "bridge.cli_serve", "bridge.cli_request", "bridge.cli_play",
                        "bridge.cli_doctor"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue
            raise
        module.register(commands)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()  # imports the subcommands' modules: Ctrl-C may land here too
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (UserError, ValueError, OSError) as error:
        print(f"midi-llm-bridge: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        if not _caused_by_interrupt(error):
            raise
        print("interrupted", file=sys.stderr)
        return 130


def _caused_by_interrupt(error: BaseException | None) -> bool:
    """A Ctrl-C that a library wrapped in its own error (an import cut short can surface as RuntimeError)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
