"""Build the llama.cpp test model: a random-weight tiny Qwen3 with the real Qwen3 vocabulary, exported to GGUF.

Run with the trainer environment (``.venv/trainer/bin/python``)::

    python tests/e2e/make_gguf_model.py EXPORT_DIR OUT_DIR [--outtype f16]

llama.cpp's converter recognises tokenizers by the ids they give a probe text, so
the model needs the full offline Qwen3 vocabulary (``dataset_export.tokens``), not
the small one the overfit test trains. Its LoRA adapter is PEFT's initial one (an
identity: B is zero), so ``trainer.export`` runs its real path: merge, the
non-thinking chat template, manifest, ``Modelfile`` and ``--gguf``. OUT_DIR gets
``export/`` (with ``statewise.gguf``) and ``cases.json``: per command of the home
(EXPORT_DIR, a live Home Assistant export), the system prompt and the prompt token
ids of the training format, which a server must render too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import statewise_protocol as sp

from dataset_export.tokens import qwen3_tokenizer
from trainer.config import LORA_TARGET_MODULES
from trainer.export import export
from trainer.gguf import OUTTYPES
from trainer.template import apply_statewise_template
from trainer.tiny import tiny_qwen3

COMMANDS = ("turn on the kitchen lights", "turn off the living room lights", "lock the front door", "what time is it")


def make_base(out: Path) -> Path:
    """Write the random-weight tiny Qwen3 with the real vocabulary and the exported template to ``out``."""
    tokenizer = apply_statewise_template(qwen3_tokenizer())
    tiny_qwen3(tokenizer, hidden=64, layers=2).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def make_adapter(base_dir: Path, out: Path, seed: int | None = None) -> Path:
    """A LoRA adapter of ``base_dir`` in ``out``: PEFT's initial one (an identity: B is zero), or with B drawn from ``seed``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(base_dir)  # so the adapter names its base's folder
    adapter = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=list(LORA_TARGET_MODULES), lora_dropout=0.0))
    if seed is not None:  # an adapter that changes the answers
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, param in adapter.named_parameters():
                if "lora_B" in name:
                    param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    adapter.save_pretrained(out)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the base, its identity adapter, the export with GGUF and ``cases.json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--outtype", choices=OUTTYPES, default="f16")
    args = parser.parse_args(argv)
    out = Path(args.out_dir)
    make_base(out / "tiny-base")
    make_adapter(out / "tiny-base", out / "train")
    tokenizer = apply_statewise_template(qwen3_tokenizer())
    exported = export(out / "train", out / "export", export_dir=args.export_dir, gguf=args.outtype)
    ontology = sp.load_export(args.export_dir).ontology
    cases = []
    for command in COMMANDS:
        messages = sp.render_messages(ontology, command)
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True, **sp.CHAT_TEMPLATE_KWARGS)["input_ids"]
        cases.append({"command": command, "system": messages[0]["content"], "prompt_ids": list(ids)})
    gguf = exported / json.loads((exported / "statewise_manifest.json").read_text(encoding="utf-8"))["gguf"]["file"]
    (out / "cases.json").write_text(json.dumps({"gguf": str(gguf), "cases": cases}, indent=2) + "\n", encoding="utf-8")
    print(f"GGUF model: {gguf} ({gguf.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
