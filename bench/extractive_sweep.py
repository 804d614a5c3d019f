"""How many sentences of the best source an extractive answer should quote.

For each example help centre, every question with ``facts`` is retrieved once; the
extractive composer then answers it under each setting of its join threshold
(other sentences of the best source join when they score at least this share of the
best one's score) and ``max_sentences``. Prints, per setting, the share of answers that
state every fact, the share with a checkable fact found in no gold article (a wrong
fact, or one from the wrong article) and the median answer length.

    python bench/extractive_sweep.py [--close 0.75 0.6 0.5] [--max-sentences 4 5]

The default of ``grokassist.backends.extractive._CLOSE`` was chosen with it
(docs/evaluation.md, "Trust").
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _common import EXAMPLES

import grokassist.backends.extractive as extractive
from grokassist.assistant import Assistant
from grokassist.config import Settings
from grokassist.evaluation import _document_texts, facts_stated, for_kb, load_queries, wrong_facts
from grokassist.knowledge import KnowledgeBase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--close", type=float, nargs="+", default=[0.75, 0.6, 0.5, 0.4])
    parser.add_argument("--max-sentences", type=int, nargs="+", default=[4, 5])
    parser.add_argument("--kb", nargs="+", default=["starlink", "optimus"])
    args = parser.parse_args()
    default = extractive._CLOSE
    with tempfile.TemporaryDirectory(prefix="grokassist-sweep-") as data:
        for name in args.kb:
            settings = Settings(data_dir=Path(data), kb=name, backend="extractive:")
            kb = KnowledgeBase(name, settings=settings)
            kb.ingest(EXAMPLES / name / "docs")
            assistant = Assistant(kb, backend="extractive:", settings=settings)
            gold_texts = _document_texts(kb)
            asked = []
            for q in for_kb(load_queries(EXAMPLES / "eval" / name), name):
                if not q.facts:
                    continue
                prepared = assistant._prepare(q.question, None, None, None)
                if prepared.request is not None:  # abstentions do not depend on the composer
                    asked.append((q, prepared.request, [gold_texts[g] for g in q.gold if g in gold_texts]))
            print(f"{name}: {len(asked)} answered questions with facts")
            print("  close  max  all facts  wrong fact  median chars")
            for close in args.close:
                for most in args.max_sentences:
                    extractive._CLOSE = close
                    backend = extractive.ExtractiveBackend(max_sentences=most, embedder=kb.embedder)
                    stated = wrong = 0
                    lengths = []
                    for q, request, golds in asked:
                        text = "".join(chunk.text for chunk in backend.stream(request))
                        stated += facts_stated(text, q.facts)
                        wrong += bool(wrong_facts(text, golds, q.answer))
                        lengths.append(len(text))
                    n = max(len(asked), 1)
                    mark = " (default)" if close == default and most == 4 else ""
                    print(
                        f"  {close:5.2f}  {most:3d}  {stated / n:9.3f}  {wrong / n:10.3f}  "
                        f"{statistics.median(lengths) if lengths else 0:12.0f}{mark}"
                    )
            kb.close()
    extractive._CLOSE = default


if __name__ == "__main__":
    main()
