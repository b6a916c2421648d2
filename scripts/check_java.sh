#!/usr/bin/env bash
# PySpark 4 needs Java 17+. Install it when we can (root on Debian/Ubuntu); otherwise say what to do.
set -euo pipefail
major() { java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'; }
if command -v java >/dev/null 2>&1 && [ "$(major)" -ge 17 ] 2>/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing openjdk-17-jre-headless (PySpark 4 needs Java 17+)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  exit 0
fi
echo "error: PySpark 4 needs Java 17 or newer: install it (e.g. 'apt-get install openjdk-17-jre-headless') and rerun" >&2
exit 1
