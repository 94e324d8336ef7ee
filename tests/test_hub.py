"""The download command that load errors and ``doctor`` print works as printed."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.engine.loading import ModelLoadError, load_model
from bridge.hub import download_command, is_offline


def test_offline_flag_and_environment():
    assert is_offline(True, {})
    assert is_offline(False, {"HF_HUB_OFFLINE": "1"})
    assert not is_offline(False, {"HF_HUB_OFFLINE": "0"})


def test_the_printed_program_exists_and_knows_download(tmp_path):
    with pytest.raises(ModelLoadError) as caught:
        load_model("nobody-here/no-such-model", cache_dir=str(tmp_path), offline=True, device="cpu")
    message = str(caught.value)
    assert "huggingface-cli" not in message, "huggingface-cli is not installed in the environment"
    command = download_command("nobody-here/no-such-model")
    assert f"`{command}`" in message
    program = shlex.split(command)[0]
    assert Path(program).exists()
    if program != sys.executable:
        helped = subprocess.run([program, "download", "--help"], capture_output=True, text=True, timeout=60)
        assert helped.returncode == 0, helped.stderr
