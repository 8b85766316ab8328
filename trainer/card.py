"""Hugging Face model card and Ollama Modelfile for an exported model."""

from __future__ import annotations

import json
from typing import Any

from dataset_export.qwen3 import EOS_TOKEN, PAD_TOKEN

from .gguf import GGUF_FILE
from .template import render_prompt

# Placeholders rendered through the real chat template, then swapped for Ollama's Go template actions.
_SYSTEM, _PROMPT = "\x00statewise-system\x00", "\x00statewise-prompt\x00"


def modelfile(tokenizer: Any, num_ctx: int | None = None) -> str:
    """The Ollama ``Modelfile``: its ``TEMPLATE`` is the exported chat template's own prompt (:func:`trainer.template.render_prompt`).

    Ollama uses Go templates, not Jinja: the prompt for a ``[system, user]`` pair is
    rendered by the chat template itself with placeholder contents, which become
    ``{{ .System }}`` and ``{{ .Prompt }}``, so no Qwen3 markup is written here. ``num_ctx`` is
    the sequence length trained with (Ollama's own default context would cut a long ONTOLOGY).
    """
    prompt = render_prompt(tokenizer, [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": _PROMPT}])
    template = prompt.replace(_SYSTEM, "{{ .System }}").replace(_PROMPT, "{{ .Prompt }}") + "{{ .Response }}" + EOS_TOKEN
    if '"""' in template:
        raise ValueError("the chat template renders a triple quote, which a Modelfile TEMPLATE cannot hold")
    return (f'FROM ./{GGUF_FILE}\nTEMPLATE """{template}"""\n'
            f"PARAMETER stop {EOS_TOKEN}\nPARAMETER stop {PAD_TOKEN}\nPARAMETER temperature 0\n"
            + (f"PARAMETER num_ctx {num_ctx}\n" if num_ctx else ""))


def _length_note(manifest: dict[str, Any]) -> str:
    if manifest.get("max_length_requested") == "auto":
        return " (chosen automatically: the plan's 2048 when the home fits, else the smallest larger budget that holds its longest example)"
    return ""


def _gguf_note(manifest: dict[str, Any]) -> str:
    if manifest.get("gguf"):
        gguf = manifest["gguf"]
        return f"`{GGUF_FILE}` is here, {gguf['outtype']}, written by `--gguf` with the converter of llama-cpp-python {gguf['llama_cpp_python']}"
    return f"write `{GGUF_FILE}` with `python -m trainer export ... --gguf q8_0` (or `f16`)"


def _lora_files(manifest: dict[str, Any]) -> str:
    if not (lora := manifest.get("lora_gguf")):
        return ""
    return (f"- `{lora['adapter']}`: `adapter/` as a GGUF LoRA ({lora['outtype']}), for llama-server on the base GGUF\n"
            f"- `{lora['base']}`: the base model as GGUF with the same template, written once per base model (key `{lora['base_key']}`)")


def _lora_recipe(manifest: dict[str, Any]) -> str:
    if not (lora := manifest.get("lora_gguf")):
        return ""
    base = lora["base"] if "/" in lora["base"] else "./" + lora["base"]
    return ("\n# or the shared base with this home's adapter (a retrained home replaces only the small adapter file):\n"
            f"llama-server -m {base} --lora ./{lora['adapter']} --jinja --reasoning off --temp 0 -c {manifest.get('max_length') or 2048} --port 8000")


def model_card(manifest: dict[str, Any], name: str) -> str:
    """README.md with YAML header, what the model does, evaluation and serving instructions."""
    ev = manifest.get("eval") or {}
    criteria = "\n".join(f"| {k} | {v} |" for k, v in (ev.get("criteria") or {}).items()) or "| (not evaluated) | |"
    return f"""---
base_model: {manifest["base_model"]}
library_name: peft
pipeline_tag: text-generation
license: apache-2.0
tags: [statewise, home-assistant, lora, sft, trl, qwen3, tool-calling]
---

# {name}: Statewise LoRA for {manifest["base_model"]}

A LoRA adapter (and its merged model) that turns a Home Assistant command into
exactly one of: a `get_entity_state` call, ordered v0 action calls (one JSON
line each), or plain text. Trained for one home: export content hash
`{manifest.get("export_content_hash")}`, dataset `{manifest.get("dataset_hash")}`,
tool schemas `{manifest["schema_version"]}`.

The prompt is the Statewise v0 format (system `ONTOLOGY: ...` and, after a fetch,
`STATE: ...`; user command) rendered with Qwen3's chat template **without thinking**.
The shipped template (`merged/chat_template.jinja`, `adapter/chat_template.jinja`)
defaults `enable_thinking` to false, so an OpenAI-compatible server reproduces the
training prompt without extra flags. Use greedy decoding (temperature 0).

Sequence length trained with: **{manifest.get("max_length")} tokens**{_length_note(manifest)}. Serve with
a context of at least that, and set the same value as the agent's *token budget* in
Home Assistant (its Repair warns when the live home outgrows it).

Languages of the commands trained on: **{", ".join(manifest.get("languages") or ["en"])}**. Choose these as the
agent's *Languages* in Home Assistant (Assist pipelines in other languages are not offered this agent).

## Evaluation (held-out set)

Passed: {ev.get("passed")}

| criterion | value |
| --- | --- |
{criteria}

## Files

- `adapter/`: PEFT LoRA adapter (r/alpha/targets in `statewise_manifest.json`) + tokenizer
- `merged/`: base + adapter merged, safetensors, ready to serve or convert
- `statewise_manifest.json`: schema version, base model, hashes, eval summary
- `Modelfile`: Ollama recipe for `{GGUF_FILE}`
{f"- `{GGUF_FILE}`: `merged/` as GGUF ({manifest['gguf']['outtype']}) for llama.cpp and Ollama" if manifest.get("gguf") else ""}
{_lora_files(manifest)}

## Serving

**vLLM** (adapter on the base model; `--chat-template` makes the base model use the non-thinking default):

```bash
vllm serve {manifest["base_model"]} --enable-lora --lora-modules statewise=./adapter \\
  --chat-template ./adapter/chat_template.jinja --max-lora-rank 64
# or the merged model, whose template is already right:
vllm serve ./merged --served-model-name statewise
```

**transformers serve** (CPU works; `pip install "transformers[serving]"`):

```bash
transformers serve --force-model ./merged --port 8000
```

**llama.cpp** ({_gguf_note(manifest)}; the GGUF keeps the chat template):

```bash
python -m llama_cpp.server --model ./{GGUF_FILE} --model_alias statewise --n_ctx {manifest.get("max_length") or 2048} --host 0.0.0.0 --port 8000
# or llama.cpp's own server (--jinja renders the GGUF's template, --reasoning off keeps its non-thinking default; each slot keeps its prompt cache):
llama-server -m ./{GGUF_FILE} --jinja --reasoning off --temp 0 -c {manifest.get("max_length") or 2048} --port 8000{_lora_recipe(manifest)}
```

**Ollama** (`Modelfile`: `FROM ./{GGUF_FILE}`, its `TEMPLATE` rendered from the chat template above, not typed; not run here):

```bash
ollama create statewise -f Modelfile
```

Then point the Statewise Home Assistant integration at the server's `/v1` URL.

## Training

LoRA SFT with TRL `SFTTrainer` and PEFT on q/k/v/o/gate/up/down projections
(bias not trained), loss on the answer only, padding-free packing. Multi-GPU:
`accelerate launch -m trainer train --base-model ... --dataset train.jsonl --output-dir runs/x`.

```json
{json.dumps(manifest.get("lora", {}), sort_keys=True)}
```
"""
