"""Peak resident memory (ru_maxrss) of a large ingest and of a loaded assistant.

Each case runs in its own subprocess, which reports its own peak RSS:

- ``baseline``: ``import grokassist`` and nothing else;
- ``ingest``: a first ingest of N synthetic documents (default 1,000, recombined
  from the paragraphs of the example and evaluation docs) into a fresh knowledge base;
- ``assistant``: that knowledge base opened by an ``Assistant``, warmed up, and
  one question answered, with the backend given (default ``extractive:``; the
  packaged model with ``--backend llama-cpp:default``).

    python bench/memory.py [--docs 1000] [--backend extractive:] [--backend llama-cpp:default]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(case: str, data_dir: str, docs: int, backend: str) -> dict[str, object]:
    start = time.perf_counter()
    info: dict[str, object] = {"case": case}
    if case == "baseline":
        import grokassist  # noqa: F401
    elif case == "ingest":
        import _common as c

        from grokassist.config import load_settings
        from grokassist.knowledge import KnowledgeBase

        corpus = c.synth_documents(docs, seed=3)
        kb = KnowledgeBase("bench", settings=load_settings(data_dir=data_dir, kb="bench"))
        report = kb.ingest(*corpus)
        info.update(documents=report.added, chunks=report.chunks_embedded)
    elif case == "assistant":
        from grokassist.assistant import Assistant
        from grokassist.config import load_settings
        from grokassist.knowledge import KnowledgeBase

        settings = load_settings(data_dir=data_dir, kb="bench", backend=backend)
        kb = KnowledgeBase("bench", settings=settings, create=False)
        kb.warm_up()
        assistant = Assistant(kb, settings=settings)
        answer = assistant.ask("How do I reset my router to factory settings?")
        info.update(
            backend=answer.backend,
            abstained=answer.abstained,
            documents=len(kb),
            passages=kb.stats().passages,
        )
    else:
        raise SystemExit(f"unknown case {case!r}")
    info["seconds"] = round(time.perf_counter() - start, 2)
    info["peak_rss_mib"] = round(_peak_mib(), 1)
    return info


def run_child(case: str, data_dir: Path, docs: int, backend: str = "extractive:") -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", case, "--data-dir", str(data_dir), "--docs", str(docs)]
    cmd += ["--backend", backend]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"case": case, "backend": backend, "error": proc.stderr.strip().splitlines()[-1:]}
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--backend", action="append", default=None, help="backend(s) of the assistant case")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend = (args.backend or ["extractive:"])[0]
        print(json.dumps(child(args.child, args.data_dir, args.docs, backend)))
        return

    import _common as c

    c.header("Peak resident memory")
    tmp = Path(tempfile.mkdtemp(prefix="ga-bench-mem-"))
    rows = []
    try:
        results = [run_child("baseline", tmp, args.docs), run_child("ingest", tmp, args.docs)]
        for backend in args.backend or ["extractive:"]:
            results.append(run_child("assistant", tmp, args.docs, backend))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in results:
        if "error" in r:
            rows.append([r["case"], r.get("backend", ""), "failed", "", str(r["error"])])
            continue
        what = {
            "baseline": "import grokassist",
            "ingest": f"first ingest: {r.get('documents')} documents, {r.get('chunks')} chunks",
            "assistant": f"Assistant ({r.get('backend')}) over {r.get('passages')} passages, one question",
        }[str(r["case"])]
        rows.append([r["case"], what, f"{r['peak_rss_mib']:.0f}", f"{r['seconds']:.1f}", ""])
    print(c.table(rows, ["case", "what", "peak RSS (MiB)", "seconds", "note"]))


if __name__ == "__main__":
    main()
