#!/usr/bin/env bash
# Real third-party source in Go, Rust and JavaScript for the code-corpus tests (Debian ships it as
# -dev / node- packages: /usr/share/gocode, /usr/share/cargo/registry, /usr/share/nodejs). Installed
# when missing and we can (root with apt-get); otherwise the tests use the Python code of the venv only.
# The larger ones (golang.org/x, regex/syn/tokio crates, lodash/acorn/esprima/jQuery UI, the
# JDK's src.zip from openjdk-17-source) are the training data of classifiers/code_quality
# (its recipe.yaml) and the input of pipelines/code.yaml.
set -uo pipefail
pkgs="golang-github-pkg-errors-dev librust-either-dev node-isarray golang-golang-x-tools-dev librust-regex-dev librust-syn-dev librust-tokio-dev node-lodash node-acorn node-esprima libjs-jquery-ui openjdk-17-source"
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing $missing (real Go/Rust/JavaScript source for the code tests)" >&2
  # shellcheck disable=SC2086
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
     { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
    exit 0
  fi
fi
echo "note: $missing not installed: the code tests use the venv's Python packages only" >&2
exit 0
