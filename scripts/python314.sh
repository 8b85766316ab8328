#!/usr/bin/env bash
# Where the newest Home Assistant leg gets Python >= 3.14.2 (HA 2026.3 and newer need it).
# Prints one line:
#   native PATH   an installed python3.14 that fits (users with 3.14 pay nothing)
#   rootfs DIR    a minimal Debian sid root filesystem with python3.14 (Debian and Ubuntu, as root):
#                 sid's binary python3.14 needs glibc >= 2.38, which older hosts lack, so it runs
#                 under chroot; built once (about a minute) and cached in $STATEWISE_CACHE
# STATEWISE_HA_NEWEST_PYTHON forces an interpreter.
set -euo pipefail
CACHE="${STATEWISE_CACHE:-$HOME/.cache/statewise}"
ROOTFS="$CACHE/sid-rootfs"

fits() {  # fits PYTHON -> 0 when version >= 3.14.2
  "$1" -c 'import sys; sys.exit(0 if sys.version_info[:3] >= (3,14,2) else 1)' 2>/dev/null
}

for cand in "${STATEWISE_HA_NEWEST_PYTHON:-}" python3.14 /usr/bin/python3.14 /usr/local/bin/python3.14 python3; do
  [ -n "$cand" ] || continue
  path=$(command -v "$cand" 2>/dev/null) || continue
  if fits "$path"; then echo "native $path"; exit 0; fi
done

# The cached root filesystem counts only once complete (the marker is written last).
if [ -f "$ROOTFS/.complete" ]; then echo "rootfs $ROOTFS"; exit 0; fi

[ "$(id -u)" = 0 ] || { echo "statewise: no Python >= 3.14.2; install one and set STATEWISE_HA_NEWEST_PYTHON (building one needs root)" >&2; exit 2; }
src=/etc/apt/sources.list.d/debian.sources
[ -f "$src" ] || { echo "statewise: no Python >= 3.14.2 and no $src to find a Debian mirror; set STATEWISE_HA_NEWEST_PYTHON" >&2; exit 2; }
echo "statewise: no Python >= 3.14.2 found; building a Debian sid root filesystem with python3.14 in $ROOTFS (once)" >&2
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >&2
# Same mirror as the machine's own Debian sources; never a hard-coded host.
uri=$(awk '/^URIs:/{print $2; exit}' "$src")
rm -rf "$ROOTFS"
mkdir -p "$(dirname "$ROOTFS")"
debootstrap --variant=minbase --include=python3.14,python3.14-venv,python3.14-dev,ca-certificates,build-essential,libffi-dev,git \
  sid "$ROOTFS" "$uri" >&2
# pip inside the root filesystem uses the machine's configuration and certificates.
for f in /etc/pip.conf /root/.config/pip/pip.conf /etc/ssl/certs/ca-certificates.crt /etc/resolv.conf; do
  if [ -f "$f" ]; then mkdir -p "$ROOTFS$(dirname "$f")" && cp -L "$f" "$ROOTFS$f"; fi
done
mkdir -p "$ROOTFS/host"
fits "$ROOTFS/usr/bin/python3.14" 2>/dev/null || chroot "$ROOTFS" /usr/bin/python3.14 -c 'import sys; sys.exit(0 if sys.version_info[:3] >= (3,14,2) else 1)' \
  || { echo "statewise: sid's python3.14 does not fit" >&2; exit 2; }
touch "$ROOTFS/.complete"
echo "rootfs $ROOTFS"
