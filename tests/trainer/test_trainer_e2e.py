"""train -> eval -> export on a tiny Qwen3, resume, determinism, the `run` pipeline, and the overfit proof."""

import json

import pytest
import torch
from safetensors import safe_open

from trainer.cli import main
from trainer.config import LORA_TARGET_MODULES
from trainer.data import write_rows
from trainer.evaluate import GenerationStats, evaluate, generate
from trainer.train import build_trainer, train


def test_train_eval_export(trained_run, dataset_file):
    run, out, cfg = trained_run["run"], trained_run["export"], trained_run["cfg"]
    assert trained_run["summary"]["global_step"] == 2 and trained_run["summary"]["examples"] == 9
    adapter_cfg = json.loads((run / "adapter" / "adapter_config.json").read_text())
    assert set(adapter_cfg["target_modules"]) == set(LORA_TARGET_MODULES) and adapter_cfg["bias"] == "none"
    with safe_open(str(run / "adapter" / "adapter_model.safetensors"), "pt") as fh:
        keys = list(fh.keys())
    assert keys and all("lora_A" in k or "lora_B" in k for k in keys)
    assert {k.split(".")[-3] for k in keys if "layers.0." in k} == set(LORA_TARGET_MODULES)

    first = evaluate(cfg, str(dataset_file), model_dir=str(run), out_dir=str(run / "eval1"))
    second = evaluate(cfg, str(dataset_file), model_dir=str(run), out_dir=str(run / "eval2"))
    assert (run / "eval1" / "predictions.jsonl").read_text() == (run / "eval2" / "predictions.jsonl").read_text()
    assert first["summary"] == second["summary"]
    assert not first["passed"]  # two steps on a random model: the thresholds must catch it
    gen = first["generation"]  # what generation took, in the (deterministic) report; its timing beside it
    assert gen["batch_size"] == 16 and gen["batch_size_why"] == "as requested" and gen["calls"] >= 1
    assert 0 < gen["new_tokens"] <= 48 * 2 * first["summary"]["rows"]
    timing = json.loads((run / "eval1" / "generation_timing.json").read_text())
    assert timing["new_tokens"] == gen["new_tokens"] and timing["seconds"] > 0
    assert timing["tokens_per_s"] == pytest.approx(gen["new_tokens"] / timing["seconds"], rel=0.01)
    assert f"- generation: {gen['new_tokens']} new tokens," in (run / "eval1" / "report.md").read_text()
    for name in ("report.json", "report.md"):  # same model, same rows: byte-identical reports
        assert (run / "eval1" / name).read_bytes() == (run / "eval2" / name).read_bytes(), name
    assert {p.name for p in (run / "eval1").iterdir()} >= {"report.json", "report.md", "criteria.png", "confusion.png", "domains.png"}

    manifest = json.loads((out / "statewise_manifest.json").read_text())
    assert manifest["schema_version"] == "v0" and manifest["base_model"] == cfg.base_model
    assert manifest["export_content_hash"].startswith("sha256:") and manifest["dataset_hash"] == trained_run["summary"]["dataset_hash"]
    assert manifest["chat_template_kwargs"] == {"enable_thinking": False}
    assert (manifest["max_length"], manifest["max_length_requested"]) == (1024, 1024) == (trained_run["summary"]["max_length"], 1024)
    assert "PARAMETER num_ctx 1024\n" in (out / "Modelfile").read_text()
    card = (out / "README.md").read_text()
    assert "Sequence length trained with: **1024 tokens**" in card
    # the languages of the dataset (its stats.json) are the model's, for the agent's Languages option
    stats = dataset_file.parent / "stats.json"
    expected = json.loads(stats.read_text())["language"].split(",") if stats.is_file() else ["en"]
    assert manifest["languages"] == trained_run["summary"]["languages"] == expected
    assert f"Languages of the commands trained on: **{', '.join(expected)}**" in card
    assert card.startswith("---\nbase_model:") and all(s in card for s in ("--enable-lora", "GGUF", "ollama create", "transformers serve"))
    assert (out / "merged" / "model.safetensors").is_file() and (out / "adapter" / "adapter_model.safetensors").is_file()
    merged = evaluate(cfg, str(dataset_file), model_dir=str(out / "merged"), out_dir=str(run / "eval_merged"))
    assert (run / "eval_merged" / "predictions.jsonl").read_text() == (run / "eval1" / "predictions.jsonl").read_text()
    assert merged["summary"] == first["summary"]
    baseline = evaluate(cfg, str(dataset_file), model_dir=str(run), baseline=True, out_dir=str(run / "eval_base"))
    assert baseline["model"].startswith("baseline ")


def test_resume_from_checkpoint(trained_run, small_config, tiny_base, dataset_file, tmp_path):
    out = tmp_path / "resume"
    train(small_config(tiny_base, out, dataset=str(dataset_file), max_steps=1, save_steps=1))
    summary = train(small_config(tiny_base, out, dataset=str(dataset_file), max_steps=2, save_steps=1, resume_from_checkpoint="auto"))
    assert summary["resumed_from"].endswith("checkpoint-1") and summary["global_step"] == 2
    assert summary["trained_tokens"] > 0 and summary["tokens_per_s"] is None  # the tokens before the resume were not timed here


def test_run_pipeline_exit_code(dataset_file, tiny_base, tmp_path):
    """`python -m trainer`: an unavailable base model on a CPU machine falls back to the tiny model."""
    gpu = torch.cuda.is_available()
    base = str(tiny_base) if gpu else "statewise-test/no-such-model"
    code = main(["--base-model", base, "--dataset", str(dataset_file), "--heldout", str(dataset_file), "--output-dir", str(tmp_path),
                 "--max-steps", "1", "--gradient-accumulation-steps", "1", "--max-new-tokens", "24", "--disable-tqdm",
                 "--eval-baseline"])  # fmt: skip
    assert (tmp_path / "train" / "adapter" / "adapter_config.json").is_file() and (tmp_path / "eval" / "report.md").is_file()
    manifest = json.loads((tmp_path / "export" / "statewise_manifest.json").read_text())
    assert manifest["eval"]["passed"] is False and manifest["base_model"] == (str(tiny_base) if gpu else str(tmp_path / "tiny-base"))
    # --max-length auto (the default): this dataset has no stats.json, its longest row fits the plan's 2048.
    assert (manifest["max_length"], manifest["max_length_requested"]) == (2048, "auto")
    if gpu:  # a real (local) base: one step of training fails the plan's thresholds, and the exit code says so
        assert code == 1 and "note" not in manifest["eval"]
    else:  # the tiny fallback is a smoke run: exit 0, and every report says its figures are meaningless
        assert code == 0
        assert "meaningless" in manifest["eval"]["note"]
        for page in (tmp_path / "eval" / "report.md", tmp_path / "eval_baseline" / "report.md", tmp_path / "README.md"):
            assert "WARNING" in page.read_text() and "meaningless" in page.read_text()


def test_overfit_handful(rows, tiny_base, small_config, tmp_path):
    """Labels and masks are right: loss falls 10x and greedy decoding reproduces targets."""
    few = [rows[i] for i in (0, 4, 6, 7)]
    cfg = small_config(tiny_base, tmp_path, dataset=str(write_rows(few, tmp_path / "few.jsonl")), max_steps=36, learning_rate=1e-2,
                       lora_dropout=0.0, lr_scheduler_type="constant")  # fmt: skip
    trainer = build_trainer(cfg, few)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert sum(losses[-3:]) / 3 < losses[0] / 10, losses
    model = trainer.model.eval().merge_and_unload()
    stats = GenerationStats()
    tok = trainer.processing_class
    with torch.no_grad():
        outputs = generate(model, tok, [r["messages"][:2] for r in few], max_new_tokens=48, stats=stats)
    exact = [o == r["messages"][2]["content"] for o, r in zip(outputs, few, strict=True)]
    print("overfit losses", losses[0], losses[-1], "exact", sum(exact), "of", len(exact))
    assert any(exact), outputs
    # each row stopped at its own <|im_end|>: its new tokens are the answer's and the end token, in one batch of rows of other lengths
    answers = [len(tok(r["messages"][2]["content"], add_special_tokens=False)["input_ids"]) + 1 for r in few]
    for ok, count, expected in zip(exact, stats.row_tokens, answers, strict=True):
        assert count <= 48
        if ok:
            assert count == expected < 48
    assert stats.tokens == sum(stats.row_tokens) and stats.calls == 1


def test_seeded_training_is_reproducible_and_logs_tensorboard(small_config, tiny_base, dataset_file, tmp_path):
    weights = []
    for name in ("a", "b"):
        cfg = small_config(tiny_base, tmp_path / name, dataset=str(dataset_file), max_steps=1, report_to="tensorboard" if name == "a" else "none")
        train(cfg)
        weights.append((tmp_path / name / "adapter" / "adapter_model.safetensors").read_bytes())
    assert weights[0] == weights[1]
    assert list((tmp_path / "a").rglob("events.out.tfevents.*")) and not list((tmp_path / "b").rglob("events.out.tfevents.*"))
