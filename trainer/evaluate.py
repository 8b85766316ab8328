"""Held-out evaluation: greedy batched generation (two turns after a fetch), scoring, report."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .data import read_rows
from .report import write_report
from .scoring import check_thresholds, followup_messages, score_predictions, summarize
from .template import render_prompt

log = logging.getLogger("trainer")


def load_for_eval(model_dir: str, *, baseline: bool = False, base_model: str = "") -> tuple[Any, Any, str]:
    """``(model, tokenizer, label)`` from an adapter folder, a merged model folder, or (``baseline``) the base.

    The base of a baseline comes from the adapter config or the export manifest; ``base_model`` is the fallback.
    """
    import torch
    from transformers import AutoTokenizer

    from .model import load_base_model, load_tokenizer
    from .train import native_bf16

    cuda = torch.cuda.is_available()
    dtype = (torch.bfloat16 if native_bf16() else torch.float16) if cuda else torch.float32
    path = Path(model_dir)
    adapter_cfg = path / "adapter_config.json"
    if (path / "adapter").is_dir() and not adapter_cfg.is_file():
        path, adapter_cfg = path / "adapter", path / "adapter" / "adapter_config.json"
    manifest = path.parent / "statewise_manifest.json"
    if adapter_cfg.is_file():
        base = json.loads(adapter_cfg.read_text())["base_model_name_or_path"]
    elif manifest.is_file():
        base = json.loads(manifest.read_text())["base_model"]
    else:
        base = base_model or str(path)
    if baseline:
        model, tok, label = load_base_model(base, dtype=dtype), load_tokenizer(base), f"baseline {base}"
    elif adapter_cfg.is_file():
        from peft import PeftModel

        model = PeftModel.from_pretrained(load_base_model(base, dtype=dtype), str(path)).merge_and_unload()  # same outputs, faster
        tok, label = AutoTokenizer.from_pretrained(str(path)), f"adapter {path}"
    else:
        model, tok, label = load_base_model(str(path), dtype=dtype), AutoTokenizer.from_pretrained(str(path)), f"model {path}"
    if cuda:
        model = model.to("cuda")
    model.eval()
    return model, tok, label


def generate(model: Any, tokenizer: Any, conversations: list[list[dict[str, str]]], *, batch_size: int = 8, max_new_tokens: int = 256) -> list[str]:
    """Greedy outputs for ``[system, user]`` conversations, rendered with the chat template (non-thinking)."""
    import torch
    from tqdm.auto import tqdm

    tokenizer.padding_side = "left"
    prompts = [render_prompt(tokenizer, conv) for conv in conversations]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    outputs: list[str] = [""] * len(prompts)
    eos = [tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.pad_token_id]
    for start in tqdm(range(0, len(order), batch_size), desc="generating", disable=len(order) <= batch_size):
        idx = order[start : start + batch_size]
        enc = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.inference_mode():
            out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens, eos_token_id=eos, pad_token_id=tokenizer.pad_token_id)
        for i, seq in zip(idx, out[:, enc["input_ids"].shape[1] :], strict=True):
            outputs[i] = tokenizer.decode(seq, skip_special_tokens=True)
    return outputs


def predict(model: Any, tokenizer: Any, rows: list[dict[str, Any]], *, batch_size: int = 8, max_new_tokens: int = 256) -> dict[str, dict[str, Any]]:
    """``{id: {"id", "output"[, "followup_output"]}}``: turn 1, then turn 2 for every valid fetch."""
    first = generate(model, tokenizer, [r["messages"][:2] for r in rows], batch_size=batch_size, max_new_tokens=max_new_tokens)
    preds = {r["id"]: {"id": r["id"], "output": out} for r, out in zip(rows, first, strict=True)}
    second = [(r, m) for r, out in zip(rows, first, strict=True) if (m := followup_messages(r, out)) is not None]
    if second:
        outs = generate(model, tokenizer, [m for _, m in second], batch_size=batch_size, max_new_tokens=max_new_tokens)
        for (row, _), out in zip(second, outs, strict=True):
            preds[row["id"]]["followup_output"] = out
    return preds


def read_predictions(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{"id", "output"[, "followup_output"]}`` JSONL, by id."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {rec["id"]: rec for rec in (json.loads(line) for line in lines if line.strip())}


def evaluate(
    cfg: TrainConfig,
    dataset: str,
    *,
    model_dir: str = "",
    predictions: str = "",
    baseline: bool = False,
    out_dir: str = "",
    model: Any = None,
    tokenizer: Any = None,
    note: str = "",
) -> dict[str, Any]:
    """Score a held-out set from a model (or a predictions file); write the report; return it.

    ``note`` is a warning printed at the top of the report (e.g. the tiny CPU fallback's).
    """
    rows = read_rows(dataset)
    label = predictions or model_dir
    if predictions:
        preds = read_predictions(predictions)
    else:
        if model is None:
            model, tokenizer, label = load_for_eval(model_dir, baseline=baseline, base_model=cfg.base_model)
        preds = predict(model, tokenizer, rows, batch_size=cfg.eval_batch_size, max_new_tokens=cfg.max_new_tokens)
    results = score_predictions(rows, preds)
    summary = summarize(results)
    criteria = check_thresholds(summary, cfg.thresholds())
    report = {"model": label, "dataset": str(dataset), "passed": all(c["passed"] for c in criteria.values()), "criteria": criteria, "summary": summary}
    if note:
        report["note"] = note
    out = Path(out_dir or (Path(model_dir) / ("eval_baseline" if baseline else "eval") if model_dir else "eval"))
    out.mkdir(parents=True, exist_ok=True)
    if not predictions:
        (out / "predictions.jsonl").write_text("".join(json.dumps(preds[r["id"]], ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (out / "results.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
    write_report(report, out)
    log.info("eval %s: %s (report in %s)", label, "PASSED" if report["passed"] else "FAILED", out)
    return report
