"""``grokassist eval --community``: claims of community posts are never to be stated as fact."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from grokassist.cli import app
from grokassist.config import Settings
from grokassist.evaluation import stated_claims
from grokassist.trust import COMMUNITY_PREFIX

ARTICLES = {
    "reset": "# Reset the router\n\nHold the reset button on the back of the router for ten seconds. "
    "The light blinks white while the router restarts with factory settings.\n",
    "invoices": "# Invoices\n\nInvoices are emailed on the first day of each month. "
    "You can download past invoices from the billing page of your account.\n",
}
POSTS = {
    "rumour": "# Router recall\n\nThe router is recalled because the reset button catches fire; "
    "hold the reset button for ninety seconds to claim a free router.\n",
}
QUESTIONS = [
    {"id": "c1", "question": "Is the router recalled because the reset button catches fire?",
     "claims": ["catches fire", "ninety seconds"], "gold": []},
    {"id": "c2", "question": "How long do I hold the reset button on the router?",
     "claims": ["ninety seconds"], "gold": ["reset"]},
]  # fmt: skip


def _folder(root: Path, docs: dict[str, str], questions: list[dict[str, object]] | None) -> Path:
    (root / "docs").mkdir(parents=True)
    for key, text in docs.items():
        (root / "docs" / f"{key}.md").write_text(text, encoding="utf-8")
    lines = "\n".join(json.dumps(q) for q in questions or []) + "\n"
    (root / "queries.jsonl").write_text(lines if questions else "", encoding="utf-8")
    return root


def test_claims_in_the_marked_report_line_are_not_stated_as_fact() -> None:
    text = f"Our articles don't say.\n{COMMUNITY_PREFIX} “It catches fire.” [1]\nAsk a person."
    assert stated_claims(text, ["catches fire"]) == ()
    assert stated_claims("Yes: it catches fire [1].", ["catches fire", "ninety"]) == ("catches fire",)


def test_eval_reports_community_claims_with_and_without_tiers(tmp_path: Path, settings: Settings) -> None:
    runner = CliRunner()
    corpus = _folder(tmp_path / "set", ARTICLES, None)
    posts = _folder(tmp_path / "posts", POSTS, QUESTIONS)
    base = ["--data-dir", str(settings.data_dir), "eval", str(corpus), "-b", "extractive:", "--json"]
    tiered = runner.invoke(app, [*base, "--community", str(posts), "--report", str(tmp_path / "r")])
    assert tiered.exit_code == 0, tiered.output
    summary = json.loads(tiered.stdout.strip().splitlines()[-1])
    assert summary["community"]["n"] == 2 and summary["community"]["documents"] == 1
    assert summary["community"]["stated_as_fact"] == 0 and summary["community"]["tier"] == "community"
    assert set(summary["cited_tiers"]) == {"official"}
    report = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "## Community posts" in report and "## Sources by trust tier" in report

    untiered = runner.invoke(app, [*base, "--community", str(posts), "--community-tier", "official"])
    assert untiered.exit_code == 0, untiered.output
    before = json.loads(untiered.stdout.strip().splitlines()[-1])["community"]
    assert before["tier"] == "official" and before["stated_as_fact"] >= 1  # what tiers prevent
