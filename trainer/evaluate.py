"""Held-out evaluation: every row through the agent loop Home Assistant runs, scoring, report.

Each row's command runs through :class:`statewise_protocol.agent.StatewiseAgent`
(fetch -> STATE -> act) against its own :class:`statewise_protocol.simulate.SimulatedHome`
(the row's whole-home state); the loops run concurrently and their model requests
are answered in greedy batches. A predictions file replays recorded outputs
through the same loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statewise_protocol.agent import AskFn, StatewiseAgent, TurnResult
from statewise_protocol.sensitive import POLICY_EVALUATE
from statewise_protocol.simulate import SimulatedHome

from dataset_export.qwen3 import EOS_TOKEN

from .config import AUTO, EVAL_CPU_BATCH, Config
from .data import read_rows
from .report import write_report
from .scoring import check_thresholds, row_context, score_predictions, summarize
from .template import render_prompt

log = logging.getLogger("trainer")
EVAL_MAX_BATCH = 128  # prompts per generate() call at most (auto)
EVAL_MEMORY_SHARE = 0.5  # of the GPU's free memory, for the KV cache (auto)


def load_for_eval(model_dir: str, *, baseline: bool = False, base_model: str = "") -> tuple[Any, Any, str]:
    """``(model, tokenizer, label)`` from an adapter folder, a merged model folder, or (``baseline``) the base.

    The base of a baseline comes from the adapter config or the export manifest; ``base_model`` is the fallback.
    """
    import torch
    from transformers import AutoTokenizer

    from .config import native_bf16
    from .model import load_base_model, load_tokenizer

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


TIMING_FILE = "generation_timing.json"


@dataclass
class GenerationStats:
    """What generation cost: wall seconds, new tokens up to each row's end of turn, ``generate()`` calls, the batch."""

    batch_size: int = 0
    batch_size_why: str = ""
    seconds: float = 0.0
    tokens: int = 0
    calls: int = 0
    row_tokens: list[int] = field(default_factory=list)  # of the last generate(), in the order of its conversations

    def as_dict(self) -> dict[str, Any]:
        """For ``report.json``: what the same model and rows always give (greedy decoding), so reports stay byte-identical."""
        return {"batch_size": self.batch_size, "batch_size_why": self.batch_size_why, "calls": self.calls, "new_tokens": self.tokens}

    def timing(self) -> dict[str, Any]:
        """For ``generation_timing.json``: wall seconds and tokens/s, which vary run to run."""
        return {"seconds": round(self.seconds, 3), "new_tokens": self.tokens,
                "tokens_per_s": round(self.tokens / self.seconds, 1) if self.seconds > 0 else None}  # fmt: skip


def end_of_turn_ids(tokenizer: Any) -> list[int]:
    """Tokens that end a row's answer: ``<|im_end|>`` and the pad token (``<|endoftext|>``)."""
    return [tokenizer.convert_tokens_to_ids(EOS_TOKEN), tokenizer.pad_token_id]


def new_tokens_per_row(sequences: Any, stop: list[int]) -> list[int]:
    """Tokens each row generated, its end-of-turn token included (``generate`` pads a finished row with ``stop`` ids)."""
    counts = []
    for seq in sequences.tolist():
        end = next((i for i, t in enumerate(seq) if t in stop), None)
        counts.append(len(seq) if end is None else end + 1)
    return counts


def choose_eval_batch(requested: int | str, model: Any, prompt_tokens: int, max_new_tokens: int) -> tuple[int, str]:
    """Prompts per ``generate()`` call: a number as given; ``auto``: half the GPU's free memory over one row's KV cache.

    One row holds ``layers x 2 x kv_heads x head_dim`` values per token for ``prompt_tokens + max_new_tokens``
    tokens, in the model's dtype. Without a GPU: ``EVAL_CPU_BATCH``.
    """
    import torch

    if requested != AUTO:
        return int(requested), "as requested"
    if not torch.cuda.is_available():
        return EVAL_CPU_BATCH, "auto: no GPU, the fixed CPU batch"
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    per_row = cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * head_dim * model.dtype.itemsize * (prompt_tokens + max_new_tokens)
    free, _total = torch.cuda.mem_get_info()
    batch = max(1, min(EVAL_MAX_BATCH, int(free * EVAL_MEMORY_SHARE) // per_row))
    return batch, f"auto: {free / 2**30:.1f} GiB free, {per_row / 2**20:.1f} MiB of KV cache per row of {prompt_tokens}+{max_new_tokens} tokens"


def generate(model: Any, tokenizer: Any, conversations: list[list[dict[str, str]]], *, batch_size: int = 8, max_new_tokens: int = 256,
             stats: GenerationStats | None = None) -> list[str]:
    """Greedy outputs for ``[system, user]`` conversations, rendered with the chat template (non-thinking).

    Every row stops at its own end-of-turn token (``generate`` ends the call when all rows have); prompts are
    sorted by length so a batch holds rows of similar length. ``stats`` accumulates time and new tokens.
    """
    import torch
    from tqdm.auto import tqdm

    stats = stats if stats is not None else GenerationStats(batch_size=batch_size)
    tokenizer.padding_side = "left"
    prompts = [render_prompt(tokenizer, conv) for conv in conversations]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    outputs: list[str] = [""] * len(prompts)
    counts: list[int] = [0] * len(prompts)
    eos = end_of_turn_ids(tokenizer)
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for start in tqdm(range(0, len(order), batch_size), desc="generating", disable=len(order) <= batch_size):
        idx = order[start : start + batch_size]
        enc = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        began = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens, eos_token_id=eos, pad_token_id=tokenizer.pad_token_id)
        sync()
        stats.seconds += time.perf_counter() - began
        stats.calls += 1
        new = out[:, enc["input_ids"].shape[1] :]
        for i, seq, n in zip(idx, new, new_tokens_per_row(new, eos), strict=True):
            outputs[i] = tokenizer.decode(seq, skip_special_tokens=True)
            counts[i] = n
    stats.tokens += sum(counts)
    stats.row_tokens = counts
    return outputs


LOOP_FETCH_ROUNDS = 1  # as a Home Assistant agent with default options


async def _run_turns(rows: list[dict[str, Any]], ask_for: Callable[[int], AskFn]) -> list[tuple[TurnResult, SimulatedHome]]:
    """Each row's command through the agent loop against its own simulated home, concurrently."""
    runs = []
    for index, row in enumerate(rows):
        ontology, state, command = row_context(row)
        home = SimulatedHome(ontology, json.loads(row["state"]) if row.get("state") else {})
        # The model's plan is scored, not Home Assistant's safety policy.
        agent = StatewiseAgent(ask_for(index), home, fetch_rounds=LOOP_FETCH_ROUNDS, sensitive_policy=POLICY_EVALUATE)
        runs.append((agent.async_run(command, ontology, state), home))
    results = await asyncio.gather(*(run for run, _ in runs))
    return [(result, home) for result, (_, home) in zip(results, runs, strict=True)]


class _BatchedAsk:
    """Collects the loops' model requests and answers them in greedy batches, once every loop is waiting."""

    def __init__(self, answer: Callable[[list[list[dict[str, str]]]], list[str]]) -> None:
        self._answer = answer
        self._pending: list[tuple[list[dict[str, str]], asyncio.Future[str]]] = []

    def ask_for(self, _index: int) -> AskFn:
        async def ask(messages: list[dict[str, str]]) -> str:
            future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._pending.append((messages, future))
            return await future

        return ask

    async def drive(self, turns: Awaitable[Any]) -> Any:
        task = asyncio.ensure_future(turns)
        while not task.done():
            await asyncio.sleep(0)
            if self._pending and _all_waiting(task, self._pending):
                batch, self._pending = self._pending, []
                for (_, future), output in zip(batch, self._answer([m for m, _ in batch]), strict=True):
                    future.set_result(output)
        return task.result()


def _all_waiting(task: asyncio.Future[Any], pending: list[Any]) -> bool:
    """True when every unfinished loop is blocked on a model request (nothing else can run)."""
    live = [t for t in asyncio.all_tasks() if not t.done() and t is not asyncio.current_task() and t is not task]
    return len(pending) >= len(live)


def predict(model: Any, tokenizer: Any, rows: list[dict[str, Any]], *, batch_size: int | str = 8, max_new_tokens: int = 256,
            stats: GenerationStats | None = None) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Run every row through the agent loop with the model: ``({id: {"id", "output"[, "followup_output"]}}, {id: final home})``.

    ``batch_size`` ``auto`` is sized for the longest first-turn prompt (a second turn adds only STATE).
    """
    stats = stats if stats is not None else GenerationStats()
    longest = max((len(tokenizer(render_prompt(tokenizer, r["messages"][:2]), add_special_tokens=False)["input_ids"]) for r in rows), default=0)
    stats.batch_size, stats.batch_size_why = choose_eval_batch(batch_size, model, longest, max_new_tokens)
    log.info("eval: %d prompts per generate() call (%s)", stats.batch_size, stats.batch_size_why)
    batched = _BatchedAsk(lambda convs: generate(model, tokenizer, convs, batch_size=stats.batch_size, max_new_tokens=max_new_tokens, stats=stats))
    turns = asyncio.run(batched.drive(_run_turns(rows, batched.ask_for)))
    return _collect(rows, turns)


def replay(rows: list[dict[str, Any]], predictions: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Run every row through the agent loop, answering from a predictions file (``output``, then ``followup_output``)."""

    def ask_for(index: int) -> AskFn:
        pred = predictions.get(rows[index]["id"], {})
        answers = [pred.get("output", ""), pred.get("followup_output", "")]

        async def ask(messages: list[dict[str, str]]) -> str:
            return answers.pop(0) if answers else ""

        return ask

    return _collect(rows, asyncio.run(_run_turns(rows, ask_for)))


def _collect(rows: list[dict[str, Any]], turns: list[tuple[TurnResult, SimulatedHome]]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    preds: dict[str, dict[str, Any]] = {}
    finals: dict[str, dict[str, Any]] = {}
    for row, (result, home) in zip(rows, turns, strict=True):
        pred: dict[str, Any] = {"id": row["id"], "output": result.outputs[0] if result.outputs else ""}
        if len(result.outputs) > 1:
            pred["followup_output"] = result.outputs[1]
        preds[row["id"]] = pred
        finals[row["id"]] = home.states
    return preds, finals


def read_predictions(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{"id", "output"[, "followup_output"]}`` JSONL, by id."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {rec["id"]: rec for rec in (json.loads(line) for line in lines if line.strip())}


def evaluate(
    cfg: Config,
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
    stats = None
    if predictions:
        preds, finals = replay(rows, read_predictions(predictions))
    else:
        if model is None:
            model, tokenizer, label = load_for_eval(model_dir, baseline=baseline, base_model=cfg.base_model)
        stats = GenerationStats()
        preds, finals = predict(model, tokenizer, rows, batch_size=cfg.evaluation.eval_batch_size, max_new_tokens=cfg.evaluation.max_new_tokens,
                                stats=stats)  # fmt: skip
        log.info("eval: generated %d tokens in %.1f s (%s tokens/s)", stats.tokens, stats.seconds, stats.timing()["tokens_per_s"])
    results = score_predictions(rows, preds, finals)
    summary = summarize(results)
    criteria = check_thresholds(summary, cfg.evaluation.thresholds())
    report = {"model": label, "dataset": str(dataset), "passed": all(c["passed"] for c in criteria.values()), "criteria": criteria, "summary": summary,
              "agent_loop": f"{StatewiseAgent.__module__}.{StatewiseAgent.__qualname__}"}
    if stats is not None:
        report["generation"] = stats.as_dict()
    if note:
        report["note"] = note
    out = Path(out_dir or (Path(model_dir) / ("eval_baseline" if baseline else "eval") if model_dir else "eval"))
    out.mkdir(parents=True, exist_ok=True)
    if not predictions:
        (out / "predictions.jsonl").write_text("".join(json.dumps(preds[r["id"]], ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    if stats is not None:  # beside the report, not in it: the report is byte-identical for the same model and rows
        (out / TIMING_FILE).write_text(json.dumps(stats.timing(), indent=1) + "\n", encoding="utf-8")
    (out / "results.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
    write_report(report, out)
    log.info("eval %s: %s (report in %s)", label, "PASSED" if report["passed"] else "FAILED", out)
    return report
