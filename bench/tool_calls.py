"""Tool calls from the packaged model: are they schema-valid, and is it the right tool?

The host-product tools of ``examples/live/host_tools.py`` (``service_status(region)``,
``dish_diagnostics(account)``, ``robot_battery()``) are offered to the packaged
default model (``llama-cpp:default``) through the one tool-call path
(:func:`grokassist.tools.choose_tool_call`): llama.cpp compiles the JSON schema
of every possible call, ``{"tool": NAME, "arguments": {...}}`` or
``{"tool": "none"}``, into a grammar. Each try asks one question, drawn from
the tool and status questions of ``examples/eval/live`` and the in-domain
Starlink and Optimus questions (which need no tool), sampling at temperature
0.7 with its own seed, and checks the call with
:meth:`grokassist.tools.ToolRegistry.validate` (a known tool, arguments that
validate against its pydantic model). A call cut short, unparsable or invalid
counts as a failure. The keyword router (the extractive chain's) is scored on
the same questions for comparison (it is the assistant's choice for local models
and the extractive chain by default, ``answer.tool_choice = "auto"``), and so is
the model's choice kept only where the keyword router allows that tool.

    python bench/tool_calls.py [--tries 100] [--temperature 0.7]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

sys.path.insert(0, str(c.EXAMPLES / "live"))
import host_tools

from grokassist.backends.base import GenerationSettings
from grokassist.backends.llama_cpp import LlamaCppBackend
from grokassist.errors import GrokAssistError
from grokassist.live import KeywordToolRouter, host_tool
from grokassist.tools import ToolRegistry, choose_tool_call

KEYWORDS = {
    "service_status": ["outage", "service status", "service working", "network status"],
    "dish_diagnostics": ["dish offline", "dish disconnected", "dish connected", "dish not connecting",
                         "diagnostics", "dish obstructed", "check my dish", "dish wrong"],
    "robot_battery": ["battery", "charged", "charging", "charge level"],
}  # fmt: skip


def questions(tries: int) -> list[tuple[str, str | None]]:
    """``tries`` (question, expected tool) pairs: every tool question, then others drawn at random."""
    live = [json.loads(x) for x in (c.EXAMPLES / "eval/live/queries.jsonl").read_text().splitlines()]
    wanted = [(q["question"], q["tool"]) for q in live if q["kind"] == "tool"]
    others = [(q["question"], None) for q in live if q["kind"] != "tool"]
    for name in ("starlink", "optimus"):
        lines = (c.EXAMPLES / "eval" / name / "queries.jsonl").read_text().splitlines()
        others += [(json.loads(x)["question"], None) for x in lines]
    rng = random.Random(7)
    rng.shuffle(others)
    picked = (wanted * 3)[: tries // 3] + others
    return picked[:tries]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    c.header(f"Tool calls: packaged model llama-cpp:{args.model}, grammar-constrained JSON, validated")

    tools = [
        host_tool(host_tools.service_status, keywords=KEYWORDS["service_status"]),
        host_tool(host_tools.dish_diagnostics, keywords=KEYWORDS["dish_diagnostics"], sensitive=True),
        host_tool(host_tools.robot_battery, keywords=KEYWORDS["robot_battery"]),
    ]
    registry = ToolRegistry(t.tool for t in tools)
    backend = LlamaCppBackend(args.model, n_ctx=2048)
    backend.warm_up()
    router = KeywordToolRouter()
    context = {"account": "ACC-1042", "region": "Queensland"}

    valid = right = keyword_right = auto_right = 0
    # (expected, chosen) -> count, for the model and the keyword router
    model_confusion: dict[tuple[str, str], int] = {}
    keyword_confusion: dict[tuple[str, str], int] = {}
    failures: list[str] = []
    seconds: list[float] = []
    for i, (question, expected) in enumerate(questions(args.tries)):
        settings = GenerationSettings(temperature=args.temperature, seed=i)
        start = time.perf_counter()
        try:
            call = choose_tool_call(backend, question, registry, settings=settings)
            if call is not None:
                registry.validate(call)
        except GrokAssistError as exc:
            failures.append(f"try {i}: {type(exc).__name__}: {exc}"[:200])
            call = None
            ok = False
        else:
            ok = True
        seconds.append(time.perf_counter() - start)
        valid += ok
        chosen = call.name if call is not None else None
        right += ok and chosen == expected
        routed = router.choose(question, tools, context)
        by_keywords = routed[0].name if routed else None
        keyword_right += by_keywords == expected
        # the assistant's default (answer.tool_choice = "auto"): a local model's choice stands only
        # where the keyword router allows that tool for the question
        by_tool = {t.name: t for t in tools}
        gated = chosen if chosen is None or router.allows(question, by_tool[chosen]) else None
        auto_right += ok and gated == expected
        key = (expected or "none", chosen or "none")
        model_confusion[key] = model_confusion.get(key, 0) + 1
        key = (expected or "none", by_keywords or "none")
        keyword_confusion[key] = keyword_confusion.get(key, 0) + 1
        if i < 3:
            print(f"example: {question!r} -> {call}")
        if (i + 1) % 10 == 0:
            print(f"  {i + 1} tries, {valid} valid", file=sys.stderr, flush=True)

    n = args.tries
    print(f"schema-valid calls: {valid}/{n}")
    print(
        f"right tool (or none): model alone {right}/{n}, keyword router {keyword_right}/{n}, "
        f"model checked by the keyword router (the default) {auto_right}/{n}"
    )
    print(f"median seconds per choice: {c.median(seconds):.2f}")
    for name, confusion in (("model", model_confusion), ("keyword router", keyword_confusion)):
        cells = ", ".join(f"{e} -> {g}: {n}" for (e, g), n in sorted(confusion.items()))
        print(f"{name} (expected -> chosen): {cells}")
    for line in failures[:10]:
        print("  " + line)
    backend.close()


if __name__ == "__main__":
    main()
