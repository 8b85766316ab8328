"""``python -m dataset_export render-prompt / check-output``, run as users run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from statewise_protocol import load_ontology, load_state, render_messages

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo_home"
ONTOLOGY = str(DEMO / "ontology.json")
SNAPSHOTS = str(DEMO / "snapshots.json")
BED_ON = '{"tool_call":{"name":"light_power","arguments":{"entity_id":"light.bed_light","state":"on"}}}'


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "dataset_export", *args], input=stdin, capture_output=True, cwd=ROOT, timeout=60, check=False)


def test_render_prompt_without_state() -> None:
    out = run("render-prompt", "--ontology", ONTOLOGY, "--command", "allume la lampe de chevet")
    assert out.returncode == 0, out.stderr
    messages = json.loads(out.stdout)
    assert messages == render_messages(load_ontology(ONTOLOGY), "allume la lampe de chevet")
    assert "\nSTATE: " not in messages[0]["content"]
    assert "allume la lampe de chevet" in out.stdout.decode("utf-8")


def test_render_prompt_with_state(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps({"light.bed_light": {"state": "off"}}), encoding="utf-8")
    out = run("render-prompt", "--ontology", ONTOLOGY, "--state", str(state_file), "--command", "lamp on")
    assert out.returncode == 0, out.stderr
    system = json.loads(out.stdout)[0]["content"]
    assert system.endswith('\nSTATE: {"light.bed_light":{"state":"off"}}')
    # A snapshots.json gives its first snapshot.
    out = run("render-prompt", "--ontology", ONTOLOGY, "--state", SNAPSHOTS, "--command", "lamp on")
    expected = render_messages(load_ontology(ONTOLOGY), "lamp on", load_state(SNAPSHOTS))
    assert json.loads(out.stdout) == expected


@pytest.mark.parametrize(
    ("output", "code", "kind", "errors"),
    [
        (BED_ON.encode() + b"\n", 0, "action", []),
        (b"Which lamp do you mean?", 0, "text", []),
        (b"Sure!\n" + BED_ON.encode(), 1, "invalid", ["mixed_text_and_json"]),
        (BED_ON.replace("bed_light", "garden").encode(), 1, "invalid", ["unknown_entity"]),
        (b"\xff\xfe", 1, "invalid", ["not_text"]),
        (b"", 1, "invalid", ["empty_output"]),
    ],
)
def test_check_output(output: bytes, code: int, kind: str, errors: list[str]) -> None:
    out = run("check-output", "--ontology", ONTOLOGY, stdin=output)
    assert out.returncode == code, out.stderr
    verdict = json.loads(out.stdout)
    assert (verdict["class"], verdict["valid"], [e["code"] for e in verdict["errors"]]) == (kind, code == 0, errors)
    assert set(verdict) == {"class", "valid", "calls", "text", "errors"}


def test_check_output_uses_state() -> None:
    fetch = b'{"tool_call":{"name":"get_entity_state","arguments":{"entity_ids":["light.bed_light"]}}}'
    assert run("check-output", "--ontology", ONTOLOGY, stdin=fetch).returncode == 0
    out = run("check-output", "--ontology", ONTOLOGY, "--state", SNAPSHOTS, stdin=fetch)
    assert out.returncode == 1
    assert [e["code"] for e in json.loads(out.stdout)["errors"]] == ["state_already_given"]


def test_check_output_lone_surrogate_is_refused_in_json() -> None:
    """A lone surrogate in an argument is not text (it could not be sent to Home Assistant): refused, reported as JSON."""
    out = run("check-output", "--ontology", ONTOLOGY, stdin=b'{"tool_call":{"name":"plex_play","arguments":{"title":"\\ud800"}}}')
    assert out.returncode == 1, out.stderr
    assert [e["code"] for e in json.loads(out.stdout)["errors"]] == ["not_text"]


def test_bad_files_name_file_and_field(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    out = run("check-output", "--ontology", str(missing), stdin=BED_ON.encode())
    assert (out.returncode, out.stdout) == (2, b"")
    assert f"error: {missing}: file not found" in out.stderr.decode()

    bad = tmp_path / "ontology.json"
    doc = json.loads(Path(ONTOLOGY).read_text(encoding="utf-8"))
    doc["entities"][3]["present"] = "yes"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    out = run("render-prompt", "--ontology", str(bad), "--command", "x")
    assert out.returncode == 2
    assert f"{bad}: $.entities[3].present: 'yes' is not of type 'boolean'" in out.stderr.decode()

    not_json = tmp_path / "state.json"
    not_json.write_text("{oops", encoding="utf-8")
    out = run("render-prompt", "--ontology", ONTOLOGY, "--state", str(not_json), "--command", "x")
    assert out.returncode == 2
    assert f"{not_json}: line 1 column 2: not valid JSON" in out.stderr.decode()

    bad_state = tmp_path / "bad_state.json"
    bad_state.write_text(json.dumps({"light.bed_light": {"brightness": 3}}), encoding="utf-8")
    out = run("check-output", "--ontology", ONTOLOGY, "--state", str(bad_state), stdin=BED_ON.encode())
    assert out.returncode == 2
    assert f"{bad_state}: $.light.bed_light" in out.stderr.decode() and "state" in out.stderr.decode()


def test_usage_errors() -> None:
    assert run().returncode == 2
    assert run("render-prompt", "--ontology", ONTOLOGY).returncode == 2  # --command missing
    help_text = run("--help").stdout.decode()
    assert "render-prompt" in help_text and "check-output" in help_text


def test_check_output_takes_the_ontology_as_a_prompt_shows_it(tmp_path: Path) -> None:
    """The ONTOLOGY JSON copied from a prompt, a whole system text, or a dataset row work as --ontology / --row."""
    from statewise_protocol import load_export, system_text

    ontology = load_export(DEMO).ontology
    prompt_form = tmp_path / "prompt.json"
    prompt_form.write_text(ontology.prompt_json, encoding="utf-8")
    system = tmp_path / "system.txt"
    system.write_text(system_text(ontology, {"light.bed_light": {"state": "off"}}), encoding="utf-8")
    fetch = b'{"tool_call":{"name":"get_entity_state","arguments":{"entity_ids":["light.bed_light"]}}}'
    for path in (prompt_form, system):
        out = run("check-output", "--ontology", str(path), stdin=BED_ON.encode())
        assert out.returncode == 0, out.stderr
    # the system text's STATE counts: fetching what it holds is invalid
    out = run("check-output", "--ontology", str(system), stdin=fetch)
    assert [e["code"] for e in json.loads(out.stdout)["errors"]] == ["state_already_given"]
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"messages": [{"role": "system", "content": system.read_text()}, {"role": "user", "content": "x"}]}) + "\n")
    out = run("check-output", "--row", f"{rows}:1", stdin=fetch)
    assert out.returncode == 1 and [e["code"] for e in json.loads(out.stdout)["errors"]] == ["state_already_given"]
    out = run("check-output", "--row", f"{rows}:2", stdin=fetch)
    assert out.returncode == 2 and f"{rows}: line 2: no such line" in out.stderr.decode()


def test_errors_never_echo_whole_documents(tmp_path: Path) -> None:
    """Any JSON that is not an ontology gets a one-line error naming the file, not the document printed back."""
    big = {"entities": [{"id": f"light.l{i}", "name": "x" * 50} for i in range(200)]}
    cases = {"list.json": [list(range(400))], "dict.json": big, "format.json": {"format": "statewise.ontology", "version": 0, "entities": "x" * 5000}}
    for name, doc in cases.items():
        path = tmp_path / name
        path.write_text(json.dumps(doc), encoding="utf-8")
        out = run("check-output", "--ontology", str(path), stdin=BED_ON.encode())
        err = out.stderr.decode().strip()
        assert out.returncode == 2 and out.stdout == b"", name
        assert err.startswith(f"error: {path}: ") and len(err.splitlines()) == 1 and len(err) < 400, (name, err[:500])


@pytest.mark.parametrize(("content", "words"), [('{"a": NaN}', "NaN is not a JSON number"), ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
                                                ('{"a": ' + "7" * 5000 + "}", "not valid JSON")])  # fmt: skip
def test_json_that_hurts_the_reader_is_one_line_and_exit_2(tmp_path: Path, content: str, words: str) -> None:
    """NaN, deep nesting, a 5,000-digit integer: one line naming the file, exit code 2, no traceback (issue 17)."""
    bad = tmp_path / "ontology.json"
    bad.write_text(content, encoding="utf-8")
    out = run("render-prompt", "--ontology", str(bad), "--command", "x")
    err = out.stderr.decode()
    assert (out.returncode, out.stdout) == (2, b"")
    assert f"{bad}:" in err and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
