"""The local commands (generate/continue/infill/accompany) do what their README and --help say.

Bad input gets one sentence that says what to do, before the model is loaded; the
prompt is given once; variations are named one way; the terminal shows the load stages; a
result that --instruments left empty says why. Real command line, tiny checkpoints.
"""

from __future__ import annotations

import random
import re
import socket
import subprocess
import sys

import pytest

from bridge.cli import main
from bridge.cli_engine import GRID_HELP, OUTPUT_HELP
from bridge.engine.grid import parse_grid
from tests.daemon_process import ENV, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture()
def run(tiny_midi_llm_dir, capsys):
    """``run(*args)`` -> (exit status, stdout, stderr) of the real command line, in this process."""

    def invoke(*args: str, model: str | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main([*args, "--model", model or str(tiny_midi_llm_dir), "--set", "model.device=cpu"])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke


def test_two_different_prompts_are_refused(run, tmp_path):
    status, _, err = run("generate", "first", "--prompt", "second", "--bars", "1", "-o", str(tmp_path / "a.mid"))
    assert status == 2
    assert "two prompts given ('first' and --prompt 'second')" in err
    assert not (tmp_path / "a.mid").exists()


def test_the_prompt_may_come_as_the_argument_or_as_prompt(run, tmp_path):
    for args in (["first"], ["--prompt", "first"], ["first", "--prompt", "first"]):
        status, _, err = run("generate", *args, "--bars", "1", "--seed", "3", "-o", str(tmp_path / "a.mid"))
        assert status == 0, err


def test_variations_are_the_named_file_then_dash_two(run, tmp_path):
    status, out, err = run("generate", "x", "--bars", "1", "--variations", "3", "--seed", "2",
                           "-o", str(tmp_path / "out.mid"))
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out-2.mid", "out-3.mid", "out.mid"]
    assert "out-2.mid, out-3.mid" in OUTPUT_HELP  # and the help says so


def help_text(command: str, capsys) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_lists_every_grid_form_and_each_one_works(capsys):
    forms = re.findall(r"1/\d+[TD]?", GRID_HELP)
    assert {"1/8T", "1/8D", "1/16"} <= set(forms)
    for form in forms:
        assert parse_grid(form) is not None
    assert "dotted" in GRID_HELP and "triplets" in GRID_HELP
    for command in ("generate", "infill", "continue", "accompany", "request"):
        text = help_text(command, capsys)
        assert "(1/8D)" in text and "out-2.mid" in text, (command, text)


@pytest.mark.parametrize("where", ["missing/dir/s.mid", "folder"])
def test_an_unwritable_output_is_refused_before_the_model_loads(run, tmp_path, where):
    (tmp_path / "folder").mkdir()
    empty_model = tmp_path / "not-a-checkpoint"
    empty_model.mkdir()  # would fail to load: the output must be refused first
    status, _, err = run("generate", "x", "--bars", "1", "-o", str(tmp_path / where), model=str(empty_model))
    assert status == 2, err
    assert f"-o {tmp_path / where}:" in err
    assert "cannot load" not in err and "loading" not in err


def test_a_file_given_as_model_is_named_a_file(run, tmp_path):
    song = tmp_path / "song.mid"
    song.write_bytes(b"MThd")
    status, _, err = run("generate", "x", "--bars", "1", "-o", str(tmp_path / "a.mid"), model=str(song))
    assert status == 3
    assert f"model {str(song)!r} is a file; give a hub id (owner/name) or the folder that holds" in err


@pytest.mark.parametrize("content", [b"", b"hello\n", b"MThd\x00\x00", b"RIFF....WAVEfmt "])
def test_a_file_that_is_not_midi_says_so_and_what_to_do(run, tmp_path, content):
    path = tmp_path / "in.mid"
    path.write_bytes(content)
    for command in (["tokens", str(path)], ["infill", str(path), "--start-bar", "1", "--end-bar", "1", "-o",
                                            str(tmp_path / "o.mid")]):
        status = main(command)
        assert status == 2


def test_not_midi_message_never_has_empty_brackets(tmp_path, capsys):
    for i, content in enumerate([b"", b"hello\n", b"MThd\x00\x00", b"MThd\x00\x00\x00\x06\x00"]):
        path = tmp_path / f"in{i}.mid"
        path.write_bytes(content)
        capsys.readouterr()
        assert main(["tokens", str(path)]) == 2
        err = capsys.readouterr().err
        assert "not a readable standard MIDI file" in err and "()" not in err, err
        assert "export it again from your DAW" in err


def test_the_terminal_shows_the_load_stages(run, tmp_path, tiny_midi_llm_dir):
    status, _, err = run("generate", "x", "--bars", "1", "-o", str(tmp_path / "a.mid"))
    assert status == 0, err
    assert f"loading {tiny_midi_llm_dir} ..." in err.splitlines()


def test_chosen_instruments_always_bring_notes_and_no_hint(run, tmp_path):
    """On every outcome: with --instruments each variation has new notes of those instruments, no empty-result hint.

    The plain tiny checkpoint samples onsets over the next 100 s, so before the grammar made a row with
    chosen instruments write a note before it may end, short spans here often came back empty.
    """
    from bridge.amt.midi_file import read_midi

    rng = random.Random(16)
    for case in range(6):
        chosen = rng.sample([0, 33, 40, 81, 128], rng.randint(1, 2))
        out = tmp_path / f"case{case}.mid"
        variations = rng.randint(1, 2)
        status, stdout, err = run("generate", "x", "--bars", str(rng.choice([1, 16, 32])), "--seed", str(case),
                                  "--instruments", ",".join(map(str, chosen)), "--variations", str(variations),
                                  "-o", str(out))
        assert status == 0, err
        counts = [int(n) for n in re.findall(r": (\d+) new notes", stdout)]
        assert len(counts) == variations and 0 not in counts, (chosen, stdout, err)
        assert "has no new notes" not in err
        assert {n.instrument for n in read_midi(out).notes} <= set(chosen)


def test_an_unreachable_hub_fails_at_once_with_one_sentence(tmp_path):
    """No network: no retries printed (let alone twice), one sentence that says what to do."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = {k: v for k, v in ENV.items() if k not in ("HF_HUB_OFFLINE", "MIDI_LLM_BRIDGE__MODEL__ID")}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{closed}", HF_HUB_CACHE=str(tmp_path / "cache"),
               HF_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-m", "bridge", "generate", "x", "--bars", "1", "--model", "someone/model",
                           "-o", str(tmp_path / "a.mid")], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert not any("Retry" in line for line in lines), done.stderr
    assert len(lines) == len(set(lines)), done.stderr
    errors = [line for line in lines if "error" in line.lower()]
    assert len(errors) == 1, done.stderr
    assert "cannot download model 'someone/model': 127.0.0.1:" in errors[0]
    assert "connect to the internet" in errors[0] and "hf download someone/model" in errors[0]
