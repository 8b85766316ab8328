"""GGUF export with the converter of the pinned llama.cpp release (``scripts/llama_cpp.sh``).

``convert_hf_to_gguf.py`` and ``gguf-py`` come from the same ``llama-cpp-python`` source
distribution as the server the tests run, so the file is one that server reads. The GGUF
carries the merged model's chat template (the non-thinking training format), which
llama.cpp servers use as it is (``--jinja`` for ``llama-server``; ``llama_cpp.server``
picks it up by itself). ``f16`` keeps the weights; ``q8_0`` halves them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .data import InputError

GGUF_FILE = "statewise.gguf"
VERSION_FILE = "LLAMA_CPP_PYTHON_VERSION"
OUTTYPES = ("f16", "q8_0")
REPO = Path(__file__).resolve().parents[1]


def llama_cpp_version(src: Path) -> str:
    """The llama-cpp-python release the converter in ``src`` comes from (``scripts/llama_cpp.sh`` writes it there)."""
    stamp = src / VERSION_FILE
    return stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else "unknown"


def converter_dir() -> Path:
    """Where ``convert_hf_to_gguf.py`` is: ``STATEWISE_LLAMA_CPP_SRC``, else the folder ``scripts/llama_cpp.sh`` prints."""
    if env := os.environ.get("STATEWISE_LLAMA_CPP_SRC"):
        return Path(env)
    out = subprocess.run(["bash", str(REPO / "scripts" / "llama_cpp.sh")], capture_output=True, text=True, check=False)
    if out.returncode:
        raise InputError(f"llama.cpp's converter is not set up: scripts/llama_cpp.sh failed ({out.stderr.strip()[-300:]})")
    return Path(out.stdout.strip().splitlines()[-1])


def check_outtype(outtype: str) -> None:
    """Refuse a GGUF type the converter is not asked for here (before any work is done)."""
    if outtype not in OUTTYPES:
        raise InputError(f"--gguf {outtype!r}: use one of {', '.join(OUTTYPES)}")


def convert(merged: str | Path, out_dir: str | Path, outtype: str) -> tuple[Path, str]:
    """Write ``out_dir/statewise.gguf`` from the merged model folder; returns it and the converter's llama-cpp-python release."""
    check_outtype(outtype)
    src = converter_dir()
    script = src / "convert_hf_to_gguf.py"
    if not script.is_file():
        raise InputError(f"{script}: no llama.cpp converter there (run scripts/llama_cpp.sh)")
    target = Path(out_dir) / GGUF_FILE
    partial = target.with_suffix(".gguf.partial")  # renamed only once the converter succeeded: never a half-written GGUF
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src / "gguf-py"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    done = subprocess.run([sys.executable, str(script), str(merged), "--outfile", str(partial), "--outtype", outtype],
                          capture_output=True, text=True, env=env, check=False)  # fmt: skip
    if done.returncode or not partial.is_file():
        partial.unlink(missing_ok=True)
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"GGUF conversion of {merged} failed: {last[0][:300]}")
    partial.replace(target)
    return target, llama_cpp_version(src)
