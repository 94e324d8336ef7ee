"""``midi-llm-bridge serve``: the daemon (load the model once, answer OSC requests until stopped).

This module stays light: the engine (torch, transformers) is imported inside
the handler, so ``midi-llm-bridge --help`` and ``request`` start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from bridge.cli_model_loading import load_in_stages, quiet_library_logging
from bridge.cli_settings import add_config_arguments, config_from_args

log = logging.getLogger("bridge.daemon")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the daemon: load the model once and answer OSC requests (see docs/protocol.md)",
        description="Load the model once and serve it over OSC/UDP until SIGINT or SIGTERM. Listens on "
                    "127.0.0.1 unless told otherwise; any other interface requires osc.secret.",
    )
    add_config_arguments(parser)
    parser.add_argument("--port", type=int, help="UDP port (default: osc.port, 9123)")
    parser.add_argument("--host", help="interface to listen on (default: osc.host, 127.0.0.1); anything but "
                                       "loopback needs osc.secret (e.g. MIDI_LLM_BRIDGE__OSC__SECRET=...)")
    parser.add_argument("--model", help="hub id or local directory (default: model.id)")
    parser.set_defaults(handler=run_serve)


def _configure_logging(config: dict) -> None:
    root = logging.getLogger()
    root.setLevel(config["logging"]["level"])
    if config["logging"]["file"]:
        handler = logging.FileHandler(config["logging"]["file"], encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    quiet_library_logging()


def run_serve(args: argparse.Namespace) -> int:
    config = config_from_args(args, {"osc.port": args.port, "osc.host": args.host, "model.id": args.model},
                              {"osc.port": "--port", "osc.host": "--host", "model.id": "--model"})
    _configure_logging(config)

    from bridge.daemon.server import Daemon

    def load_engine(report):
        return load_in_stages(config["model"], report)

    import asyncio

    daemon = Daemon(config, engine_factory=load_engine)
    host, port = config["osc"]["host"], config["osc"]["port"]
    try:
        return asyncio.run(_serve(daemon))
    except OSError as error:
        reason = error.strerror or str(error)
        print(f"midi-llm-bridge: error: cannot listen on {host}:{port}: {reason}. Is another daemon running? "
              f"Check with `midi-llm-bridge request ping --port {port}`, or pick another port with --port.",
              file=sys.stderr)
        return 2


async def _serve(daemon) -> int:
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    first_signal: list[float] = []

    def on_signal(name: str) -> None:
        # A second signal a second or more after the first forces the exit (a stuck model load);
        # duplicates that arrive together (a process group signalled twice) are ignored.
        now = time.monotonic()
        if first_signal:
            if now - first_signal[0] >= 1.0:
                log.warning("%s again: stopping now", name)
                os._exit(1)
            return
        first_signal.append(now)
        daemon.shutdown(f"received {name}")

    for number, name in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")):
        try:
            loop.add_signal_handler(number, on_signal, name)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(number, lambda *_, n=name: loop.call_soon_threadsafe(on_signal, n))
    code = await daemon.serve()
    log.info("stopped")
    return code
