"""What grokassist's llama.cpp backend adds on top of llama-cpp-python.

The same grounded prompt (5 passages and a question; the text the backend
builds) is streamed through

- ``grokassist``: ``LlamaCppBackend("default").stream(request)``, including its prompt
  fitting (token counting, passage trimming checks), tokenization, stop
  handling, chunk objects and usage;
- ``llama-cpp-python``: ``Llama.create_completion(prompt, stream=True)`` on the
  *same* loaded ``Llama`` with the same sampling settings and stop sequences.

Both decode greedily with no stop sequences (``completion_stop=()``), so
they produce the same tokens (checked) and run to ``--max-tokens``. Runs are
interleaved, the order alternating each round, and the KV cache is reset
before every run so each evaluates the whole prompt. TTFT is the time from
the call to the first chunk with text; tokens/s is (completion tokens - 1)
over the time from the first to the last chunk. The script prints medians and
their ratios, checked against the limits (at most +5 % TTFT, at most -3 %
tokens/s), and the median of the per-round ratios, which resists a load that
drifts during the run (the machine may be shared). Because wall-clock
medians on a shared machine move by more than the limits, it also times what
each side spends *outside* llama.cpp's ``eval`` and ``sample`` (prompt
building, tokenizing, detokenizing, stop handling, chunk objects): that
difference is grokassist's own cost, independent of the load.

    python bench/generation_overhead.py [--runs 20] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from grokassist.backends.base import ChatRequest, GenerationSettings
from grokassist.backends.llama_cpp import LlamaCppBackend
from grokassist.types import Message, ScoredPassage


def grounded_request(k: int, max_tokens: int) -> ChatRequest:
    passages = [p for p in c.corpus_passages() if len(p.text) > 600]
    chosen = random.Random(7).sample(passages, k)
    scored = tuple(ScoredPassage(passage=p, score=1.0 - i / 10) for i, p in enumerate(chosen))
    question = c.questions(1)[0]
    return ChatRequest(
        messages=(Message(role="user", content=question),),
        question=question,
        passages=scored,
        settings=GenerationSettings(max_tokens=max_tokens, temperature=0.0),
    )


class Clock:
    """Wall time of a stream, split into time inside llama.cpp (``eval``, ``sample``) and outside."""

    def __init__(self, llm: Any) -> None:
        self.inside = 0.0
        for method in ("eval", "sample"):
            original = getattr(llm, method)
            setattr(llm, method, self._wrap(original))

    def _wrap(self, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.inside += time.perf_counter() - start

        return timed

    def run(self, chunks: Iterator[str]) -> dict[str, Any]:
        """TTFT, last-chunk time and the time outside llama.cpp before / after the first text."""
        self.inside = 0.0
        start = time.perf_counter()
        first = last = float("nan")
        inside_first = 0.0
        parts: list[str] = []
        for text in chunks:
            if not text:
                continue
            now = time.perf_counter()
            if not parts:
                first, inside_first = now - start, self.inside
            last = now - start
            parts.append(text)
        total = time.perf_counter() - start
        return {
            "first": first,
            "last": last,
            "text": "".join(parts),
            "outside_first": first - inside_first,
            "outside_after": (total - first) - (self.inside - inside_first),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--passages", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    c.header("Generation overhead: grokassist llama.cpp backend vs llama-cpp-python, same model and prompt")

    options = {"n_ctx": 4096} | ({"n_threads": args.threads} if args.threads else {})
    # no stop sequences, so both sides decode max_tokens (unless the model ends the text)
    backend = LlamaCppBackend("default", completion_stop=(), **options)
    llm = backend.llama
    request = grounded_request(args.passages, args.max_tokens)
    fitted = backend.prompt(request)
    opts = backend.options
    stop = list(fitted.stop)

    def ours() -> Iterator[str]:
        for chunk in backend.stream(request):
            yield chunk.text

    def direct() -> Iterator[str]:
        for event in llm.create_completion(
            fitted.text,
            max_tokens=args.max_tokens,
            temperature=0.0,
            top_k=opts.top_k,
            min_p=opts.min_p,
            repeat_penalty=opts.repeat_penalty,
            stop=stop,
            stream=True,
        ):
            yield event["choices"][0]["text"]

    contenders = {"grokassist": ours, "llama-cpp-python": direct}
    clock = Clock(llm)
    ttft: dict[str, list[float]] = {name: [] for name in contenders}
    rate: dict[str, list[float]] = {name: [] for name in contenders}
    outside_first: dict[str, list[float]] = {name: [] for name in contenders}
    outside_token: dict[str, list[float]] = {name: [] for name in contenders}
    texts: dict[str, set[str]] = {name: set() for name in contenders}
    completion_tokens = 0
    for run in contenders.values():  # warm-up, discarded
        llm.reset()
        clock.run(run())
    for i in range(args.runs):
        names = list(contenders) if i % 2 == 0 else list(reversed(contenders))
        for name in names:
            llm.reset()  # no prefix reuse: each run evaluates the whole prompt
            result = clock.run(contenders[name]())
            texts[name].add(result["text"])
            n = len(llm.tokenize(result["text"].encode(), add_bos=False))
            completion_tokens = n
            first, last = result["first"], result["last"]
            ttft[name].append(first)
            rate[name].append((n - 1) / (last - first) if last > first else float("nan"))
            outside_first[name].append(result["outside_first"])
            outside_token[name].append(result["outside_after"] / max(n - 1, 1))

    prompt_tokens = len(llm.tokenize(fitted.text.encode()))
    print(
        f"prompt: {prompt_tokens} tokens ({args.passages} passages); completion: ~{completion_tokens} tokens"
    )
    same = texts["grokassist"] == texts["llama-cpp-python"]
    print(f"runs: {args.runs} each, interleaved; same output: {same}")
    print()
    print("| | median TTFT | median tokens/s | outside llama.cpp: to first token | per later token |")
    print("|---|---|---|---|---|")
    for name in contenders:
        print(
            f"| {name} | {c.median(ttft[name]) * 1000:.1f} ms | {c.median(rate[name]):.1f} | "
            f"{c.median(outside_first[name]) * 1000:.2f} ms | {c.median(outside_token[name]) * 1000:.3f} ms |"
        )
    ttft_ratio = c.median(ttft["grokassist"]) / c.median(ttft["llama-cpp-python"])
    rate_ratio = c.median(rate["grokassist"]) / c.median(rate["llama-cpp-python"])
    # each round ran both back to back: the median of the per-round ratios resists drifting load
    paired_ttft = c.median([a / b for a, b in zip(ttft["grokassist"], ttft["llama-cpp-python"], strict=True)])
    paired_rate = c.median([a / b for a, b in zip(rate["grokassist"], rate["llama-cpp-python"], strict=True)])
    print()
    verdict = "PASS" if ttft_ratio <= 1.05 else "FAIL"
    print(f"TTFT ratio (grokassist / direct): {ttft_ratio:.3f}  (limit 1.05: {verdict})")
    verdict = "PASS" if rate_ratio >= 0.97 else "FAIL"
    print(f"tokens/s ratio (grokassist / direct): {rate_ratio:.3f}  (limit 0.97: {verdict})")
    print(f"median of per-round ratios: TTFT {paired_ttft:.3f}, tokens/s {paired_rate:.3f}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {c.cores()} cores")
    # the time spent outside llama.cpp's eval/sample does not depend on the machine's load
    extra_first = c.median(outside_first["grokassist"]) - c.median(outside_first["llama-cpp-python"])
    extra_token = c.median(outside_token["grokassist"]) - c.median(outside_token["llama-cpp-python"])
    per_token = 1 / c.median(rate["llama-cpp-python"])
    print(
        f"grokassist's own work: {extra_first * 1000:+.2f} ms before the first token "
        f"({extra_first / c.median(ttft['llama-cpp-python']):+.2%} of TTFT), "
        f"{extra_token * 1000:+.3f} ms per later token ({extra_token / per_token:+.2%} of its time)"
    )
    backend.close()


if __name__ == "__main__":
    main()
