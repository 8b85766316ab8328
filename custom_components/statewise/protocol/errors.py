"""Error codes shared by the parser, the validator and every caller."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a model output (or one call in it) was rejected."""

    # Shape of the raw text
    EMPTY_OUTPUT = "empty_output"
    OUTPUT_TOO_LONG = "output_too_long"
    NOT_TEXT = "not_text"
    THINKING_PRESENT = "thinking_present"
    MIXED_TEXT_AND_JSON = "mixed_text_and_json"
    MULTIPLE_CALLS_PER_LINE = "multiple_calls_per_line"
    JSON_LIKE_TEXT = "json_like_text"
    MALFORMED_JSON = "malformed_json"
    NOT_A_TOOL_CALL = "not_a_tool_call"
    UNKNOWN_TOOL = "unknown_tool"
    SCHEMA_VIOLATION = "schema_violation"
    # Shape of the plan
    FETCH_WITH_ACTIONS = "fetch_with_actions"
    MULTIPLE_FETCHES = "multiple_fetches"
    DUPLICATE_CALL = "duplicate_call"
    TOO_MANY_CALLS = "too_many_calls"
    STATE_ALREADY_GIVEN = "state_already_given"
    # Against the ontology
    UNKNOWN_ENTITY = "unknown_entity"
    ENTITY_NOT_PRESENT = "entity_not_present"
    WRONG_DOMAIN = "wrong_domain"
    MISSING_CAPABILITY = "missing_capability"
    UNSUPPORTED_VALUE = "unsupported_value"
    TARGET_AMBIGUOUS = "target_ambiguous"
    NO_TARGET = "no_target"


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """One problem, with the 1-based output line it came from (0 = whole output)."""

    code: ErrorCode
    message: str
    line: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"code": str(self.code), "line": self.line, "message": self.message}
