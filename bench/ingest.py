"""Ingest throughput: a first ingest of 500 documents against the re-ingest of the
same, unchanged folder (and of the folder with one document edited).

The 500 Markdown articles are synthesised from the paragraphs of the example and
evaluation docs (``_common.synth_documents``: real titles, 3-7 real paragraphs,
varied front-matter metadata) and written to a temporary folder, so the run goes
through the loaders like ``grokassist ingest DIR``. Each round uses a fresh
knowledge base; a re-ingest opens it anew (a new ``KnowledgeBase``, as a new
``grokassist ingest`` command would) and must embed nothing.

    python bench/ingest.py [--docs 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from grokassist.config import load_settings
from grokassist.knowledge import KnowledgeBase
from grokassist.retrieval import OnnxEmbedder
from grokassist.types import SyncReport


def write_corpus(folder: Path, n: int) -> list[Path]:
    files = []
    for doc in c.synth_documents(n, seed=7):
        path = folder / Path(doc.id).name
        meta = "\n".join(f"{k}: {v}" for k, v in doc.metadata.items())
        path.write_text(f"---\n{meta}\n---\n\n{doc.text}\n", encoding="utf-8")
        files.append(path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    c.header("Ingest: first ingest against re-ingest of an unchanged corpus")

    tmp = Path(tempfile.mkdtemp(prefix="ga-bench-ingest-"))
    embedder = OnnxEmbedder()  # shared by every round: the model loads once, outside the timings
    embedder.warm_up()
    try:
        corpus = tmp / "docs"
        corpus.mkdir()
        files = write_corpus(corpus, args.docs)
        first: list[float] = []
        again: list[float] = []
        edited: list[float] = []
        reports: dict[str, SyncReport] = {}
        for r in range(args.rounds):
            settings = load_settings(data_dir=tmp / f"data{r}", kb="bench")
            start = time.perf_counter()
            reports["first"] = KnowledgeBase("bench", settings=settings, embedder=embedder).ingest(corpus)
            first.append(time.perf_counter() - start)

            start = time.perf_counter()
            reports["unchanged"] = KnowledgeBase("bench", settings=settings, embedder=embedder).ingest(corpus)
            again.append(time.perf_counter() - start)

            victim = files[r % len(files)]
            victim.write_text(victim.read_text("utf-8") + f"\nEdited in round {r}.\n", encoding="utf-8")
            start = time.perf_counter()
            reports["one edited"] = KnowledgeBase("bench", settings=settings, embedder=embedder).ingest(
                corpus
            )
            edited.append(time.perf_counter() - start)
            shutil.rmtree(tmp / f"data{r}", ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    for name, times in (
        ("first ingest", first),
        ("re-ingest, unchanged", again),
        ("re-ingest, 1 edited", edited),
    ):
        key = {
            "first ingest": "first",
            "re-ingest, unchanged": "unchanged",
            "re-ingest, 1 edited": "one edited",
        }[name]
        rep = reports[key]
        rows.append(
            [
                name,
                f"{c.median(times):.3f}",
                f"{args.docs / c.median(times):.0f}",
                f"{rep.added}/{rep.updated}/{rep.unchanged}",
                rep.chunks_embedded,
                f"{c.median(times) / c.median(first):.2%}",
            ]
        )
    print(f"{args.docs} documents, {args.rounds} rounds (each a fresh knowledge base), medians:")
    print(
        c.table(
            rows,
            ["run", "seconds", "documents/s", "added/updated/unchanged", "chunks embedded", "time vs first"],
        )
    )
    ratio = c.median(again) / c.median(first)
    ok = ratio < 0.10 and reports["unchanged"].chunks_embedded == 0
    print()
    print(
        f"re-ingest unchanged / first ingest time: {ratio:.2%} (target < 10%, 0 chunks embedded: "
        f"{reports['unchanged'].chunks_embedded}): {'PASS' if ok else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
