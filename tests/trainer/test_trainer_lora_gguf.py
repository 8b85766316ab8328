"""`trainer export --gguf f16 --lora-gguf`: one base GGUF per base model, a small GGUF LoRA per home, served by llama-server.

Two homes' adapters (random, non-zero B: they change the answers) of one random-weight tiny
Qwen3 with the real vocabulary are exported into two folders sharing one base-GGUF folder.
``llama-server`` (``scripts/llama_server.sh``, the same llama.cpp release as the converters)
then serves the base with both adapters loaded and none applied; its greedy answers with an
adapter chosen per request (the ``lora`` field) or for the server (``POST /lora-adapters``)
are the answers of that home's merged GGUF.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import statewise_protocol as sp

from trainer.cli import main
from trainer.gguf import GGUF_FILE, LORA_GGUF_FILE, converter_dir

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import model_servers  # noqa: E402

COMMANDS = ("turn on the kitchen lights", "lock the front door", "what time is it", "set the thermostat to 21")


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two homes' exports (adapters ``a`` and ``b`` of one base) with ``--lora-gguf`` and one shared base-GGUF folder."""
    out = tmp_path_factory.mktemp("lora-gguf")
    make = _load(ROOT / "tests" / "e2e" / "make_gguf_model.py")
    base = make.make_base(out / "tiny-base")
    exports = {}
    for name, seed in (("a", 1), ("b", 2)):
        make.make_adapter(base, out / f"train-{name}", seed=seed)
        argv = ["export", "--model", str(out / f"train-{name}"), "--out", str(out / f"export-{name}"), "--gguf", "f16", "--lora-gguf",
                "--base-gguf-dir", str(out / "base-gguf")]  # fmt: skip
        assert main(argv) == 0
        exports[name] = out / f"export-{name}"
    exports["base-gguf"] = out / "base-gguf"
    return exports


def _manifest(export: Path) -> dict[str, Any]:
    return json.loads((export / "statewise_manifest.json").read_text(encoding="utf-8"))


def test_the_base_gguf_is_written_once_and_each_home_gets_a_small_adapter(homes: dict[str, Path]) -> None:
    a, b = _manifest(homes["a"])["lora_gguf"], _manifest(homes["b"])["lora_gguf"]
    [base] = list(homes["base-gguf"].glob("*.gguf"))
    assert a["base"] == b["base"] == str(base.resolve()) and a["base_key"] == b["base_key"]
    assert (a["base_reused"], b["base_reused"]) == (False, True)
    assert a["adapter"] == b["adapter"] == LORA_GGUF_FILE and a["outtype"] == "f16"
    for home in (homes["a"], homes["b"]):
        assert (home / LORA_GGUF_FILE).stat().st_size < base.stat().st_size / 4
        assert not list(home.glob("*.partial")) and not list(home.glob("statewise-base-*"))
        assert f"llama-server -m {base.resolve()} --lora ./{LORA_GGUF_FILE} --jinja --reasoning off" in (home / "README.md").read_text(encoding="utf-8")
    sys.path.insert(0, str(converter_dir() / "gguf-py"))
    try:
        from gguf import GGUFReader
    finally:
        sys.path.pop(0)

    readers: dict[Path, Any] = {}

    def field(path: Path, key: str) -> str:
        if path not in readers:  # reading a GGUF's fields (151k tokens) takes seconds: once per file
            readers[path] = GGUFReader(str(path))
        f = readers[path].fields[key]
        return bytes(f.parts[f.data[0]]).decode("utf-8")

    assert field(homes["a"] / LORA_GGUF_FILE, "general.type") == "adapter"
    assert field(homes["a"] / LORA_GGUF_FILE, "adapter.type") == "lora"
    assert field(base, "tokenizer.chat_template") == field(homes["a"] / GGUF_FILE, "tokenizer.chat_template")
    assert field(base, "tokenizer.chat_template").startswith("{#- statewise: non-thinking by default")


def test_lora_gguf_without_gguf_is_refused_before_anything_is_written(homes: dict[str, Path], tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "export"
    assert main(["export", "--model", str(homes["a"] / "adapter"), "--out", str(out), "--lora-gguf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lora-gguf needs --gguf" in err[0]
    assert not out.exists()


def _answers(url: str, prompts: list[list[dict[str, str]]], **extra: Any) -> list[str]:
    """Greedy answers (a few tokens each), one request per prompt."""
    body = {"model": model_servers.LLAMA_MODEL_ALIAS, "temperature": 0, "max_tokens": 12, **extra}
    return [model_servers.post_json(url + "/v1/chat/completions", {**body, "messages": m})["choices"][0]["message"]["content"] for m in prompts]


def test_adapters_on_the_shared_base_answer_as_the_merged_models(homes: dict[str, Path], tmp_path: Path) -> None:
    """Per request and per server, llama-server with a home's adapter on the base gives that home's merged answers."""
    if not model_servers.LLAMA_SERVER.exists():
        pytest.fail(f"{model_servers.LLAMA_SERVER} is missing: run scripts/setup.sh (scripts/llama_server.sh builds it)")
    ontology = sp.load_export(ROOT / "examples" / "demo_home").ontology
    prompts = [sp.render_messages(ontology, c) for c in COMMANDS]
    base = homes["base-gguf"] / _manifest(homes["a"])["lora_gguf"]["base"]
    with ExitStack() as stack:

        def serve(name: str, gguf: Path, **kwargs: Any) -> str:
            argv = model_servers.llama_server(gguf, model_servers.free_port(), n_ctx=2048, **kwargs)
            return stack.enter_context(model_servers.running(argv, tmp_path / f"{name}.log", "/v1/models"))

        merged = {name: _answers(serve(name, homes[name] / GGUF_FILE), prompts) for name in ("a", "b")}
        shared = serve("shared", base, loras=[homes["a"] / LORA_GGUF_FILE, homes["b"] / LORA_GGUF_FILE], lora_init_without_apply=True)
        adapters = model_servers.get_json(shared + "/lora-adapters")
        # In this release --lora-init-without-apply leaves the server's own scales at 1 (it only skips the context's): a request
        # without a ``lora`` field gets both adapters until POST /lora-adapters selects one. The README says so.
        assert [(x["id"], Path(x["path"]).parent.name, x["scale"]) for x in adapters] == [(0, "export-a", 1.0), (1, "export-b", 1.0)], adapters
        bare = _answers(shared, prompts, lora=[{"id": 0, "scale": 0.0}])  # every adapter off: the base
        per_request = {name: _answers(shared, prompts, lora=[{"id": i, "scale": 1.0}]) for i, name in enumerate(("a", "b"))}
        model_servers.post_json(shared + "/lora-adapters", [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}])
        switched = _answers(shared, prompts)
    assert merged["a"] != merged["b"] and bare not in (merged["a"], merged["b"]), "the adapters do not change the answers: nothing is compared"
    assert per_request == merged
    assert switched == merged["b"]
