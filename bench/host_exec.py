"""Run a program of the host from inside the newest Home Assistant leg's root filesystem.

Where no Python >= 3.14.2 is installed, the newest leg runs under ``chroot`` in a Debian sid
root filesystem (``scripts/ha_leg.sh``), with the host's root at ``/host`` and
``STATEWISE_HOST_EXEC=chroot /host`` set. The trainer environment (``.venv/trainer``, the
host's Python) only runs on the host: :func:`host_command` prefixes a command so it does.
Elsewhere the command is returned unchanged.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path


def host_command(argv: Sequence[str], cwd: str | Path) -> list[str]:
    """``argv`` as run on the host, in ``cwd`` (the same path on both sides of the chroot)."""
    prefix = os.environ.get("STATEWISE_HOST_EXEC", "").strip()
    if not prefix:
        return list(argv)
    return [*shlex.split(prefix), "/usr/bin/env", "-C", str(cwd), *argv]
