#!/usr/bin/env bash
# The report's browser test drives Debian's headless Chromium through chromedriver. Install both
# when missing and we can (root with apt-get); otherwise say so and go on: that test then skips.
set -uo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver (the report's browser test)" >&2
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; then
    exit 0
  fi
fi
echo "note: chromium / chromium-driver not installed: the report's browser test will skip" >&2
exit 0
