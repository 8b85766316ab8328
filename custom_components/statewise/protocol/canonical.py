"""Canonical JSON: compact, deterministic, byte-identical for the same data.

Every JSON text that reaches a model, a dataset or an export goes through
:func:`dumps`, so equal data always gives equal bytes (and servers can cache
the prompt prefix).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def dumps(obj: Any, *, sort_keys: bool = True) -> str:
    """Compact JSON, UTF-8 characters kept, keys sorted unless told otherwise."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, allow_nan=False)


def reject_constant(name: str) -> Any:
    """``parse_constant`` for :func:`json.loads`: NaN and Infinity are not JSON (Python's reader accepts them)."""
    raise ValueError(f"{name} is not a JSON number")


def finite_float(text: str) -> float:
    """``parse_float`` for :func:`json.loads`: ``1e999`` would be read as infinity; refuse it."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def strict_loads(text: str) -> Any:
    """JSON as the spec reads it: NaN, Infinity and out-of-range numbers are errors (``ValueError``)."""
    return json.loads(text, parse_constant=reject_constant, parse_float=finite_float)


def sha256_hex(*parts: str) -> str:
    """``sha256:<hex>`` over the UTF-8 bytes of ``parts`` joined by newlines."""
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"


def slugify(text: str) -> str:
    """Lower-case, ASCII letters/digits joined by ``_`` (``"HDMI 1"`` -> ``"hdmi_1"``)."""
    out: list[str] = []
    prev_sep = True
    for ch in text.casefold():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
            prev_sep = False
        elif not prev_sep:
            out.append("_")
            prev_sep = True
    return "".join(out).strip("_")
