"""The protocol imports without Home Assistant (the trainer side never installs it)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import statewise_protocol

PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "custom_components" / "statewise" / "protocol"

PROBE = """
import importlib.util, json, sys
import statewise_protocol
from statewise_protocol import check_output, load_tools, render_messages
load_tools()
print(json.dumps({
    "spec": importlib.util.find_spec("homeassistant") is not None,
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("homeassistant", "custom_components")),
    "file": statewise_protocol.__file__,
}))
"""


def test_import_in_fresh_interpreter_without_homeassistant() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout)
    assert result["spec"] is False, "homeassistant must not be installed in the trainer venv"
    assert result["loaded"] == []
    assert Path(result["file"]).resolve().parent == PROTOCOL_DIR.resolve()


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__"):
            names.update(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return names


def test_sources_never_import_homeassistant() -> None:
    sources = sorted(PROTOCOL_DIR.rglob("*.py"))
    assert len(sources) >= 8 and Path(statewise_protocol.__file__).resolve() in {p.resolve() for p in sources}
    for path in sources:
        for name in _imported_modules(path):
            assert name.split(".")[0] not in ("homeassistant", "custom_components"), f"{path.name} imports {name}"
        # Only the standard library, jsonschema and PyYAML (the declared dependencies; Home Assistant ships both) from outside.
        external = {n.split(".")[0] for n in _imported_modules(path)} - set(sys.stdlib_module_names)
        assert external <= {"jsonschema", "yaml"}, f"{path.name}: {external}"
