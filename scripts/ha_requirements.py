"""Print the pip requirements of Home Assistant components, read from their manifests (run with the leg's Python).

The integration's own ``dependencies`` and the components the tests set up (``demo``,
``recorder``), followed through their ``dependencies``: what Home Assistant would
install at run time for that release. Nothing is hard-coded, so each test leg gets
its release's hassil, home-assistant-intents, gazetteer-matcher and so on.

    python scripts/ha_requirements.py custom_components/statewise/manifest.json demo recorder
"""

from __future__ import annotations

import json
import sys
from importlib.util import find_spec
from pathlib import Path


def manifest(component: str) -> dict:
    """A core component's manifest."""
    spec = find_spec(f"homeassistant.components.{component}")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"error: homeassistant.components.{component} is not in this Home Assistant")
    return json.loads((Path(next(iter(spec.submodule_search_locations))) / "manifest.json").read_text(encoding="utf-8"))


def requirements(roots: list[str]) -> list[str]:
    """Requirements of ``roots`` (component names, or manifest.json paths whose dependencies are followed) and their dependencies."""
    todo, seen, out = [], set(), []
    for root in roots:
        if root.endswith(".json"):
            own = json.loads(Path(root).read_text(encoding="utf-8"))
            todo += own.get("dependencies", [])
        else:
            todo.append(root)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        data = manifest(name)
        out += [r for r in data.get("requirements", []) if r not in out]
        todo += data.get("dependencies", [])
    return out


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
