"""Shared helpers of the benchmark scripts: the machine, the texts, timing.

The scripts are run from the repository root, e.g. ``python bench/embeddings.py``.
They read the example docs (``examples/*/docs``) and the evaluation sets
(``../shared/eval/*/docs``, or ``$GROKASSIST_EVAL_DIR``) and never download.
"""

from __future__ import annotations

import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EVAL_DIR = Path(os.environ.get("GROKASSIST_EVAL_DIR", ROOT.parent / "shared" / "eval"))

if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

from grokassist.config import IngestSettings  # noqa: E402
from grokassist.ingest import chunk_documents, load_documents  # noqa: E402
from grokassist.types import Document, Passage  # noqa: E402


def corpus_dirs() -> list[Path]:
    """The doc folders the benchmarks draw on: the examples', then the evaluation sets'."""
    dirs = sorted(p for p in EXAMPLES.glob("*/docs") if p.is_dir() and any(p.rglob("*.*")))
    dirs += sorted(p for p in EVAL_DIR.glob("*/docs") if p.is_dir())
    if not dirs:
        raise SystemExit(f"no documents found under {EXAMPLES} or {EVAL_DIR} (set GROKASSIST_EVAL_DIR)")
    return dirs


def load_corpus(dirs: Sequence[Path] | None = None) -> list[Document]:
    """Every document of ``dirs`` (default :func:`corpus_dirs`), loaded by grokassist.ingest."""
    docs: list[Document] = []
    for folder in dirs or corpus_dirs():
        docs.extend(load_documents([folder], settings=IngestSettings()).documents)
    return docs


def corpus_passages(dirs: Sequence[Path] | None = None) -> list[Passage]:
    """The documents chunked by grokassist.ingest with the default settings (200 tokens, 40 overlap)."""
    s = IngestSettings()
    return chunk_documents(load_corpus(dirs), chunk_tokens=s.chunk_tokens, overlap=s.chunk_overlap)


_PARA = re.compile(r"\n\s*\n")


def paragraphs(docs: Sequence[Document], *, min_chars: int = 80) -> list[str]:
    """The prose paragraphs of ``docs`` (no headings, no very short lines)."""
    out: list[str] = []
    for doc in docs:
        for para in _PARA.split(doc.text):
            para = para.strip()
            if len(para) >= min_chars and not para.startswith("#"):
                out.append(para)
    return out


def synth_documents(n: int, *, seed: int = 0, paras_per_doc: tuple[int, int] = (3, 7)) -> list[Document]:
    """``n`` support articles recombined from the paragraphs of the real ones.

    Each gets a title from a real article, 3-7 paragraphs drawn at random, and
    metadata varied over product, locale and category (so filters have work).
    """
    rng = random.Random(seed)
    real = load_corpus()
    paras = paragraphs(real)
    titles = [d.title for d in real if d.title]
    products = ["standard-kit", "mini-kit", "router-gen2", "router-gen3", "phone", "web-app", "all"]
    locales = ["en-US", "en-GB", "en-AU"]
    categories = ["setup", "network", "billing", "outages", "travel", "errors", "apps", "account"]
    docs = []
    for i in range(n):
        title = f"{rng.choice(titles)} ({i})"
        body = []
        for j in range(rng.randint(*paras_per_doc)):
            if j and rng.random() < 0.4:
                body.append(f"## {rng.choice(titles)}")
            body.append(rng.choice(paras))
        docs.append(
            Document(
                id=f"synth/{i:06d}.md",
                title=title,
                text=f"# {title}\n\n" + "\n\n".join(body),
                source=f"synth/{i:06d}.md",
                metadata={
                    "product": rng.choice(products),
                    "locale": rng.choice(locales),
                    "category": rng.choice(categories),
                    "version": rng.randint(1, 5),
                },
            )
        )
    return docs


def questions(limit: int | None = None) -> list[str]:
    """Real user questions of the evaluation sets (for query benchmarks)."""
    import json

    out: list[str] = []
    for file in sorted(EVAL_DIR.glob("*/queries.jsonl")):
        for line in file.read_text("utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    if not out:
        out = ["How do I reset my router?", "Why is my connection slow?", "How do I change my plan?"]
    random.Random(1).shuffle(out)
    return out[:limit] if limit else out


# -- the machine -----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def machine() -> str:
    """One line: CPU model, cores, memory, Python, OS."""
    return (
        f"{cpu_model()}, {cores()} cores, {memory_gib():.0f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def header(title: str) -> None:
    """Print the title, the machine and the command; make stdout line-buffered."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    print(f"# {title}")
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print()


# -- timing ----------------------------------------------------------------------------------


@contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (0..100), as numpy's default."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def interleaved(contenders: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Run each contender once per round, in turn (order rotated each round); seconds per run."""
    names = list(contenders)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return times


def table(rows: Sequence[Sequence[object]], head: Sequence[str]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
