#!/usr/bin/env bash
# Make sure Debian's Chromium is there for the browser test (tests/e2e). Installs it with apt
# when missing and we are root; otherwise says why the browser test will be skipped.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser test (apt-get)..."
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  /usr/bin/chromium --version
else
  echo "note: /usr/bin/chromium is missing and cannot be installed here (not root, or no apt);"
  echo "      the browser tests will be skipped (under CI=true that is a failure)."
fi
