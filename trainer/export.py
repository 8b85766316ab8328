"""Export: PEFT adapter, merged model (non-thinking template by default), manifest, model card."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import statewise_protocol as sp

from .card import model_card, modelfile
from .data import InputError, file_hash
from .gguf import check_outtype
from .model import load_base_model
from .template import apply_statewise_template

MANIFEST = "statewise_manifest.json"


def _adapter_dir(path: Path) -> Path:
    return path if (path / "adapter_config.json").is_file() else path / "adapter"


def _eval_summary(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if not report:
        return None
    return {"passed": report["passed"], "dataset": report["dataset"], "criteria": {k: v["value"] for k, v in report["criteria"].items()},
            "exact_plan_accuracy": report["summary"]["exact_plan_accuracy"], **({"note": report["note"]} if report.get("note") else {})}  # fmt: skip


def export(run_dir: str | Path, out_dir: str | Path, *, export_dir: str = "", eval_report: dict[str, Any] | None = None, gguf: str = "",
           lora_gguf: bool = False, base_gguf_dir: str | Path = "") -> Path:  # fmt: skip
    """Write ``adapter/``, ``merged/``, ``statewise_manifest.json``, ``README.md`` and ``Modelfile`` to ``out_dir``.

    ``gguf`` (``f16`` or ``q8_0``): also ``statewise.gguf`` (:mod:`trainer.gguf`), which the ``Modelfile`` names.
    ``lora_gguf`` (needs ``gguf``): also ``statewise-lora.gguf`` and the base model's GGUF, in ``base_gguf_dir``
    (default ``out_dir``), reused when it is there already.

    The home's export hash comes from the dataset's ``stats.json`` (recorded at training), else from ``export_dir``.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoConfig, AutoTokenizer

    if gguf:
        check_outtype(gguf)
    if lora_gguf and not gguf:
        raise InputError("--lora-gguf needs --gguf f16 or q8_0 (the type of the base and adapter GGUFs)")
    run, out = Path(run_dir), Path(out_dir)
    adapter = _adapter_dir(run)
    base = json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"]
    out.mkdir(parents=True, exist_ok=True)
    if (out / "adapter").resolve() != adapter.resolve():
        shutil.copytree(adapter, out / "adapter", dirs_exist_ok=True)
    tokenizer = apply_statewise_template(AutoTokenizer.from_pretrained(str(adapter)))
    model = PeftModel.from_pretrained(load_base_model(base, dtype=torch.float32), str(adapter))
    merged = model.merge_and_unload()  # merged in float32, saved in the base model's own dtype
    base_dtype = getattr(AutoConfig.from_pretrained(base), "dtype", None)
    if isinstance(base_dtype, str):
        base_dtype = getattr(torch, base_dtype, None)
    if isinstance(base_dtype, torch.dtype) and base_dtype != torch.float32:
        merged = merged.to(base_dtype)
    merged.generation_config.do_sample = False
    for key in ("temperature", "top_p", "top_k"):
        setattr(merged.generation_config, key, None)
    merged.save_pretrained(out / "merged")
    tokenizer.save_pretrained(out / "merged")
    tokenizer.save_pretrained(out / "adapter")
    summary_path = run / "train_summary.json"
    train_summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    home_hash = train_summary.get("export_content_hash") or (sp.load_export(export_dir).manifest["content_hash"] if export_dir else None)
    weights = sorted((out / "adapter").glob("*.safetensors"))
    manifest = {
        "format": "statewise.model",
        "schema_version": sp.SCHEMA_VERSION,
        "base_model": base,
        "export_content_hash": home_hash,
        "dataset_hash": train_summary.get("dataset_hash"),
        # The languages of the commands trained on: the Home Assistant agent's Languages option (its supported_languages).
        "languages": train_summary.get("languages") or ["en"],
        "adapter_hash": file_hash(*weights) if weights else None,
        "chat_template_kwargs": dict(sp.CHAT_TEMPLATE_KWARGS),
        # The sequence length trained with: serve with at least this context; Home Assistant's token-budget Repair uses it.
        "max_length": train_summary.get("max_length"),
        "max_length_requested": train_summary.get("max_length_requested"),
        "lora": {k: sorted(v) if isinstance(v, list) else v for k, v in json.loads((adapter / "adapter_config.json").read_text()).items()
                 if k in ("r", "lora_alpha", "target_modules", "bias")},
        "eval": _eval_summary(eval_report),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if gguf:
        from .gguf import convert

        target, release = convert(out / "merged", out, gguf)
        manifest["gguf"] = {"file": target.name, "outtype": gguf, "llama_cpp_python": release}
    if lora_gguf:
        from .gguf import convert_lora

        manifest["lora_gguf"] = convert_lora(out / "adapter", base, tokenizer, out, gguf, Path(base_gguf_dir) if base_gguf_dir else None)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out / "README.md").write_text(model_card(manifest, f"statewise-{Path(base).name.lower()}"), encoding="utf-8")
    (out / "Modelfile").write_text(modelfile(tokenizer, manifest["max_length"]), encoding="utf-8")
    return out
