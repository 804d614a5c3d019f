"""Structured output from the packaged model: does it validate?

The packaged Gemma 3 270M is a small *base* model; left alone it rarely writes
valid JSON. The llama.cpp backend compiles the request's JSON schema (here
from a pydantic model) to a llama.cpp grammar, so decoding can only produce
text the schema accepts. Each try asks a different real question from the
evaluation sets with 5 passages, sampling at temperature 0.7 with its own
seed (so the tries differ), and validates the text with
``SupportReply.model_validate_json``. A truncated answer (finish_reason
``length``) counts as a failure.

    python bench/structured_output.py [--tries 100] [--max-tokens 320]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from grokassist.backends.base import ChatRequest, GenerationSettings
from grokassist.backends.llama_cpp import LlamaCppBackend
from grokassist.types import Message, ScoredPassage


class SupportReply(BaseModel):
    """What a structured support answer looks like."""

    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=240)
    citations: list[Annotated[int, Field(ge=1, le=5)]] = Field(max_length=3)  # source numbers
    confidence: Literal["low", "medium", "high"]
    needs_human: bool


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument("--max-tokens", type=int, default=320)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--passages", type=int, default=5)
    args = parser.parse_args()
    c.header("Structured output: packaged Gemma 3 270M + JSON-schema grammar, validated by pydantic")

    backend = LlamaCppBackend("default", n_ctx=4096)
    backend.warm_up()
    schema = SupportReply.model_json_schema()
    passages = [p for p in c.corpus_passages() if len(p.text) > 300]
    rng = random.Random(3)
    valid = 0
    failures: list[str] = []
    seconds: list[float] = []
    tokens: list[int] = []
    for i, question in enumerate(c.questions(args.tries)):
        chosen = rng.sample(passages, args.passages)
        request = ChatRequest(
            messages=(Message(role="user", content=question),),
            question=question,
            passages=tuple(ScoredPassage(passage=p, score=1.0) for p in chosen),
            settings=GenerationSettings(
                max_tokens=args.max_tokens, temperature=args.temperature, seed=i, json_schema=schema
            ),
        )
        start = time.perf_counter()
        completion = backend.complete(request)
        seconds.append(time.perf_counter() - start)
        tokens.append(completion.usage.completion_tokens if completion.usage else 0)
        try:
            SupportReply.model_validate_json(completion.text)
        except ValidationError as exc:
            failures.append(
                f"try {i} ({completion.finish_reason}): {exc.errors()[0]['msg']}: {completion.text[:120]!r}"
            )
        else:
            if completion.finish_reason == "length":
                failures.append(f"try {i}: truncated")
            else:
                valid += 1
        if i == 0:
            print(f"example: {completion.text}")
            print()
        if (i + 1) % 10 == 0:
            print(f"  {i + 1} tries, {valid} valid", file=sys.stderr, flush=True)

    print(f"valid: {valid}/{args.tries}")
    print(f"median seconds per answer: {c.median(seconds):.2f}")
    print(f"median completion tokens: {c.median(tokens):.0f}")
    for line in failures[:10]:
        print("  " + line)
    backend.close()


if __name__ == "__main__":
    main()
