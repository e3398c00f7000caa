#!/usr/bin/env bash
# Installs Debian's chromium and CJK fonts (report browser test) and postgresql (SQL export test), when missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -n "$(fc-list : family 2>/dev/null | grep -i "noto.*cjk" || true)" ] || need+=(fonts-noto-cjk)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-sysdeps: please install ${need[*]} (no apt-get here)" >&2; exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-sysdeps: installing ${need[*]}" >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" fontconfig >/dev/null
fc-cache -f >/dev/null 2>&1 || true
