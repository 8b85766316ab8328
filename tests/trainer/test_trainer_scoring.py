"""Proof of the scorer: expected outputs score perfectly; each mutation fails exactly its criteria."""

import json

import pytest

from trainer.cli import main
from trainer.data import write_rows
from trainer.scoring import CRITERIA, score_predictions, summarize

PERFECT = {"decision_accuracy": 1.0, "redundant_call_rate": 0.0, "state_sensitivity_accuracy": 1.0, "schema_compliance_rate": 1.0,
           "hallucinated_id_rate": 0.0, "exact_plan_accuracy": 1.0}  # fmt: skip
KITCHEN_ON = '{"tool_call":{"name":"light_power","arguments":{"entity_id":"light.kitchen_lights","state":"on"}}}'
TV_ON = '{"tool_call":{"name":"tv_power","arguments":{"entity_id":"media_player.lounge_room","state":"on"}}}'  # demo-008: already on
BED_OFF = '{"tool_call":{"name":"light_power","arguments":{"entity_id":"light.bed_light","state":"off"}}}'


def expected_predictions(rows):
    return {r["id"]: {"id": r["id"], "output": r["messages"][2]["content"], "followup_output": r["followup"] or None} for r in rows}


def failing(rows, preds):
    summary = summarize(score_predictions(rows, preds))
    return {name for name, value in PERFECT.items() if summary[name] != value}, summary


def lines(rows, row_id):
    return next(r for r in rows if r["id"] == row_id)["messages"][2]["content"].split("\n")


def test_expected_outputs_score_perfectly(rows):
    bad, summary = failing(rows, expected_predictions(rows))
    assert bad == set()
    assert set(CRITERIA) <= set(PERFECT)
    assert summary["multi_turn"]["second_turns"] == 2 and summary["multi_turn"]["second_turn_exact"] == 1.0
    assert all(v == 1.0 for v in summary["per_domain_accuracy"].values())
    assert summary["state_sensitivity_groups"] == 1
    if summary["multi_turn"]["final_state_rows"]:
        assert summary["multi_turn"]["final_state_accuracy"] == 1.0


def _mutate(rows, name):
    multi = lines(rows, "demo-003")
    return {
        "dropped_call": ("demo-003", "\n".join(multi[:-1])),
        "redundant_call": ("demo-000", KITCHEN_ON + "\n" + BED_OFF),
        "swapped_order": ("demo-003", "\n".join([multi[0], multi[2], multi[1]])),
        "invented_id": ("demo-000", KITCHEN_ON.replace("light.kitchen_lights", "light.garden_lights")),
        "schema_violation": ("demo-000", KITCHEN_ON.replace('"on"', '"dim"')),
        "wrong_class": ("demo-000", "Sorry, I cannot do that."),
        "state_insensitive": ("demo-007", lines(rows, "demo-006")[0]),
        "already_satisfied_acted": ("demo-008", TV_ON),
    }[name]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        ("dropped_call", {"exact_plan_accuracy"}),
        ("redundant_call", {"redundant_call_rate", "exact_plan_accuracy"}),
        ("swapped_order", {"exact_plan_accuracy"}),
        ("invented_id", {"hallucinated_id_rate", "exact_plan_accuracy"}),
        ("schema_violation", {"schema_compliance_rate", "decision_accuracy", "exact_plan_accuracy"}),
        ("wrong_class", {"decision_accuracy", "exact_plan_accuracy"}),
        ("state_insensitive", {"state_sensitivity_accuracy", "exact_plan_accuracy"}),
        ("already_satisfied_acted", {"decision_accuracy", "redundant_call_rate", "exact_plan_accuracy"}),
    ],
)
def test_mutation_fails_exactly_its_criteria(rows, mutation, expected):
    preds = expected_predictions(rows)
    row_id, output = _mutate(rows, mutation)
    preds[row_id]["output"] = output
    bad, summary = failing(rows, preds)
    assert bad == expected
    if mutation in ("dropped_call",) and summary["multi_turn"]["final_state_rows"]:
        assert summary["multi_turn"]["final_state_accuracy"] < 1.0  # the title was never played
    if mutation == "redundant_call" and summary["multi_turn"]["final_state_rows"]:
        assert summary["multi_turn"]["final_state_accuracy"] == 1.0  # a redundant call changes nothing


def test_wrong_second_turn_fails_exact_plan(rows):
    preds = expected_predictions(rows)
    preds["demo-001"]["followup_output"] = preds["demo-001"]["followup_output"].replace("60", "70")
    bad, summary = failing(rows, preds)
    assert bad == {"exact_plan_accuracy"} and summary["multi_turn"]["second_turn_exact"] == 0.5


def test_wrong_class_after_fetch_fails_decision_accuracy(rows):
    """Once STATE is supplied, acting vs doing nothing is the plan's decision too, not only the first turn's."""
    preds = expected_predictions(rows)
    preds["demo-001"]["followup_output"] = "The kitchen lights are already bright."  # expected: light_brightness
    bad, summary = failing(rows, preds)
    assert bad == {"decision_accuracy", "exact_plan_accuracy"}
    assert summary["multi_turn"]["second_turn_decision"] == 0.5 and summary["confusion"]["fetch"]["fetch"] == 2


def test_acting_on_a_satisfied_state_is_redundant_but_a_real_change_is_not(rows):
    """An action where the answer is text counts as a redundant call only when it changes nothing in the home."""
    preds = expected_predictions(rows)
    preds["demo-008"]["output"] = TV_ON.replace('"on"', '"off"')  # the TV is on: turning it off is wrong, not redundant
    bad, _ = failing(rows, preds)
    assert bad == {"decision_accuracy", "exact_plan_accuracy"}


def test_integral_float_argument_is_the_same_plan(rows):
    """``"brightness":60.0`` is schema-valid and the same call as ``60``: no criterion may fail on it."""
    preds = expected_predictions(rows)
    preds["demo-001"]["followup_output"] = preds["demo-001"]["followup_output"].replace("60", "60.0")
    assert "60.0" in preds["demo-001"]["followup_output"]
    bad, summary = failing(rows, preds)
    assert bad == set() and summary["multi_turn"]["second_turn_exact"] == 1.0


def test_eval_predictions_cli_exit_codes(rows, tmp_path):
    heldout = write_rows(rows, tmp_path / "heldout.jsonl")
    preds = expected_predictions(rows)
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps(p) + "\n" for p in preds.values()))
    assert main(["eval", "--predictions", str(good), "--dataset", str(heldout), "--out", str(tmp_path / "ok")]) == 0
    report = json.loads((tmp_path / "ok" / "report.json").read_text())
    assert report["passed"] and all(c["passed"] for c in report["criteria"].values())
    assert {p.name for p in (tmp_path / "ok").iterdir()} >= {"report.json", "report.md", "criteria.png", "confusion.png", "domains.png"}
    preds["demo-000"]["output"] = "Sorry, I cannot do that."
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(p) + "\n" for p in preds.values()))
    assert main(["eval", "--predictions", str(bad), "--dataset", str(heldout), "--out", str(tmp_path / "ko"), "--min-decision-accuracy", "0.95"]) == 1
    assert "| decision_accuracy | 0.888889 | >= 0.95 | FAIL |" in (tmp_path / "ko" / "report.md").read_text()


def test_parse_system_text_round_trips(rows):
    import statewise_protocol as sp

    from trainer.fixtures import DEMO_HOME

    export = sp.load_export(DEMO_HOME)
    texts = [r["messages"][0]["content"] for r in rows] + [sp.system_text(export.ontology, export.snapshots[0].states)]
    for text in texts:
        ontology, state = sp.parse_system_text(text)
        assert sp.system_text(ontology, state) == text
    ontology, state = sp.parse_system_text(sp.system_text(export.ontology))
    assert state is None and ontology.entities == export.ontology.entities


def test_every_plot_of_a_fallback_report_is_marked_meaningless(rows, tmp_path, monkeypatch):
    from trainer import report as rep
    from trainer.config import EvalArguments
    from trainer.scoring import check_thresholds

    summary = summarize(score_predictions(rows, expected_predictions(rows)))
    report = {"model": "m", "dataset": "d", "passed": True, "criteria": check_thresholds(summary, EvalArguments().thresholds()),
              "summary": summary, "note": "tiny fallback: meaningless"}  # fmt: skip
    marked = []
    real_mark = rep._mark
    monkeypatch.setattr(rep, "_mark", lambda fig, r: (marked.append(fig), real_mark(fig, r)))
    paths = rep.plots(report, tmp_path)
    assert len(marked) == len(paths) == 3


def test_evaluation_runs_the_agent_loop_home_assistant_runs(rows, tmp_path, monkeypatch):
    """Every held-out row goes through statewise_protocol.agent.StatewiseAgent (the file Home Assistant imports), and
    the final state is the home that loop left: a wrong executed action fails it even where the output class is right."""
    import inspect
    from pathlib import Path

    import statewise_protocol.agent as loop

    from trainer import evaluate as ev
    from trainer.config import make_config

    assert ev.StatewiseAgent is loop.StatewiseAgent
    assert Path(inspect.getfile(loop.StatewiseAgent)).resolve() == (Path(__file__).resolve().parents[2] / "custom_components" / "statewise"
                                                                     / "protocol" / "agent.py")  # fmt: skip
    seen = []
    real = loop.StatewiseAgent.async_run

    async def spy(self, command, ontology, state=None):
        result = await real(self, command, ontology, state)
        seen.append((command, result.outcome))
        return result

    monkeypatch.setattr(loop.StatewiseAgent, "async_run", spy)
    heldout = write_rows(rows, tmp_path / "heldout.jsonl")
    preds = expected_predictions(rows)
    preds["demo-000"]["output"] = BED_OFF  # valid and an action, but not the asked-for one
    file = tmp_path / "p.jsonl"
    file.write_text("".join(json.dumps(p) + "\n" for p in preds.values()))
    report = ev.evaluate(make_config(), str(heldout), predictions=str(file), out_dir=str(tmp_path / "out"))
    assert len(seen) == len(rows) and report["agent_loop"] == "statewise_protocol.agent.StatewiseAgent"
    results = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in results}
    assert by_id["demo-000"]["final_state"] is False and by_id["demo-000"]["decision"] == "action"
    assert all(r["final_state"] in (True, None) for r in results if r["id"] != "demo-000")
    assert report["summary"]["multi_turn"]["second_turns"] == 2  # the loop fetched, then asked again with STATE


def test_modelfile_template_renders_the_training_prompt(trained_run):
    """The Ollama Modelfile's Go template, filled as Ollama fills it, is exactly the prompt training used."""
    import re

    from transformers import AutoTokenizer

    from trainer.template import render_prompt

    text = (trained_run["export"] / "Modelfile").read_text()
    template = re.search(r'TEMPLATE """(.*?)"""', text, re.S).group(1)
    tok = AutoTokenizer.from_pretrained(str(trained_run["export"] / "merged"))
    for row in trained_run_rows():
        system, user = row["messages"][0]["content"], row["messages"][1]["content"]
        filled = template.replace("{{ .System }}", system).replace("{{ .Prompt }}", user).replace("{{ .Response }}<|im_end|>", "")
        assert filled == render_prompt(tok, row["messages"][:2])
    assert "PARAMETER stop <|im_end|>" in text and text.startswith("FROM ./statewise.gguf\n")


def trained_run_rows():
    from trainer.fixtures import demo_rows

    return demo_rows()[:3]


def test_accuracy_on_a_drifted_home_is_reported_apart(rows):
    """Rows drawn in an ontology variant are scored separately: a model that memorised the home shows up there."""
    marked = [dict(r, variant="added:light.reading_lamp") if i % 3 == 0 else r for i, r in enumerate(rows)]
    preds = expected_predictions(marked)
    first_variant = next(r["id"] for r in marked if r.get("variant"))
    preds[first_variant]["output"] = "Sorry, I cannot do that."
    variants = summarize(score_predictions(marked, preds))["ontology_variants"]
    assert variants["home_exact"] == 1.0 and variants["variant_exact"] < 1.0
    assert variants["rows"]["added"] == sum(1 for r in marked if r.get("variant"))
    assert variants["rows"]["(home)"] == sum(1 for r in marked if not r.get("variant"))


def test_a_dataset_of_two_languages_is_judged_in_each(rows):
    """Rows whose intent names another language are scored apart: a model that learnt one language well and one badly shows it."""
    marked = [dict(r, intent=json.dumps({"kind": "power", "language": "de"})) if i % 2 else r for i, r in enumerate(rows)]
    preds = expected_predictions(marked)
    german = [r["id"] for i, r in enumerate(marked) if i % 2]
    preds[german[0]]["output"] = "Das kann ich nicht."
    summary = summarize(score_predictions(marked, preds))
    per = summary["per_language"]
    assert set(per) == {"de", "en"}
    assert per["en"]["exact_plan_accuracy"] == 1.0 and per["de"]["exact_plan_accuracy"] < 1.0
    assert per["de"]["rows"] == len(german) and per["en"]["rows"] == len(marked) - len(german)
    assert "per_language" not in summarize(score_predictions(rows, expected_predictions(rows)))
