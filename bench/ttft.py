"""Time to first token of the packaged model (Gemma 3 270M, llama.cpp, CPU) on a
grounded prompt: 5 retrieved passages of about 200 tokens each plus a question.

Each run takes another real question from the evaluation sets with 5 passages
of the support articles (chunked by grokassist.ingest, 200-token chunks), so
the KV cache can reuse only the shared instruction header, as in production.
TTFT is measured from ``backend.stream(request)`` to the first chunk with text;
it includes prompt fitting, tokenization and prompt evaluation.

Two configurations run interleaved:

- ``full``: every passage whole (``max_prompt_tokens=0``: about 900 prompt tokens);
- ``budget``: what ``llama-cpp:default`` does, the prompt capped at
  ``PACKAGED_PROMPT_BUDGET`` tokens (or ``--budget``): passages trimmed by
  water-filling to an equal share, keeping the sentences that share the most
  words with the question.

The machine may be shared, so besides wall-clock TTFT the script reports the
CPU time the process spent until the first token and that time divided by the
threads: the TTFT the same work would take on idle cores. It prints the load
average too.

    python bench/ttft.py [--runs 15] [--budget N] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from grokassist.backends.base import ChatRequest, GenerationSettings
from grokassist.backends.llama_cpp import LlamaCppBackend
from grokassist.types import Message, ScoredPassage


def grounded_requests(n: int, k: int, seed: int = 0) -> list[ChatRequest]:
    """``n`` requests, each a real question with ``k`` passages."""
    passages = [p for p in c.corpus_passages() if len(p.text) > 600]
    rng = random.Random(seed)
    out = []
    for question in c.questions(n):
        chosen = rng.sample(passages, k)
        scored = tuple(ScoredPassage(passage=p, score=1.0 - i / 10) for i, p in enumerate(chosen))
        out.append(request_for(question, scored))
    return out


def request_for(question: str, scored: tuple[ScoredPassage, ...], **settings: Any) -> ChatRequest:
    sources = "\n\n".join(f"[{i + 1}] {sp.passage.title}\n{sp.passage.text}" for i, sp in enumerate(scored))
    return ChatRequest(
        messages=(
            Message(role="system", content=f"Answer from the sources, citing [n].\n\n{sources}"),
            Message(role="user", content=question),
        ),
        question=question,
        passages=scored,
        settings=GenerationSettings(max_tokens=settings.get("max_tokens", 8), temperature=0.0),
    )


def first_token_seconds(backend: LlamaCppBackend, request: ChatRequest) -> tuple[float, float, int]:
    """(wall seconds, process CPU seconds) to the first text chunk, and the prompt tokens."""
    start, cpu_start = time.perf_counter(), time.process_time()
    ttft = cpu = float("nan")
    prompt_tokens = 0
    for chunk in backend.stream(request):
        if chunk.text and ttft != ttft:
            ttft, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if chunk.usage is not None:
            prompt_tokens = chunk.usage.prompt_tokens
    return ttft, cpu, prompt_tokens


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--passages", type=int, default=5)
    parser.add_argument("--budget", type=int, default=None, help="max_prompt_tokens of the 'budget' run")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--n-ctx", type=int, default=4096)
    args = parser.parse_args()
    c.header("Time to first token, packaged Gemma 3 270M (llama.cpp), grounded 5-passage prompt")

    options: dict[str, Any] = {"n_ctx": args.n_ctx}
    if args.threads:
        options["n_threads"] = args.threads
    full = LlamaCppBackend("default", max_prompt_tokens=0, **options)
    budget = LlamaCppBackend("default", max_prompt_tokens=args.budget, **options)  # shares the model
    threads = int(full.llama.n_threads)
    full.warm_up()
    budget.warm_up()
    requests = grounded_requests(args.runs + 1, args.passages)
    first_token_seconds(full, requests[-1])  # warm-up: page the weights in

    results: dict[str, list[float]] = {"full": [], "budget": []}
    cpu: dict[str, list[float]] = {"full": [], "budget": []}
    tokens: dict[str, list[int]] = {"full": [], "budget": []}
    contenders = {"full": full, "budget": budget}
    load_before = os.getloadavg()[0]
    for i, request in enumerate(requests[: args.runs]):
        order = ["full", "budget"] if i % 2 == 0 else ["budget", "full"]
        for name in order:
            ttft, cpu_s, n = first_token_seconds(contenders[name], request)
            results[name].append(ttft)
            cpu[name].append(cpu_s)
            tokens[name].append(n)
    load_after = os.getloadavg()[0]

    print(f"runs: {args.runs} per configuration, interleaved; llama.cpp threads: {threads}")
    print(f"load average (1 min) before / after: {load_before:.1f} / {load_after:.1f} on {c.cores()} cores")
    print()
    print("| configuration | prompt tokens | median TTFT | p90 TTFT | median CPU to it | idle estimate |")
    print("|---|---|---|---|---|---|")
    for name in ("full", "budget"):
        label = "whole passages" if name == "full" else f"max_prompt_tokens={budget.prompt_budget}"
        print(
            f"| {label} | {int(c.median(tokens[name]))} | {c.median(results[name]):.3f} s | "
            f"{c.percentile(results[name], 90):.3f} s | {c.median(cpu[name]):.3f} s | "
            f"{c.median(cpu[name]) / threads:.3f} s |"
        )
    verdict = "yes" if c.median(results["budget"]) < 1.0 else "no"
    print()
    print(f"median TTFT of llama-cpp:default under 1.0 s: {verdict}")
    full.close()
    budget.close()


if __name__ == "__main__":
    main()
