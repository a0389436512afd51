#!/usr/bin/env bash
# Rebuild the leaderboard site by replaying recorded generations (no model is called):
#   - CRUXEval's published output-prediction results (temperature 0.2, 10 samples per item),
#     scored by CodeMind's exact CRUXEval judge;
#   - CodeMind's recorded IER generations (GPT-4, GPT-3.5, Magicoder) on CRUXEval, HumanEval
#     and MBPP (the paper's own items, CodeMind's exact-match rule) and on Avatar Java/Python.
# Every run is resumable and cached, so a rerun only adds what is new.
#
#   scripts/leaderboard.sh [SITE]            (default SITE=site)
# Environment:
#   CODEMIND_DATA     data mirror (default ../shared/data beside the repo)
#   RESULTS           run directories (default results/leaderboard)
#   CRUX_MODELS       CRUXEval result files to replay (names without _temp0.2_output.json)
#   CODEMIND_MODELS   CodeMind recordings to replay (default: gpt-4 gpt-3.5 magicoder)
#   JAVA=0            skip the Java (Avatar) runs, e.g. where no Docker engine is available
#   SANDBOX           sandbox for Python runs (default process); Java runs use docker
set -euo pipefail
cd "$(dirname "$0")/.."
SITE="${1:-site}"
export CODEMIND_DATA="${CODEMIND_DATA:-$(cd .. && pwd)/shared/data}"
RESULTS="${RESULTS:-results/leaderboard}"
SANDBOX="${SANDBOX:-process}"
CRUX_MODELS="${CRUX_MODELS:-gpt-4-0613 gpt-4o gpt-3.5-turbo-0613 claude-3-opus-20240229 codellama-34b deepseek-instruct-33b magicoder-ds-7b phi-2}"
CODEMIND_MODELS="${CODEMIND_MODELS:-gpt-4 gpt-3.5 magicoder}"
CRUX_DIR="$CODEMIND_DATA/cruxeval/evaluation_results"
GEN_DIR="$CODEMIND_DATA/codemind/generations"
mkdir -p "$RESULTS"
runs=()

replay() {  # out, then codemind run options
  local out="$1"; shift
  echo "== $out" >&2
  codemind run "$@" --out "$out" >/dev/null
  runs+=("$out")
}

for m in $CRUX_MODELS; do
  f="$CRUX_DIR/${m}_temp0.2_output.json"
  [ -f "$f" ] || { echo "skip $m: $f not found" >&2; continue; }
  replay "$RESULTS/cruxeval-direct-$m" --benchmark cruxeval --task ier --prompt cruxeval-direct \
    --judge cruxeval --samples 10 --model "replay:$f" --sandbox "$SANDBOX"
done

for m in $CODEMIND_MODELS; do
  for b in cruxeval humaneval mbpp; do
    f="$GEN_DIR/${m}__${b}.jsonl.gz"
    [ -f "$f" ] || continue
    replay "$RESULTS/codemind-$b-$m" --benchmark "$b" --task ier --inputs codemind --prompt codemind \
      --judge codemind-exact --model "replay:$f" --sandbox "$SANDBOX"
  done
  f="$GEN_DIR/${m}__avatar-python.jsonl.gz"
  [ -f "$f" ] && replay "$RESULTS/codemind-avatar-python-$m" --benchmark avatar --language python --task ier \
    --judge codemind-exact --model "replay:$f" --sandbox "$SANDBOX"
  if [ "${JAVA:-1}" != "0" ]; then
    f="$GEN_DIR/${m}__avatar-java.jsonl.gz"
    [ -f "$f" ] && replay "$RESULTS/codemind-avatar-java-$m" --benchmark avatar --language java --task ier \
      --judge codemind-exact --model "replay:$f" --sandbox docker
  fi
done

codemind leaderboard "${runs[@]}" --out "$SITE"
