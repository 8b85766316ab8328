"""GGUF export with the converter of the pinned llama.cpp release (``scripts/llama_cpp.sh``).

``convert_hf_to_gguf.py`` and ``gguf-py`` come from the same ``llama-cpp-python`` source
distribution as the server the tests run, so the file is one that server reads. The GGUF
carries the merged model's chat template (the non-thinking training format), which
llama.cpp servers use as it is (``--jinja`` for ``llama-server``; ``llama_cpp.server``
picks it up by itself). ``f16`` keeps the weights; ``q8_0`` halves them.

With ``--lora-gguf`` the adapter is also written as a GGUF LoRA (``convert_lora_to_gguf.py`` of
the same release) beside a GGUF of the base model carrying the same template, which
``llama-server -m BASE --lora statewise-lora.gguf`` serves. The base GGUF is named by a key of
the base's config and weights, the template and the type, and reused when that file exists:
written once per base model, so a retrained home replaces only the small adapter file.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .data import InputError, file_hash

GGUF_FILE = "statewise.gguf"
LORA_GGUF_FILE = "statewise-lora.gguf"
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


def _run(script_name: str, args: list[str], target: Path, what: str) -> tuple[Path, str]:
    """Run one converter of the pinned release so that it writes ``target`` whole or not at all; returns it and the release."""
    src = converter_dir()
    script = src / script_name
    if not script.is_file():
        raise InputError(f"{script}: no llama.cpp converter there (run scripts/llama_cpp.sh)")
    partial = target.with_suffix(".gguf.partial")  # renamed only once the converter succeeded: never a half-written GGUF
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src / "gguf-py"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    done = subprocess.run([sys.executable, str(script), *args, "--outfile", str(partial)], capture_output=True, text=True, env=env, check=False)
    if done.returncode or not partial.is_file():
        partial.unlink(missing_ok=True)
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"GGUF conversion of {what} failed: {last[0][:300]}")
    partial.replace(target)
    return target, llama_cpp_version(src)


def convert(merged: str | Path, out_dir: str | Path, outtype: str) -> tuple[Path, str]:
    """Write ``out_dir/statewise.gguf`` from the merged model folder; returns it and the converter's llama-cpp-python release."""
    check_outtype(outtype)
    return _run("convert_hf_to_gguf.py", [str(merged), "--outtype", outtype], Path(out_dir) / GGUF_FILE, str(merged))


def base_folder(base: str) -> Path:
    """The local folder of the base model: a path, else its snapshot in the Hugging Face cache (never downloaded here)."""
    if Path(base).is_dir():
        return Path(base)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(base, local_files_only=True))
    except Exception as err:  # noqa: BLE001 - any hub error means: not on this machine
        raise InputError(f"--lora-gguf: base model {base!r} is not a local folder nor in the Hugging Face cache ({type(err).__name__})") from None


def base_key(folder: Path, template: str, outtype: str) -> str:
    """What the base GGUF depends on: the base's config and weights (bytes), the chat template it carries, the type."""
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        raise InputError(f"{folder}: no *.safetensors weights of the base model")
    digest = hashlib.sha256(f"{file_hash(folder / 'config.json', *weights)}\n{outtype}\n{template}".encode())
    return "sha256:" + digest.hexdigest()


def _staged_base(folder: Path, tokenizer: Any, stage: Path) -> Path:
    """The base's config and weights (linked, not copied) with the exported tokenizer and template, as the converters read a model."""
    for item in folder.iterdir():  # only what the tokenizer never writes: saving it must not follow a link into the base
        if item.suffix == ".safetensors" or item.name in ("config.json", "generation_config.json", "model.safetensors.index.json"):
            (stage / item.name).symlink_to(item.resolve())
    tokenizer.save_pretrained(stage)
    return stage


def convert_lora(adapter: Path, base: str, tokenizer: Any, out_dir: Path, outtype: str, base_dir: Path | None = None) -> dict[str, Any]:
    """Write ``out_dir/statewise-lora.gguf`` and, unless the same one is there, the base GGUF in ``base_dir`` (default ``out_dir``).

    Returns the manifest's ``lora_gguf`` record (file names relative to ``out_dir`` where they lie inside it).
    """
    check_outtype(outtype)
    folder = base_folder(base)
    key = base_key(folder, tokenizer.chat_template, outtype)
    base_dir = base_dir or out_dir
    base_dir.mkdir(parents=True, exist_ok=True)
    base_gguf = base_dir / f"base-{folder.name.lower()}-{key.split(':')[1][:16]}.{outtype}.gguf"
    with tempfile.TemporaryDirectory(prefix="statewise-base-", dir=out_dir) as tmp:
        stage = _staged_base(folder, tokenizer, Path(tmp))
        reused = base_gguf.is_file()
        if not reused:
            _run("convert_hf_to_gguf.py", [str(stage), "--outtype", outtype], base_gguf, f"the base model {base}")
        lora, release = _run("convert_lora_to_gguf.py", ["--base", str(stage), "--outtype", outtype, str(adapter)], out_dir / LORA_GGUF_FILE,
                             f"the adapter {adapter}")  # fmt: skip
    shown = base_gguf.name if base_gguf.parent.resolve() == out_dir.resolve() else str(base_gguf.resolve())
    return {"adapter": lora.name, "base": shown, "base_key": key, "base_reused": reused, "outtype": outtype, "llama_cpp_python": release}
