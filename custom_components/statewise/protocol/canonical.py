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
