import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from grokassist.cli import app

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GROKASSIST_BACKEND", "extractive:")
    return Path(settings.data_dir)


def _run(data: Path, *args: str) -> Any:
    return runner.invoke(app, ["--data-dir", str(data), *args])


def test_ingest_ask_json_and_kb_commands(cli_env: Path, docs_dir: Path) -> None:
    result = _run(cli_env, "ingest", str(docs_dir), "--kb", "shop", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 4

    again = _run(cli_env, "ingest", str(docs_dir), "--kb", "shop")
    assert again.exit_code == 0 and "4 unchanged" in again.stdout

    asked = _run(cli_env, "ask", "How do I pause my service?", "--kb", "shop", "--json")
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.stdout)
    assert set(answer) >= {"text", "citations", "confidence", "abstained", "actions"}
    assert answer["citations"][0]["source"].endswith("billing/pause.md")
    assert not answer["abstained"]

    plain = _run(cli_env, "ask", "How do I pause my service?", "--kb", "shop")
    assert "Sources:" in plain.stdout and "pause.md" in plain.stdout

    abstain = _run(
        cli_env, "ask", "What is the capital of France?", "--kb", "shop", "--json", "--fail-on-abstain"
    )
    assert abstain.exit_code == 4 and json.loads(abstain.stdout)["abstained"] is True

    assert _run(cli_env, "kb", "list").stdout.split() == ["shop"]
    stats = json.loads(_run(cli_env, "kb", "stats", "--kb", "shop", "--json").stdout)
    assert stats["documents"] == 4
    assert _run(cli_env, "kb", "delete", "shop", "--yes").exit_code == 0
    assert _run(cli_env, "kb", "list").stdout.strip() == ""


def test_errors_have_clear_messages_and_exit_codes(cli_env: Path, tmp_path: Path) -> None:
    missing = _run(cli_env, "ask", "hello?", "--kb", "nope")
    assert missing.exit_code == 3 and "no knowledge base named 'nope'" in missing.stderr
    bad_filter = _run(cli_env, "ingest", str(tmp_path / "does-not-exist"), "--kb", "x")
    assert bad_filter.exit_code == 3 and "does-not-exist" in bad_filter.stderr


def test_skipped_files_exit_1_and_are_listed(cli_env: Path, docs_dir: Path) -> None:
    (docs_dir / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    result = _run(cli_env, "ingest", str(docs_dir), "--kb", "shop")
    assert result.exit_code == 1
    assert "broken.pdf" in result.stderr and "4 added" in result.stdout


def test_chat_is_multi_turn(cli_env: Path, docs_dir: Path) -> None:
    _run(cli_env, "ingest", str(docs_dir), "--kb", "shop")
    result = runner.invoke(
        app,
        ["--data-dir", str(cli_env), "chat", "--kb", "shop"],
        input="How do I factory reset my Gen 3 router?\nand for the older router?\n\n",
    )
    assert result.exit_code == 0, result.output
    assert "pinhole" in result.stdout and "three times" in result.stdout


def test_eval_retrieval_only(cli_env: Path, tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    (ds / "docs").mkdir(parents=True)
    (ds / "docs" / "0000.md").write_text(
        "# Reset\n\nHold the reset button for ten seconds to reset the router.\n"
    )
    (ds / "docs" / "0001.md").write_text("# Billing\n\nInvoices are sent on the first day of each month.\n")
    queries = [
        {"id": "q0", "question": "how to reset my router", "gold": ["0000"], "answer": "hold reset"},
        {"id": "q1", "question": "when do invoices arrive", "gold": ["0001"], "answer": "first day"},
    ]
    (ds / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    result = _run(cli_env, "eval", str(ds), "--retrieval-only", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["n"] == 2 and report["recall@1"] == 1.0 and report["mrr@10"] == 1.0


def test_help_everywhere() -> None:
    for args in (["--help"], ["ingest", "--help"], ["ask", "--help"], ["kb", "--help"], ["eval", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.stdout
