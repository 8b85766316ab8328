"""Shared fixtures: demo rows, a tiny Qwen3 base folder, one short trained run."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.config import Config, make_config
from trainer.data import write_rows
from trainer.fixtures import demo_rows
from trainer.tiny import save_tiny_base


@pytest.fixture(scope="session")
def rows() -> list[dict]:
    return demo_rows()


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory, rows: list[dict]) -> Path:
    return save_tiny_base(rows, tmp_path_factory.mktemp("tiny") / "base", vocab_size=512)


@pytest.fixture(scope="session")
def dataset_file(tmp_path_factory: pytest.TempPathFactory, rows: list[dict]) -> Path:
    return write_rows(rows, tmp_path_factory.mktemp("data") / "train.jsonl")


def _small_config(base: Path, out: Path, **overrides) -> Config:
    """Test settings: tiny model, few steps, no progress bars."""
    values = dict(base_model=str(base), output_dir=str(out), max_length=1024, gradient_accumulation_steps=1, logging_steps=1,
                  save_steps=1000, disable_tqdm=True, max_new_tokens=48, eval_batch_size=16)  # fmt: skip
    values.update(overrides)
    return make_config(**values)


@pytest.fixture(scope="session")
def small_config():
    return _small_config


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, tiny_base: Path, dataset_file: Path) -> dict:
    """Train 2 steps (checkpoint at step 1), then export: shared by the end-to-end and golden tests."""
    from trainer.export import export
    from trainer.train import train

    root = tmp_path_factory.mktemp("run")
    cfg = _small_config(tiny_base, root / "train", dataset=str(dataset_file), max_steps=2, save_steps=1, export_dir="examples/demo_home")
    summary = train(cfg)
    out = export(root / "train", root / "export", export_dir=cfg.script.export_dir)
    return {"cfg": cfg, "summary": summary, "run": root / "train", "export": out}
