#!/usr/bin/env bash
# The two Home Assistant test legs: set one up, or run its Python.
#   bash scripts/ha_leg.sh setup  oldest|newest
#   bash scripts/ha_leg.sh python oldest|newest ARGS...   # the leg's python with ARGS, in the project root
#
#   oldest  .venv/ha         requirements/ha-oldest.txt: the release hacs.json claims (2026.2.3), Python >= 3.13.2
#                            (an installed one, else built once by scripts/find_python313.sh)
#   newest  .venv/ha-newest  requirements/ha-newest.txt: the newest pytest-homeassistant-custom-component (2026.10.4),
#                            Python >= 3.14.2 (scripts/python314.sh: an installed one, else a Debian sid root
#                            filesystem run under chroot, with this folder, /tmp, /dev and /proc mounted in it and
#                            the host's root at /host; STATEWISE_HOST_EXEC tells tests how to run host programs)
# Each leg then installs its release's own component requirements, read from the manifests (scripts/ha_requirements.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
action=${1:?usage: ha_leg.sh setup|python oldest|newest [ARGS...]}
leg=${2:?usage: ha_leg.sh setup|python oldest|newest [ARGS...]}
shift 2
case "$leg" in
  oldest) dir=.venv/ha req=requirements/ha-oldest.txt ;;
  newest) dir=.venv/ha-newest req=requirements/ha-newest.txt ;;
  *) echo "statewise: unknown leg $leg (oldest or newest)" >&2; exit 2 ;;
esac

# How this leg's interpreter runs: "native PATH" or "rootfs DIR".
if [ "$leg" = oldest ]; then
  where="native $(bash scripts/find_python313.sh)"
else
  where=$(bash scripts/python314.sh)
fi
kind=${where%% *} base=${where#* }

run() {  # run CMD... with the leg's view of the machine, in the project root
  if [ "$kind" = native ]; then
    "$@"
  else
    # A private mount namespace: nothing is mounted on the host, and it all goes when the command ends.
    unshare -m sh -c '
      set -e
      root=$1; shift
      mkdir -p "$root$PWD" "$root/tmp" "$root/dev" "$root/proc" "$root/host"
      mount --bind "$PWD" "$root$PWD"
      mount --rbind /tmp "$root/tmp"
      mount --rbind /dev "$root/dev"
      mount -t proc proc "$root/proc"
      mount --rbind / "$root/host"
      exec chroot "$root" /usr/bin/env -C "$PWD" STATEWISE_HOST_EXEC="chroot /host" STATEWISE_HA_LEG="${STATEWISE_HA_LEG:-}" "$@"
    ' sh "$base" "$@"
  fi
}

python_of() { if [ "$kind" = native ]; then echo "$base"; else echo /usr/bin/python3.14; fi; }

stamp() { sha256sum "$req" scripts/ha_requirements.py custom_components/statewise/manifest.json | sha256sum | cut -c1-16; }

setup() {
  local want
  want="$(stamp)-$kind"
  # Inside a root filesystem bin/python links to a path there: the venv's pyvenv.cfg says it exists.
  if [ -f "$dir/pyvenv.cfg" ] && [ "$(cat "$dir/.statewise-stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "statewise: setting up the $leg Home Assistant leg in $dir ($kind $(run "$(python_of)" --version)) ..." >&2
  local start=$SECONDS
  if [ -f "$dir/pyvenv.cfg" ] && ! grep -q "$(python_of | xargs dirname)" "$dir/pyvenv.cfg"; then
    rm -rf "$dir"  # made by another interpreter (a native one appeared, or went): start again
  fi
  [ -f "$dir/pyvenv.cfg" ] || run "$(python_of)" -m venv "$dir"
  run "$dir/bin/pip" install -q -r "$req" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory\|is either a non-existing path" || true; }
  run "$dir/bin/python" scripts/ha_requirements.py custom_components/statewise/manifest.json demo recorder > "$dir/component-requirements.txt"
  run "$dir/bin/pip" install -q -r "$dir/component-requirements.txt" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory\|is either a non-existing path" || true; }
  echo "$want" > "$dir/.statewise-stamp"
  echo "statewise: $leg leg ready in $((SECONDS - start)) s: Home Assistant $(run "$dir/bin/python" -c 'from homeassistant.const import __version__; print(__version__)')" >&2
}

case "$action" in
  setup) setup ;;
  python) setup; STATEWISE_HA_LEG=$leg run "$dir/bin/python" "$@" ;;
  *) echo "statewise: unknown action $action (setup or python)" >&2; exit 2 ;;
esac
