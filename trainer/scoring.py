"""Scorer for the plan's five criteria, using only the protocol's parser and validator.

Per row (turn 1, and turn 2 after a fetch when a follow-up output is given):

- decision: the parser's class (``fetch``/``action``/``text``; ``invalid`` when
  the output does not parse) equals the row's ``output_class``, and after a
  fetch the second turn's class equals the class of the row's ``followup``
  (the act vs no-op choice once STATE is known);
- schema compliance: no shape or schema error (every line a valid v0 call, or
  clean plain text);
- hallucinated id: the validator reports an entity id absent from ONTOLOGY;
- redundant call: a duplicated call, or valid calls that strictly contain the
  expected plan (a fetch asking for more ids than needed counts too), or valid
  actions where the answer is plain text that leave the simulated home unchanged
  (acting on an already-satisfied state);
- exact plan: same calls in the same order (a fetch: the same ids; text: any
  valid plain text, since phrasings vary; ``text_exact_rate`` reports verbatim matches);
- state sensitivity: share of ``group``s whose rows all have the exact plan;
- final state: the home the agent loop left (:class:`statewise_protocol.agent.StatewiseAgent`
  against :class:`statewise_protocol.simulate.SimulatedHome`, see ``trainer.evaluate``)
  equals the expected plan's simulated home; without a loop result, the predicted
  calls are simulated directly.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import statewise_protocol as sp
from statewise_protocol import ErrorCode
from statewise_protocol.simulate import apply_calls

CLASSES = ("fetch", "action", "text", "invalid")
SHAPE_ERRORS = frozenset(
    {
        ErrorCode.EMPTY_OUTPUT, ErrorCode.NOT_TEXT, ErrorCode.THINKING_PRESENT, ErrorCode.MIXED_TEXT_AND_JSON,
        ErrorCode.MULTIPLE_CALLS_PER_LINE, ErrorCode.JSON_LIKE_TEXT, ErrorCode.MALFORMED_JSON, ErrorCode.NOT_A_TOOL_CALL,
        ErrorCode.UNKNOWN_TOOL, ErrorCode.SCHEMA_VIOLATION, ErrorCode.TOO_MANY_CALLS,
    }
)  # fmt: skip
CRITERIA = ("decision_accuracy", "redundant_call_rate", "state_sensitivity_accuracy", "schema_compliance_rate", "hallucinated_id_rate")


def row_context(row: Mapping[str, Any]) -> tuple[sp.Ontology, dict[str, Any] | None, str]:
    """Ontology, prompt STATE (or None) and command of a row."""
    ontology, state = sp.parse_system_text(row["messages"][0]["content"])
    return ontology, state, row["messages"][1]["content"]


def followup_messages(row: Mapping[str, Any], fetch_output: str) -> list[dict[str, str]] | None:
    """Turn-2 prompt after a valid fetch: the same command with STATE for the requested ids."""
    ontology, state, command = row_context(row)
    verdict = sp.check_output(fetch_output, ontology, state)
    if verdict.kind != sp.KIND_FETCH or not row.get("state"):
        return None
    full = json.loads(row["state"])
    return sp.render_messages(ontology, command, sp.state_subset(full, sp.call_entity_ids(verdict.calls[0])))


def _same_plan(expected: sp.Verdict, got: sp.Verdict) -> bool:
    if expected.kind != got.kind or not got.ok:
        return False
    if got.kind == sp.KIND_TEXT:
        return True
    if got.kind == sp.KIND_FETCH:
        return set(sp.call_entity_ids(got.calls[0])) == set(sp.call_entity_ids(expected.calls[0]))
    return [sp.call_key(c) for c in got.calls] == [sp.call_key(c) for c in expected.calls]


def _redundant(expected: sp.Verdict, parsed: sp.Verdict) -> bool:
    if ErrorCode.DUPLICATE_CALL in {e.code for e in parsed.errors}:
        return True
    if not parsed.ok or parsed.kind != expected.kind or parsed.kind == sp.KIND_TEXT:
        return False
    if parsed.kind == sp.KIND_FETCH:
        want, got = set(sp.call_entity_ids(expected.calls[0])), set(sp.call_entity_ids(parsed.calls[0]))
    else:
        want, got = {sp.call_key(c) for c in expected.calls}, {sp.call_key(c) for c in parsed.calls}
    return want < got


def score_turn(output: str, expected_text: str, ontology: sp.Ontology, state: Mapping[str, Any] | None) -> dict[str, Any]:
    """One output against its expected answer."""
    parsed = sp.parse_output(output)
    checked = sp.check_output(output, ontology, state)
    expected = sp.check_output(expected_text, ontology, state)
    codes = {e.code for e in parsed.errors} | {e.code for e in checked.errors}
    return {
        "decision": parsed.kind,
        "schema_ok": not (codes & SHAPE_ERRORS),
        "hallucinated": ErrorCode.UNKNOWN_ENTITY in codes,
        "redundant": _redundant(expected, parsed),
        "exact": _same_plan(expected, checked),
        "valid": checked.ok,
        "errors": sorted(str(c) for c in codes),
        "calls": [c.to_line() for c in checked.calls] if checked.ok else [],
    }


def _final_state(row: Mapping[str, Any], expected: str, got_calls: list[str], ontology: sp.Ontology,
                 final: Mapping[str, Any] | None) -> bool | None:
    """The home after the turn (the loop's ``final`` home, else the predicted calls simulated) equals the expected plan's."""
    if not row.get("state"):
        return None
    full = json.loads(row["state"])
    want = sp.parse_output(expected).calls if expected else []
    if final is None:
        final = apply_calls(full, [sp.parse_output(line).calls[0] for line in got_calls], ontology)
    return bool(apply_calls(full, want, ontology) == final)


def _changes_nothing(row: Mapping[str, Any], calls: list[str], ontology: sp.Ontology) -> bool:
    """True when valid action ``calls`` leave the row's home exactly as it was (simulated)."""
    if not row.get("state") or not calls:
        return False
    full = json.loads(row["state"])
    return bool(apply_calls(full, [sp.parse_output(line).calls[0] for line in calls], ontology) == full)


def _mark_no_op_actions(turn: dict[str, Any], expected_class: str, row: Mapping[str, Any], ontology: sp.Ontology) -> None:
    """Acting where the answer is a no-op (e.g. already satisfied) with calls that change nothing: redundant calls."""
    if expected_class == "text" and turn["decision"] == "action" and _changes_nothing(row, turn["calls"], ontology):
        turn["redundant"] = True


def score_row(row: Mapping[str, Any], output: str, followup_output: str | None = None, final: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Score one held-out row (and its second turn after a fetch, if given); ``final``: the home the agent loop left."""
    ontology, state, _ = row_context(row)
    expected = row["messages"][2]["content"]
    turn = score_turn(output, expected, ontology, state)
    _mark_no_op_actions(turn, row["output_class"], row, ontology)
    result = {"id": row["id"], "expected_class": row["output_class"], "domain": row.get("domain", ""), "group": row.get("group", ""),
              "variant": row.get("variant", ""), "language": row_language(row), **turn}
    result["correct"] = turn["exact"]
    result["text_exact"] = turn["decision"] == "text" and output.strip() == expected.strip()
    final_calls, final_expected = turn["calls"] if turn["decision"] == "action" else [], expected if row["output_class"] == "action" else ""
    if row["output_class"] == "fetch" and turn["decision"] == "fetch":
        result["followup"] = None
        messages = followup_messages(row, output)
        if messages is not None and followup_output is not None and row.get("followup"):
            f_onto, f_state = sp.parse_system_text(messages[0]["content"])
            second = score_turn(followup_output, row["followup"], f_onto, f_state)
            second["expected_class"] = sp.parse_output(row["followup"]).kind
            _mark_no_op_actions(second, second["expected_class"], row, ontology)
            result["followup"] = second
            result["correct"] = turn["exact"] and second["exact"]
            final_calls, final_expected = second["calls"], row["followup"]
    if row["output_class"] == "fetch" and result.get("followup") is None:
        result["final_state"] = None
    else:
        result["final_state"] = _final_state(row, final_expected, final_calls, ontology, final)
    return result


def row_language(row: Mapping[str, Any]) -> str:
    """The language the row's command was said in (its intent's ``language``; English when it names none)."""
    try:
        intent = json.loads(row.get("intent") or "{}")
    except (TypeError, ValueError):  # an older row names only Home Assistant's intent
        return "en"
    return str(intent.get("language", "en")) if isinstance(intent, dict) else "en"


def _per_language(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The main criteria per language of the commands (a dataset of several languages is judged in each)."""
    by_language: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_language[r.get("language", "en")].append(r)
    return {code: {"rows": len(rs), "decision_accuracy": _rate([_decided(r) for r in rs]), "exact_plan_accuracy": _rate([r["correct"] for r in rs]),
                   "schema_compliance_rate": _rate([r["schema_ok"] for r in rs])}
            for code, rs in sorted(by_language.items())}


def _rate(values: list[bool]) -> float:
    return round(sum(values) / len(values), 6) if values else 0.0


def _decided(result: Mapping[str, Any]) -> bool:
    """Right class on turn 1 and, once STATE was supplied after a fetch, right act/no-op class on turn 2."""
    second = result.get("followup")
    return result["decision"] == result["expected_class"] and (not second or second["decision"] == second["expected_class"])


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate per-row results into the plan's criteria and diagnostics."""
    turns = results + [r["followup"] for r in results if r.get("followup")]
    confusion = {c: dict.fromkeys(CLASSES, 0) for c in CLASSES[:3]}
    for r in results:
        confusion[r["expected_class"]][r["decision"]] += 1
    groups: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        if r["group"]:
            groups[r["group"]].append(r["correct"])
    by_domain: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_domain[r["domain"] or "(none)"].append(r["correct"])
    finals = [r["final_state"] for r in results if r.get("final_state") is not None]
    drifted: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        drifted[r["variant"].split(":", 1)[0] if r.get("variant") else "(home)"].append(r["correct"])
    fetches = [r for r in results if r["expected_class"] == "fetch"]
    followups = [r["followup"] for r in fetches if r.get("followup")]
    summary: dict[str, Any] = {
        "rows": len(results),
        "decision_accuracy": _rate([_decided(r) for r in results]),
        "redundant_call_rate": _rate([t["redundant"] for t in turns]),
        "state_sensitivity_accuracy": _rate([all(v) for v in groups.values()]) if groups else None,
        "state_sensitivity_groups": len(groups),
        "schema_compliance_rate": _rate([t["schema_ok"] for t in turns]),
        "hallucinated_id_rate": _rate([t["hallucinated"] for t in turns]),
        "exact_plan_accuracy": _rate([r["correct"] for r in results]),
        "text_exact_rate": _rate([r["text_exact"] for r in results if r["expected_class"] == "text"]),
        "confusion": confusion,
        "per_domain_accuracy": {d: _rate(v) for d, v in sorted(by_domain.items())},
        "ontology_variants": {
            "home_exact": _rate(drifted.get("(home)", [])) if drifted.get("(home)") else None,
            "variant_exact": _rate([c for k, v in drifted.items() if k != "(home)" for c in v]) if len(drifted) > ("(home)" in drifted) else None,
            "rows": {k: len(v) for k, v in sorted(drifted.items())},
            "exact_by_change": {k: _rate(v) for k, v in sorted(drifted.items())},
        },
        "multi_turn": {
            "fetch_rows": len(fetches),
            "second_turns": len(followups),
            "second_turn_exact": _rate([f["exact"] for f in followups]) if followups else None,
            "second_turn_decision": _rate([f["decision"] == f["expected_class"] for f in followups]) if followups else None,
            "final_state_rows": len(finals),
            "final_state_accuracy": _rate(finals) if finals else None,
        },
        "errors": dict(sorted(Counter(code for t in turns for code in t["errors"]).items())),
    }
    languages = _per_language(results)
    if len(languages) > 1:
        summary["per_language"] = languages
    return summary


def check_thresholds(summary: dict[str, Any], thresholds: Mapping[str, tuple[str, float]]) -> dict[str, dict[str, Any]]:
    """Criterion -> ``{value, op, bound, passed}``; a missing value (e.g. no groups) fails."""
    out = {}
    for name, (op, bound) in thresholds.items():
        value = summary.get(name)
        passed = value is not None and (value >= bound if op == ">=" else value <= bound)
        out[name] = {"value": value, "op": op, "bound": bound, "passed": bool(passed)}
    return out


def score_predictions(rows: list[dict[str, Any]], predictions: Mapping[str, Mapping[str, Any]],
                      finals: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Score ``{"id", "output"[, "followup_output"]}`` records (a missing id is an empty output); ``finals``: homes by row id."""
    results = []
    for row in rows:
        pred = predictions.get(row["id"], {})
        results.append(score_row(row, pred.get("output", ""), pred.get("followup_output"), (finals or {}).get(row["id"])))
    return results
