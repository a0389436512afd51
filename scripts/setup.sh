#!/usr/bin/env bash
# Install everything CodeMind needs on a fresh Debian/Ubuntu-like machine (idempotent):
# the package with its extras, llama-cpp-python (built portable) and the embedded models,
# and the Docker engine + offline sandbox image where Docker can be installed.
# Without Docker it says so; runs then use the weaker `process` sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

echo "== codemind: python package"
$PY -m pip install -q --disable-pip-version-check -e '.[dev,analysis,ray]'

echo "== codemind: embedded models (llama-cpp-python + Qwen2.5-Coder 0.5B, Gemma 3 270M)"
bash .ci/setup-llamacpp.sh

echo "== codemind: Docker sandbox"
if bash .ci/setup-docker.sh; then
  codemind sandbox doctor || true
else
  echo "Docker could not be set up here: runs will use the weaker 'process' sandbox" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
