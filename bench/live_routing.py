"""Which questions go to live sources without a model: the status router and the keyword tool router.

The extractive chain has no model to decide when to read the status page or
call a host tool; :func:`grokassist.live.asks_status` and
:class:`grokassist.live.KeywordToolRouter` decide from the question's words and
form. This counts, on the example sets, how many questions each routes:
status questions and tool questions of ``examples/eval/live`` should be
routed; the 200 in-domain, off-topic and injection questions of the example
sets, the near-miss how-to questions of ``examples/eval/live`` and the
community questions should not (a how-to question answered with the status
page instead of the article is a wrong answer).

    python bench/live_routing.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

sys.path.insert(0, str(c.EXAMPLES / "live"))
import host_tools
from tool_calls import KEYWORDS

from grokassist.live import KeywordToolRouter, asks_status, host_tool


def _read(name: str) -> list[dict[str, object]]:
    lines = (c.EXAMPLES / "eval" / name / "queries.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main() -> None:
    c.header("Routing to live sources without a model (status router, keyword tool router)")
    live = _read("live")
    others = [
        str(q["question"]) for name in ("starlink", "optimus", "offtopic", "injections") for q in _read(name)
    ]
    community = [str(q["question"]) for q in _read("community")]
    howto = [str(q["question"]) for q in live if q["kind"] == "howto"]
    status = [str(q["question"]) for q in live if q["kind"] == "status"]
    tools = [
        host_tool(host_tools.service_status, keywords=KEYWORDS["service_status"]),
        host_tool(host_tools.dish_diagnostics, keywords=KEYWORDS["dish_diagnostics"]),
        host_tool(host_tools.robot_battery, keywords=KEYWORDS["robot_battery"]),
    ]
    router = KeywordToolRouter()
    context = {"account": "ACC-1042", "region": "Queensland"}  # what a host passes

    def tool_of(question: str) -> str | None:
        chosen = router.choose(question, tools, context)
        return chosen[0].name if chosen else None

    print(f"status questions routed to the status page: {sum(map(asks_status, status))}/{len(status)}")
    print(f"how-to questions routed there (wrong):       {sum(map(asks_status, howto))}/{len(howto)}")
    print(f"example-set questions routed there (wrong):  {sum(map(asks_status, others))}/{len(others)}")
    print(f"community questions routed there:            {sum(map(asks_status, community))}/{len(community)}")
    wanted = [(str(q["question"]), q["tool"]) for q in live if q["kind"] == "tool"]
    good = sum(tool_of(q) == t for q, t in wanted)
    print(f"tool questions given the right tool:         {good}/{len(wanted)}")
    wrong = [q for q in others + howto + community if tool_of(q)]
    total = len(others) + len(howto) + len(community)
    print(f"other questions given a tool (wrong):        {len(wrong)}/{total}")
    for question in wrong:
        print(f"  {tool_of(question)}: {question}")


if __name__ == "__main__":
    main()
