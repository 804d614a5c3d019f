#!/usr/bin/env bash
# Build (once) and install llama-cpp-python with explicit CPU features.
# Usage: scripts/build-llama.sh PYTHON
set -euo pipefail
py="${1:-python}"
version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
if [ -z "${CMAKE_ARGS:-}" ]; then
  flags=(-DGGML_NATIVE=OFF)
  has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null; }
  has avx && flags+=(-DGGML_AVX=ON)
  has avx2 && flags+=(-DGGML_AVX2=ON)
  has fma && flags+=(-DGGML_FMA=ON)
  has f16c && flags+=(-DGGML_F16C=ON)
  has bmi2 && flags+=(-DGGML_BMI2=ON)
  has avx512f && flags+=(-DGGML_AVX512=ON)
  has avx512vbmi && flags+=(-DGGML_AVX512_VBMI=ON)
  has avx512_vnni && flags+=(-DGGML_AVX512_VNNI=ON)
  has avx512_bf16 && flags+=(-DGGML_AVX512_BF16=ON)
  has avx_vnni && flags+=(-DGGML_AVX_VNNI=ON)
  flags+=(-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
  CMAKE_ARGS="${flags[*]}"
fi
key=$(printf '%s %s' "$version" "$CMAKE_ARGS" | sha256sum | cut -c1-16)
cache="${GROKASSIST_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/grokassist/wheels}/llama-cpp-python-$key"
wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
  echo "building llama-cpp-python $version with CMAKE_ARGS=\"$CMAKE_ARGS\" (several minutes)"
  mkdir -p "$cache"
  CMAKE_ARGS="$CMAKE_ARGS" "$py" -m pip wheel --quiet --no-deps --no-cache-dir -w "$cache" "llama-cpp-python==$version"
  wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl | head -n1)
fi
installed=$("$py" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null || true)
marker="$("$py" -c 'import sys; print(sys.prefix)')/.grokassist-llama-build"
if [ "$installed" != "$version" ] || [ "$(cat "$marker" 2>/dev/null)" != "$key" ]; then
  "$py" -m pip install --quiet --force-reinstall --no-deps "$wheel"
  echo "$key" > "$marker"
fi
