"""The offline Qwen3 tokenizer matches the official ids, template and special tokens."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from statewise_protocol import load_ontology, render_messages

from dataset_export import tokens

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo_home"


@pytest.fixture(scope="module")
def tok():
    return tokens.qwen3_tokenizer()


def test_known_ids(tok) -> None:
    assert tok.encode("<|im_start|>user\n", add_special_tokens=False) == [151644, 872, 198]
    assert tok.encode("Hello, world", add_special_tokens=False) == [9707, 11, 1879]
    assert len(tok) == 151669


def test_special_tokens(tok) -> None:
    ids = tok.convert_tokens_to_ids([t for t, _ in tokens.SPECIAL_TOKENS])
    assert ids == list(range(151643, 151669))
    assert (tok.eos_token, tok.eos_token_id) == ("<|im_end|>", 151645)
    assert (tok.pad_token, tok.pad_token_id) == ("<|endoftext|>", 151643)
    assert tok.convert_ids_to_tokens([151665, 151666, 151667, 151668]) == ["<tool_response>", "</tool_response>", "<think>", "</think>"]
    # <think> is not "special" in the official config: decode keeps it; <|im_start|> is dropped.
    assert tok.decode([151667, 151644, 9707], skip_special_tokens=True) == "<think>Hello"


def test_chat_template_is_trl_qwen3(tok) -> None:
    official = (resources.files("trl") / "chat_templates" / "qwen3.jinja").read_text(encoding="utf-8")
    assert tok.chat_template == official


def test_matches_tiktoken_reference(tok) -> None:
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    enc = tiktoken.Encoding("ref", pat_str=tokens.PATTERN, mergeable_ranks=load_tiktoken_bpe(str(tokens.vocab_path())), special_tokens={})
    ontology = load_ontology(DEMO / "ontology.json")
    samples = [
        ontology.prompt_json,
        ontology.file_json(),
        "Turn on the lounge blinds to 40%, please! Ça va? 12345 日本語\n\n  tabs\tand   spaces",
        '{"tool_call":{"name":"tv_input","arguments":{"entity_id":"movie_room_tv","input":"plex"}}}',
    ]
    for text in samples:
        assert tok.encode(text, add_special_tokens=False) == enc.encode_ordinary(text)


def test_counts(tok) -> None:
    assert tokens.count_tokens("Hello, world") == 3
    msgs = render_messages(load_ontology(DEMO / "ontology.json"), "turn on the lamp", answer="Which lamp?")
    text = tokens.render_chat(msgs)
    assert text.startswith("<|im_start|>system\nONTOLOGY: [")
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\nWhich lamp?<|im_end|>\n")
    assert tokens.count_message_tokens(msgs) == len(tok.encode(text, add_special_tokens=False))
    prompt_only = tokens.render_chat(msgs[:2])
    assert prompt_only.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert tokens.count_message_tokens(msgs) > tokens.count_message_tokens(msgs[:2])


def test_cache_is_reused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STATEWISE_CACHE_DIR", str(tmp_path))
    calls: list[Path] = []
    monkeypatch.setattr(tokens, "_build", lambda out: (calls.append(out), (out / "tokenizer.json").write_text("{}")))
    first = tokens.tokenizer_dir()
    second = tokens.tokenizer_dir()
    assert first == second == tmp_path / "tokenizers" / tokens.cache_key()
    assert len(calls) == 1
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # temp folder renamed, none left behind


def test_chars_per_token_is_a_lower_bound_on_every_example_home():
    """Home Assistant estimates prompt tokens as characters / CHARS_PER_TOKEN: it must never underestimate."""
    from statewise_protocol import CHARS_PER_TOKEN, load_export, system_text

    homes = sorted(p.parent for p in (Path(__file__).resolve().parents[2] / "examples").glob("*/ontology.json"))
    assert len(homes) >= 6
    for home in homes:
        export = load_export(home)
        for text in (system_text(export.ontology), system_text(export.ontology, export.snapshots[0].states)):
            assert len(text) / CHARS_PER_TOKEN >= tokens.count_tokens(text), home.name
