"""``midi-llm-bridge doctor``: check the set-up and print, for each problem, what to do.

Exit 0 when nothing is a problem (notes are fine: a CPU instead of a GPU, a DAW that is not
installed), 1 otherwise, 2 for a bad configuration.
"""

from __future__ import annotations

import argparse

from bridge import __version__
from bridge.cli_settings import add_config_arguments, config_from_args
from bridge.doctor import checks, clients
from bridge.doctor.checks import PROBLEM, Finding

LABELS = {checks.OK: "ok", checks.NOTE: "note", checks.PROBLEM: "PROBLEM"}


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "doctor", help="check Python, torch, the device, the model, the port, MIDI output and the DAW clients",
        description="Check the set-up and say, in plain sentences, what is wrong and how to fix it. "
                    "Exit 0 when all is well.")
    add_config_arguments(parser)
    parser.add_argument("--port", type=int, help="daemon port to check (default: osc.port)")
    parser.add_argument("--model", help="model to look for (default: model.id)")
    parser.set_defaults(handler=run_doctor)


def gather(config: dict) -> list[Finding]:
    findings = [checks.check_python(), checks.check_torch(), checks.check_device(config["model"]["device"]),
                checks.check_model(config["model"]), checks.check_port(config["osc"]),
                checks.check_midi_output(config["midi"])]
    findings += clients.check_live()
    findings += clients.check_reaper()
    return findings


def report(findings: list[Finding]) -> str:
    width = max(len(label) for label in LABELS.values())
    lines = [f"midi-llm-bridge {__version__} doctor"]
    for finding in findings:
        lines.append(f"{LABELS[finding.status]:<{width}}  {finding.topic}: {finding.message}")
        if finding.fix and finding.status != checks.OK:
            lines.append(f"{'':<{width}}  fix: {finding.fix}")
    problems = sum(finding.status == PROBLEM for finding in findings)
    lines.append("all is well" if not problems else f"{problems} problem(s) found")
    return "\n".join(lines)


def run_doctor(args: argparse.Namespace) -> int:
    config = config_from_args(args, {"osc.port": args.port, "model.id": args.model})
    findings = gather(config)
    print(report(findings))
    return 1 if any(finding.status == PROBLEM for finding in findings) else 0
