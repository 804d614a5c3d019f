"""Query latency at 1k, 10k and 100k chunks: hybrid (BM25 + dense, RRF) against
dense only, and retrieval + extractive answer at 10k chunks.

The corpus is synthetic, made from the example and evaluation docs:

1. a pool of 5,000 unique passage bodies (``--unique``): the real paragraphs of the docs, and
   pairs of them joined, each between 50 and 200 tokens (so one body is one chunk);
2. synthetic articles, each a real title with 3-7 ``##`` sections whose bodies
   are drawn from the pool, with varied metadata (product, locale, category,
   version). The 1k level (and the pool size) uses each body once; larger levels
   add articles that *recombine* the same bodies under other titles and headings;
3. vectors: the unique passages are embedded with the real model once (timed
   and reported). A recombined passage reuses the vector of its body plus
   Gaussian noise of norm 0.3, renormalised (cosine about 0.96 to the
   original), standing in for its different title and heading, so 100k chunks
   cost 5k embeddings (about 20 per second on 2 busy cores, so 10k would take
   most of the 15-minute budget). Queries are always embedded for real, without the
   query cache (every query is a new text).

Each level is a real ``KnowledgeBase`` ingested through ``KnowledgeBase.ingest``
(chunking, Chroma, BM25, manifest) with an embedder that serves the vectors
above. Queries are real user questions of the evaluation sets; hybrid and dense
runs alternate question by question (order swapped every question). The plot
goes to ``docs/img/query_latency.png``.

    python bench/query_latency.py [--queries 300] [--levels 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import numpy as np

from grokassist.assistant import Assistant
from grokassist.config import load_settings
from grokassist.ingest import count_tokens
from grokassist.knowledge import KnowledgeBase
from grokassist.retrieval import HybridRetriever, OnnxEmbedder
from grokassist.types import Document

_MARKUP = re.compile(r"```|~~~|^\s{0,3}#|^\s*<", re.M)  # fences, headings, HTML: could change chunking
UNIQUE = 5_000
NOISE = 0.3
PLOT = c.ROOT / "docs" / "img" / "query_latency.png"


def body_pool(n: int, seed: int = 0) -> list[str]:
    """``n`` unique passage bodies of 50-200 tokens from the real docs' paragraphs."""
    rng = random.Random(seed)
    paras = list(
        dict.fromkeys(
            p
            for p in c.paragraphs(c.load_corpus(), min_chars=40)
            if count_tokens(p) <= 190 and not _MARKUP.search(p)
        )
    )
    fits = [p for p in paras if count_tokens(p) >= 55]
    pool: dict[str, None] = dict.fromkeys(fits)
    small = [p for p in paras if count_tokens(p) < 120]
    tries = 0
    while len(pool) < n and tries < 50 * n:
        tries += 1
        text = rng.choice(small) + "\n\n" + rng.choice(small)
        if 55 <= count_tokens(text) <= 190:
            pool.setdefault(text, None)
    bodies = list(pool)
    rng.shuffle(bodies)
    if len(bodies) < n:
        raise SystemExit(f"only {len(bodies)} unique passage bodies could be made")
    return bodies[:n]


def articles(
    bodies: Sequence[str], titles: Sequence[str], total: int, *, seed: int, start: int
) -> list[Document]:
    """Articles whose sections use ``bodies`` in turn (cycling) until ``total`` sections exist."""
    rng = random.Random(seed)
    products = ["standard-kit", "mini-kit", "router-gen2", "router-gen3", "phone", "web-app", "all"]
    docs: list[Document] = []
    made = 0
    i = start
    while made < total:
        n = min(rng.randint(3, 7), total - made)
        title = f"{rng.choice(titles)} #{i}"
        sections = [f"## {rng.choice(titles)}\n\n{bodies[(made + j) % len(bodies)]}" for j in range(n)]
        docs.append(
            Document(
                id=f"synth/{i:06d}.md",
                title=title,
                text=f"# {title}\n\n" + "\n\n".join(sections),
                source=f"synth/{i:06d}.md",
                metadata={
                    "product": rng.choice(products),
                    "locale": rng.choice(["en-US", "en-GB", "en-AU"]),
                    "category": rng.choice(["setup", "network", "billing", "apps", "account", "errors"]),
                    "version": rng.randint(1, 5),
                },
            )
        )
        made += n
        i += 1
    return docs


class TableEmbedder:
    """Serves precomputed passage vectors; embeds queries with the real model, uncached.

    A passage whose exact text was embedded gets its real vector; a recombined one
    (same body, other title/heading) gets its body's vector plus noise of norm
    ``NOISE``, seeded by its text, renormalised.
    """

    def __init__(
        self, real: OnnxEmbedder, exact: dict[str, np.ndarray[Any, Any]], by_body: dict[str, int]
    ) -> None:
        self.real = real
        self.name = real.name
        self.dim = real.dim
        self.exact = exact
        self.by_body = by_body
        self.vectors = np.stack(list(exact.values())) if exact else np.zeros((0, real.dim), np.float32)
        self.misses = 0
        self.last_query_s = 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            hit = self.exact.get(text)
            if hit is not None:
                out[i] = hit
                continue
            body = text.split("\n", 1)[-1]
            row = self.by_body.get(body)
            if row is None:  # not a pooled body (should not happen): embed it for real
                self.misses += 1
                out[i] = self.real.embed([text])[0]
                continue
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            noise = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            v = self.vectors[row] + NOISE * noise / np.linalg.norm(noise)
            out[i] = v / np.linalg.norm(v)
        return out

    def embed_query(self, text: str) -> np.ndarray[Any, Any]:
        start = time.perf_counter()
        vector: np.ndarray[Any, Any] = self.real.embed([text])[0]
        self.last_query_s = time.perf_counter() - start
        return vector


def measure(
    kbs: dict[int, KnowledgeBase], embedder: TableEmbedder, queries: Sequence[str]
) -> dict[int, dict[str, list[float]]]:
    """Milliseconds per query at every level, hybrid and dense, interleaved.

    For each question every level runs hybrid and dense once, levels in rotated
    order and the two modes in alternating order, so that a load that drifts
    during the run (the machine may be shared) touches every level alike. The
    time of the query embedding inside each search is kept as ``embed``.
    """
    retrievers: dict[int, dict[str, HybridRetriever]] = {}
    for level, kb in kbs.items():
        r = kb.settings.retrieval
        dense = HybridRetriever(
            kb.embedder, kb.store, kb.lexical, candidates=r.candidates, rrf_k=r.rrf_k, mode="dense"
        )
        retrievers[level] = {"hybrid": kb.retriever, "dense": dense}
    k = next(iter(kbs.values())).settings.retrieval.top_k
    for q in queries[:5]:  # warm-up
        for pair in retrievers.values():
            for retriever in pair.values():
                retriever.search(q, k)
    levels = list(kbs)
    times: dict[int, dict[str, list[float]]] = {
        lv: {"hybrid": [], "dense": [], "hybrid embed": [], "dense embed": []} for lv in levels
    }
    for i, q in enumerate(queries):
        for level in levels[i % len(levels) :] + levels[: i % len(levels)]:
            modes = ("hybrid", "dense") if (i // len(levels)) % 2 == 0 else ("dense", "hybrid")
            for mode in modes:
                start = time.perf_counter()
                retrievers[level][mode].search(q, k)
                times[level][mode].append((time.perf_counter() - start) * 1000)
                times[level][f"{mode} embed"].append(embedder.last_query_s * 1000)
    return times


def answer_times(kb: KnowledgeBase, queries: Sequence[str]) -> tuple[list[float], list[float]]:
    """Milliseconds per ``Assistant.ask`` with the extractive backend: answered, and abstained."""
    assistant = Assistant(kb, backend="extractive:", settings=kb.settings)
    assistant.ask(queries[0])
    answered: list[float] = []
    abstained: list[float] = []
    for q in queries:
        start = time.perf_counter()
        answer = assistant.ask(q)
        (abstained if answer.abstained else answered).append((time.perf_counter() - start) * 1000)
    return answered, abstained


def plot(results: dict[int, dict[str, list[float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    for mode, color in (("hybrid", "tab:blue"), ("dense", "tab:orange")):
        p50 = [c.percentile(results[s][mode], 50) for s in sizes]
        p95 = [c.percentile(results[s][mode], 95) for s in sizes]
        ax.plot(sizes, p50, marker="o", color=color, label=f"{mode} p50")
        ax.plot(sizes, p95, marker="s", linestyle="--", color=color, label=f"{mode} p95")
    embed = [c.percentile(results[s]["hybrid embed"], 50) for s in sizes]
    ax.plot(sizes, embed, marker=".", color="tab:grey", label="query embedding p50 (part of both)")
    ax.axhline(30, color="grey", linewidth=0.8, linestyle=":", label="30 ms target (p50 at 100k)")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the knowledge base")
    ax.set_ylabel("ms per query (top 5 passages)")
    ax.set_title(f"Query latency ({c.cores()} CPU cores)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--unique", type=int, default=UNIQUE, help=f"unique passages embedded (default {UNIQUE})"
    )
    parser.add_argument("--levels", default="1000,10000,100000")
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    levels = sorted(int(x) for x in args.levels.split(","))
    c.header("Query latency against corpus size")
    started = time.perf_counter()

    real = OnnxEmbedder()
    real.warm_up()
    titles = [d.title for d in c.load_corpus() if d.title]
    unique = min(args.unique, max(levels))
    bodies = body_pool(unique)
    base_docs = articles(bodies, titles, unique, seed=1, start=0)
    # the exact texts the chunker will produce for the unique articles
    from grokassist.ingest import chunk_documents

    s = load_settings()
    chunks = chunk_documents(base_docs, chunk_tokens=s.ingest.chunk_tokens, overlap=s.ingest.chunk_overlap)
    t0 = time.perf_counter()
    vecs = real.embed([p.indexed_text() for p in chunks])
    embed_s = time.perf_counter() - t0
    exact = {p.indexed_text(): vecs[i] for i, p in enumerate(chunks)}
    by_body = {p.text: i for i, p in enumerate(chunks)}
    print(
        f"unique passages: {len(chunks)} (from {len(base_docs)} articles), embedded in {embed_s:.1f} s "
        f"({len(chunks) / embed_s:.0f} passages/s); recombined passages reuse them with noise {NOISE}"
    )
    embedder = TableEmbedder(real, exact, by_body)
    queries = c.questions(args.queries)
    print(f"queries: {len(queries)} real questions of the evaluation sets, top {s.retrieval.top_k} passages")
    print()

    tmp = Path(tempfile.mkdtemp(prefix="ga-bench-latency-"))
    kbs: dict[int, KnowledgeBase] = {}
    builds: dict[int, tuple[int, float]] = {}
    answer: tuple[list[float], list[float]] | None = None
    try:
        for level in levels:
            if level <= unique:
                docs = _prefix(base_docs, level)
            else:
                extra = articles(bodies, titles, level - unique, seed=level, start=len(base_docs))
                docs = base_docs + extra
            settings = load_settings(data_dir=tmp / str(level), kb="bench")
            kb = KnowledgeBase("bench", settings=settings, embedder=embedder)
            t0 = time.perf_counter()
            kb.ingest(*docs)
            builds[level] = (kb.stats().passages, time.perf_counter() - t0)
            kb.warm_up()
            kbs[level] = kb
            n, secs = builds[level]
            print(f"{n:>7} chunks ingested in {secs:.0f} s; peak RSS {peak_rss_mib():.0f} MiB")
        results = measure(kbs, embedder, queries)
        at = 10_000 if 10_000 in kbs else max(levels)
        answer = answer_times(kbs[at], queries)
    finally:
        for kb in kbs.values():
            kb.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    rows = []
    for level in levels:
        h, d = results[level]["hybrid"], results[level]["dense"]
        he = [t - e for t, e in zip(h, results[level]["hybrid embed"], strict=True)]
        de = [t - e for t, e in zip(d, results[level]["dense embed"], strict=True)]
        rows.append(
            [
                builds[level][0],
                f"{c.percentile(h, 50):.1f}",
                f"{c.percentile(h, 95):.1f}",
                f"{c.percentile(d, 50):.1f}",
                f"{c.percentile(d, 95):.1f}",
                f"{c.median(h) / c.median(d):.2f}x",
                f"{c.median(results[level]['hybrid embed']):.1f}",
                f"{c.median(he):.1f} / {c.median(de):.1f}",
            ]
        )
    print(f"{len(queries)} queries, every level and both modes per query (interleaved); milliseconds:")
    head = ["chunks", "hybrid p50", "hybrid p95", "dense p50", "dense p95", "hybrid / dense (median)"]
    head += ["query embedding p50", "search without embedding p50 (hybrid / dense)"]
    print(c.table(rows, head))
    top = max(levels)
    p50 = c.percentile(results[top]["hybrid"], 50)
    print()
    print(
        f"retrieval-only (hybrid) p50 at {builds[top][0]} chunks: {p50:.1f} ms (target < 30 ms): "
        f"{'PASS' if p50 < 30 else 'FAIL'}"
    )
    if answer is not None:
        answered, abstained = answer
        ms = answered or abstained
        med = c.median(ms)
        print(
            "retrieval + extractive answer (Assistant.ask) at "
            f"{builds[at][0]} chunks, over the {len(answered)} answered questions: "
            f"median {med:.1f} ms, p95 {c.percentile(ms, 95):.1f} ms (target: median < 50 ms): "
            f"{'PASS' if med < 50 else 'FAIL'}; all {len(answered) + len(abstained)} questions: median "
            f"{c.median(answered + abstained):.1f} ms ({len(abstained)} abstained)"
        )
    if embedder.misses:
        print(f"note: {embedder.misses} passages were not in the pool and were embedded for real")
    plot(results, args.plot)
    print(f"plot: {args.plot.relative_to(c.ROOT) if args.plot.is_relative_to(c.ROOT) else args.plot}")
    print(f"peak RSS {peak_rss_mib():.0f} MiB; total {time.perf_counter() - started:.0f} s")


def _prefix(docs: Sequence[Document], chunks: int) -> list[Document]:
    """The first articles of ``docs`` holding ``chunks`` sections (one chunk each)."""
    out: list[Document] = []
    total = 0
    for doc in docs:
        if total >= chunks:
            break
        out.append(doc)
        total += doc.text.count("\n## ")
    return out


if __name__ == "__main__":
    main()
