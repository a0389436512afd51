#!/usr/bin/env bash
# Headless Chromium + chromedriver for the leaderboard browser test (tests/test_leaderboard.py).
# Idempotent: does nothing when a Chromium/Chrome binary and chromedriver are already on PATH
# (GitHub's ubuntu runners ship google-chrome + chromedriver; Debian gets its own packages).
set -euo pipefail
have_browser() {
  for b in chromium chromium-browser google-chrome google-chrome-stable chrome; do
    command -v "$b" >/dev/null 2>&1 && return 0
  done
  return 1
}
if have_browser && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Debian: real packages. (On Ubuntu these names are snap shims that do not work in containers;
# there, install google-chrome and a matching chromedriver instead.)
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
chromium --version
