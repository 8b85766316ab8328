"""`trainer export --gguf`: llama.cpp's converter of the pinned release writes a GGUF that carries the exported template."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from trainer.cli import main
from trainer.gguf import GGUF_FILE, converter_dir

ROOT = Path(__file__).resolve().parents[2]
PIN = next(line.split("==")[1] for line in (ROOT / "requirements" / "llama-cpp.txt").read_text().splitlines() if line.startswith("llama-cpp-python=="))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gguf_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gguf")
    assert _load(ROOT / "tests" / "e2e" / "make_gguf_model.py").main([str(ROOT / "examples" / "demo_home"), str(out)]) == 0
    return out


def test_the_gguf_carries_the_exported_non_thinking_template(gguf_model: Path) -> None:
    export = gguf_model / "export"
    manifest = json.loads((export / "statewise_manifest.json").read_text())
    assert manifest["gguf"] == {"file": GGUF_FILE, "outtype": "f16", "llama_cpp_python": PIN}
    sys.path.insert(0, str(converter_dir() / "gguf-py"))
    try:
        from gguf import GGUFReader
    finally:
        sys.path.pop(0)
    reader = GGUFReader(str(export / GGUF_FILE))

    def field(key: str) -> str:
        f = reader.fields[key]
        return bytes(f.parts[f.data[0]]).decode("utf-8")

    assert field("general.architecture") == "qwen3"
    assert field("tokenizer.ggml.pre") == "qwen2"  # the full Qwen3 vocabulary, recognised by llama.cpp
    assert field("tokenizer.chat_template") == (export / "merged" / "chat_template.jinja").read_text()
    assert field("tokenizer.chat_template").startswith("{#- statewise: non-thinking by default")
    assert len(reader.fields["tokenizer.ggml.tokens"].data) == 151669
    assert (export / "Modelfile").read_text().startswith(f"FROM ./{GGUF_FILE}\n")
    assert f"`{GGUF_FILE}` is here, f16" in (export / "README.md").read_text()
    assert not list(export.glob("*.partial"))


def test_a_bad_gguf_type_is_refused_before_anything_is_written(gguf_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "export"
    assert main(["export", "--model", str(gguf_model / "train"), "--out", str(out), "--gguf", "q4_k"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--gguf 'q4_k': use one of f16, q8_0" in err[0]
    assert not out.exists()
