#!/usr/bin/env bash
# Print the path of a Python >= 3.13.2 for the Home Assistant side (HA 2026.2.3 tests).
# Uses an installed interpreter when one fits (users with 3.13 pay nothing);
# otherwise builds CPython 3.13.5 from Debian trixie's source package once and
# caches it outside the repository ($STATEWISE_CACHE, default ~/.cache/statewise).
set -euo pipefail
CACHE="${STATEWISE_CACHE:-$HOME/.cache/statewise}"
PREFIX="$CACHE/python-3.13.5"

fits() {  # fits PYTHON -> 0 when version >= 3.13.2
  "$1" -c 'import sys; sys.exit(0 if sys.version_info[:3] >= (3,13,2) else 1)' 2>/dev/null
}

# The cached build counts only once complete (the marker is written last).
CACHED=""; if [ -f "$PREFIX/.complete" ]; then CACHED="$PREFIX/bin/python3.13"; fi
for cand in "${STATEWISE_HA_PYTHON:-}" "$CACHED" python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13 python3.14 python3; do
  [ -n "$cand" ] || continue
  path=$(command -v "$cand" 2>/dev/null) || continue
  if fits "$path"; then echo "$path"; exit 0; fi
done

echo "statewise: no Python >= 3.13.2 found; building 3.13.5 into $PREFIX (about 3 minutes, once)" >&2
command -v apt-get >/dev/null || { echo "statewise: need apt-get to fetch Python sources; install Python 3.13.2+ and set STATEWISE_HA_PYTHON" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Same mirror and keyring as the machine's own Debian sources; never a hard-coded host.
src=/etc/apt/sources.list.d/debian.sources
uri=$(awk '/^URIs:/{print $2; exit}' "$src")
key=$(awk '/^Signed-By:/{print $2; exit}' "$src")
echo "deb-src [signed-by=$key] $uri trixie main" > "$work/sources.list"
mkdir -p "$work/lists/partial"
opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists")
apt-get "${opts[@]}" -qq update >&2
(cd "$work" && apt-get "${opts[@]}" -qq source --download-only python3.13 >&2)
tar -C "$work" -xf "$work"/python3.13_3.13.5.orig.tar.xz
srcdir=$(find "$work" -maxdepth 1 -type d -name 'Python-3.13*' | head -n1)
rm -rf "$PREFIX"
(cd "$srcdir" && ./configure --prefix="$PREFIX" >/dev/null && make -j"$(nproc)" >/dev/null 2>&1 && make altinstall >/dev/null 2>&1) >&2
fits "$PREFIX/bin/python3.13" || { echo "statewise: built Python does not fit" >&2; exit 2; }
touch "$PREFIX/.complete"
echo "$PREFIX/bin/python3.13"
