"""Time to first token: the default chain through the whole assistant, and each packaged model.

Two measurements, on real questions of the example help centres
(``examples/eval/*/queries.jsonl``) asked against their docs:

- ``chain``: the default chain (``GROKASSIST_BACKEND`` or ``auto``) through
  :meth:`Assistant.stream`, from the call to the first text piece shown (retrieval of
  5 passages, the abstention checks, evidence selection, prompt, generation and
  the grounding guard, which shows a sentence once it is complete and supported);
- ``model``: each packaged model named on the command line
  (``--model qwen2.5-0.5b`` ...) on the same questions' 5-passage grounded
  prompts as the assistant builds them, from ``backend.stream(request)`` to its
  first chunk (prompt fitting, tokenization and prompt evaluation).

Runs interleave the configurations. The machine may be shared, so besides
wall-clock TTFT the script reports the CPU time the process spent and that time
divided by the threads: the TTFT the same work would take on idle cores.

    python bench/ttft.py [--runs 15] [--model qwen2.5-0.5b] [--model gemma3-270m] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from grokassist import Assistant, Chunk, KnowledgeBase
from grokassist.backends.llama_cpp import LlamaCppBackend
from grokassist.config import load_settings


def questions(n: int) -> list[tuple[str, str]]:
    """``(help centre, question)`` pairs, alternating between the example help centres."""
    sets = {}
    for name in ("starlink", "optimus"):
        path = c.EXAMPLES / "eval" / name / "queries.jsonl"
        sets[name] = [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]
    out = []
    for i in range(n):
        name = ("starlink", "optimus")[i % 2]
        out.append((name, sets[name][(i // 2) % len(sets[name])]))
    return out


def first_piece(items: Any) -> tuple[float, float]:
    """Wall and CPU seconds to the first text of a stream of pieces or chunks (run to its end)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    wall = cpu = float("nan")
    for item in items:
        text = item if isinstance(item, str) else item.text if isinstance(item, Chunk) else ""
        if text and wall != wall:
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--model", action="append", default=[], help="a packaged model to time (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    c.header("Time to first token: the default chain through the assistant, and packaged models")

    data = Path(tempfile.mkdtemp(prefix="grokassist-ttft-"))
    settings = load_settings(data_dir=data)
    assistants = {}
    for name in ("starlink", "optimus"):
        kb = KnowledgeBase(name, settings=settings)
        kb.ingest(c.EXAMPLES / name / "docs")
        kb.warm_up()
        assistants[name] = Assistant(kb, settings=settings)
    chain = ",".join(b.name for b in assistants["starlink"].backends)
    models = {name: LlamaCppBackend(name) for name in args.model}
    for backend in models.values():
        backend.warm_up()
    threads = os.cpu_count() or 1

    asked = questions(args.runs + 1)
    for name, question in asked[-1:]:  # warm-up: page the weights in, fill caches
        first_piece(assistants[name].stream(question))
        for backend in models.values():
            prep = assistants[name]._prepare(question, None, None, None)
            if prep.request is not None:
                first_piece(backend.stream(prep.request))

    wall: dict[str, list[float]] = {"chain": [], **{m: [] for m in models}}
    cpu: dict[str, list[float]] = {k: [] for k in wall}
    load_before = os.getloadavg()[0]
    for i, (name, question) in enumerate(asked[: args.runs]):
        order = list(wall) if i % 2 == 0 else list(reversed(wall))
        prep = assistants[name]._prepare(question, None, None, None)
        for label in order:
            if label == "chain":
                w, u = first_piece(assistants[name].stream(question))
            elif prep.request is not None:
                w, u = first_piece(models[label].stream(prep.request))
            else:
                continue  # the assistant abstains: no model is asked
            if w == w:
                wall[label].append(w)
                cpu[label].append(u)
    load_after = os.getloadavg()[0]

    figures: dict[str, Any] = {
        "chain": chain,
        "runs": args.runs,
        "load_before": load_before,
        "load_after": load_after,
    }
    rows = []
    for label, values in wall.items():
        if not values:
            continue
        figures[label] = {
            "ttft_p50_s": round(c.median(values), 3),
            "ttft_p90_s": round(c.percentile(values, 90), 3),
            "cpu_p50_s": round(c.median(cpu[label]), 3),
            "idle_estimate_s": round(c.median(cpu[label]) / threads, 3),
            "n": len(values),
        }
        rows.append((label if label != "chain" else f"default chain ({chain})", figures[label]))
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"runs: {args.runs}, interleaved; load average (1 min) before / after: "
        f"{load_before:.1f} / {load_after:.1f}"
    )
    print()
    print("| configuration | n | median TTFT | p90 TTFT | median CPU to it | idle estimate |")
    print("|---|---|---|---|---|---|")
    for label, f in rows:
        print(
            f"| {label} | {f['n']} | {f['ttft_p50_s']:.3f} s | {f['ttft_p90_s']:.3f} s | "
            f"{f['cpu_p50_s']:.3f} s | {f['idle_estimate_s']:.3f} s |"
        )
    print()
    print(
        "median TTFT of the default chain under 1.0 s: "
        + ("yes" if figures["chain"]["ttft_p50_s"] < 1.0 else "no")
    )


if __name__ == "__main__":
    main()
