"""Language is one seam: a language is a folder, and a build speaks only the language it was asked for.

The throwaway language ``zz`` (tests/dataset/languages/zz) has made-up words and no Home
Assistant sentences: every word a build writes in it must come from that folder, the home's
own names, or numbers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from statewise_protocol import ExportError, load_export

from dataset_export.language import LANGUAGES_DIR, buildable_languages, load_language, resolve_code
from dataset_export.pipeline import build_dataset

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo_home"
ZZ_ROOT = Path(__file__).resolve().parent / "languages"
ENGLISH = {"the", "turn", "switch", "please", "light", "lights", "can't", "already", "isn't", "which", "there", "is", "no", "set", "to", "and",
           "or", "in", "this", "home", "device", "called", "find", "anything"}


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^\w'+]+", text.casefold()) if w and not w.isdigit()}


def _zz_vocabulary() -> set[str]:
    words: set[str] = set()
    for name in ("sentences.yaml", "words.yaml", "phrases.yaml"):
        text = (ZZ_ROOT / "zz" / name).read_text(encoding="utf-8")
        body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        words |= _words(re.sub(r"\{[a-z_0-9:]+\}", " ", body))
    return words


@pytest.fixture(scope="module")
def zz_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zz") / "ds"
    build_dataset(DEMO, out, size=200, language="zz", language_dir=ZZ_ROOT)
    return out


def test_a_folder_is_a_language_and_a_home_builds_in_it(zz_build: Path) -> None:
    stats = json.loads((zz_build / "stats.json").read_text(encoding="utf-8"))
    assert stats["language"] == "zz"
    assert stats["train"]["examples"] == 200
    card = (zz_build / "dataset_card.md").read_text(encoding="utf-8")
    assert "language:\n- zz\n" in card


def test_the_build_speaks_only_its_language(zz_build: Path) -> None:
    """Commands and text answers hold the folder's words, the home's names and numbers, never English."""
    ontology = load_export(DEMO).ontology
    home = set()
    for e in ontology.entities.values():
        for text in [e["name"], *e.get("aliases", []), e.get("area") or "", e.get("floor") or "", *(e.get("area_aliases") or [])]:
            home |= _words(text)
    allowed = _zz_vocabulary() | home
    rows = [json.loads(line) for name in ("train.jsonl", "heldout.jsonl") for line in (zz_build / name).read_text(encoding="utf-8").splitlines()]
    strays: dict[str, str] = {}
    for row in rows:
        command, answer = row["messages"][1]["content"], row["messages"][2]["content"]
        said = [command] + ([answer] if row["output_class"] == "text" else [])
        for text in said:
            for word in _words(text) - allowed:
                strays.setdefault(word, text)
    assert not strays, strays
    assert all(not (_words(r["messages"][1]["content"]) & (ENGLISH - home)) for r in rows)
    assert any(r["output_class"] == "text" and "nuno" in r["messages"][2]["content"] for r in rows)  # the folder's own replies
    assert all(json.loads(r["intent"]).get("language") == "zz" for r in rows)


def test_two_languages_make_one_dataset_reported_per_language(tmp_path: Path) -> None:
    langs = tmp_path / "langs"
    shutil.copytree(ZZ_ROOT / "zz", langs / "zz")
    shutil.copytree(LANGUAGES_DIR / "en", langs / "en")
    stats = build_dataset(DEMO, tmp_path / "ds", size=300, language="en,zz", language_dir=langs)
    assert stats["language"] == "en,zz"
    per = stats["languages"]
    assert set(per) == {"en", "zz"}
    assert per["en"]["train"]["examples"] == per["zz"]["train"]["examples"] == 150
    for split in per.values():
        assert 0.5 <= split["train"]["classes"]["text"]["share"] <= 0.7
        assert split["heldout"]["examples"] == 15
    rows = [json.loads(line) for line in (tmp_path / "ds" / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {json.loads(r["intent"]).get("language", "en") for r in rows} == {"en", "zz"}
    assert "| zz: " in (tmp_path / "ds" / "dataset_card.md").read_text(encoding="utf-8")


def test_a_language_without_its_files_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "xx").mkdir()
    shutil.copy(ZZ_ROOT / "zz" / "words.yaml", tmp_path / "xx" / "words.yaml")
    with pytest.raises(ExportError) as err:
        load_language("xx", tmp_path)
    assert "sentences.yaml/phrases.yaml" in str(err.value) and "\n" not in str(err.value)
    out = subprocess.run([sys.executable, "-m", "dataset_export", "build", str(DEMO), "--out", str(tmp_path / "ds"), "--language", "xx",
                          "--language-dir", str(tmp_path), "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "sentences.yaml/phrases.yaml" in out.stderr, out.stderr
    assert not (tmp_path / "ds").exists()


def test_a_broken_language_file_names_the_file_and_field(tmp_path: Path) -> None:
    shutil.copytree(ZZ_ROOT / "zz", tmp_path / "zz")
    words = yaml.safe_load((tmp_path / "zz" / "words.yaml").read_text(encoding="utf-8"))
    words["device_nouns"]["hovercraft"] = {"spoken": ["hovo"]}
    (tmp_path / "zz" / "words.yaml").write_text(yaml.safe_dump(words), encoding="utf-8")
    with pytest.raises(ExportError, match=r"words\.yaml: device_nouns/hovercraft: is not a device type"):
        build_dataset(DEMO, tmp_path / "ds", size=50, language="zz", language_dir=tmp_path)
    other = tmp_path / "other"
    shutil.copytree(ZZ_ROOT / "zz", other / "zz")
    phrases = yaml.safe_load((other / "zz" / "phrases.yaml").read_text(encoding="utf-8"))
    del phrases["noop"]
    (other / "zz" / "phrases.yaml").write_text(yaml.safe_dump(phrases), encoding="utf-8")
    with pytest.raises(ExportError, match=r"phrases\.yaml: \(top level\): 'noop' is a required property"):
        load_language("zz", other)


def test_home_assistant_language_tags_find_their_folder(tmp_path: Path) -> None:
    (tmp_path / "de").mkdir()
    (tmp_path / "pt-BR").mkdir()
    assert resolve_code("de-CH", tmp_path) == "de"
    assert resolve_code("pt-BR", tmp_path) == "pt-BR"
    assert resolve_code("pt-PT", tmp_path) == "pt-PT"  # no folder: refused by load_language, never another language
    assert "en" in buildable_languages()
