r"""JSON Schema validation with the spec's own regular expressions: ``$`` ends the text.

JSON Schema patterns are ECMA-262 regular expressions, where ``$`` (without the
multiline flag) matches only at the end of the input. Python's ``re``, which the
``jsonschema`` package uses, also lets ``$`` match before a final newline, so
``"light.kitchen\\n"`` would pass ``^[a-z0-9_]+\\.[a-z0-9_]+$``. Every protocol
schema (tools, exports, the prompt's ONTOLOGY) is checked through
:func:`schema_validator`, whose ``pattern`` keyword reads ``$`` as ``\\Z``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


@cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    r"""``pattern`` compiled with ECMA-262's end anchor (``$`` -> ``\\Z``)."""
    return re.compile(_UNESCAPED_DOLLAR.sub(r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


StrictValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})


def schema_validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    """A draft 2020-12 validator for ``schema`` (checked first) with ECMA ``$`` in patterns."""
    Draft202012Validator.check_schema(schema)
    return StrictValidator(schema)
