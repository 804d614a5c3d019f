"""The ``grokassist`` command.

Exit codes: 0 success; 1 partial success (some documents were skipped);
2 usage error; 3 a grokassist error (configuration, backend, store...);
4 the assistant abstained (``ask`` only, with ``--fail-on-abstain``).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .config import Settings, load_settings
from .errors import ConfigurationError, GrokAssistError
from .types import Answer

app = typer.Typer(
    name="grokassist",
    help="Customer-support answers from your docs, with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kb_app = typer.Typer(help="Manage knowledge bases.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

_state: dict[str, Any] = {}

KbOption = Annotated[str | None, typer.Option("--kb", help="Knowledge base name (default: 'default').")]
BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend", "-b", help="Backend URI or comma-separated fallback chain, e.g. 'extractive:'."
    ),
]
FilterOption = Annotated[
    list[str] | None, typer.Option("--filter", "-f", help="Metadata filter KEY=VALUE (repeatable).")
]


def _fail(message: str, code: int = 3) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except GrokAssistError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _settings(**overrides: Any) -> Settings:
    kwargs = {k: v for k, v in overrides.items() if v is not None}
    if _state.get("data_dir"):
        kwargs.setdefault("data_dir", _state["data_dir"])
    return load_settings(**kwargs)


def _filters(items: list[str] | None) -> dict[str, Any] | None:
    if not items:
        return None
    out_: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _fail(f"--filter expects KEY=VALUE, got {item!r}", 2)
        values = value.split("|")
        out_[key] = values if len(values) > 1 else value
    return out_


@app.callback()
def _main(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", envvar="GROKASSIST_DATA_DIR", help="Where knowledge bases live."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    """grokassist: answer customers from support docs, with citations."""
    import logging

    _state["data_dir"] = data_dir
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


def _progress_bar() -> tuple[Progress, Callable[[str, int, int], None]]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return progress, update


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Folders or files (.md, .html, .txt, .pdf).")],
    kb: KbOption = None,
    keep_missing: Annotated[
        bool, typer.Option("--keep-missing", help="Do not delete documents that are gone from the folders.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the sync report as JSON.")] = False,
) -> None:
    """Ingest or re-sync documents into a knowledge base (incremental)."""
    from .knowledge import KnowledgeBase

    with _errors():
        base = KnowledgeBase(kb, settings=_settings(kb=kb))
        progress, update = _progress_bar()
        with progress:
            report = base.ingest(*paths, progress=update, delete_missing=not keep_missing)
    if as_json:
        out.print_json(data={**report.model_dump(), "kb": base.name, "documents": len(base)})
    else:
        out.print(
            f"{base.name}: {report.added} added, {report.updated} updated, {report.deleted} deleted, "
            f"{report.unchanged} unchanged; {report.chunks_embedded} passages embedded; "
            f"{len(base)} documents in total"
        )
    for source, reason in report.skipped:
        err.print(f"[yellow]skipped[/] {source}: {reason}")
    if report.skipped:
        raise typer.Exit(1)


def _print_answer(answer: Answer, *, streamed: bool) -> None:
    if not streamed:
        out.print(answer.text)
    if answer.citations:
        out.print("\nSources:")
        for c in answer.citations:
            out.print(f"  [{c.index}] {c.title} — {c.source}")
    if answer.abstained:
        out.print("\n(no confident answer: offered a human agent)")


def _answer_json(answer: Answer) -> dict[str, Any]:
    data = answer.model_dump(mode="json")
    return {
        "text": data["text"],
        "citations": data["citations"],
        "confidence": data["confidence"],
        "abstained": data["abstained"],
        "actions": data["actions"],
        "backend": data["backend"],
        "query": data["query"],
        "usage": data["usage"],
    }


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The customer's question.")],
    kb: KbOption = None,
    backend: BackendOption = None,
    filters: FilterOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    fail_on_abstain: Annotated[
        bool, typer.Option("--fail-on-abstain", help="Exit 4 when it abstains.")
    ] = False,
) -> None:
    """Answer one question from a knowledge base."""
    from .assistant import Assistant
    from .knowledge import KnowledgeBase

    with _errors():
        settings = _settings(kb=kb, backend=backend)
        base = KnowledgeBase(kb, settings=settings, create=False)
        assistant = Assistant(base, settings=settings)
        answer: Answer | None = None
        streamed = not as_json and out.is_terminal
        for item in assistant.stream(question, filters=_filters(filters)):
            if isinstance(item, Answer):
                answer = item
            elif streamed:
                out.print(item, end="")
        if streamed:
            out.print()
        assistant.close()
    assert answer is not None
    if as_json:
        sys.stdout.write(json.dumps(_answer_json(answer), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_answer(answer, streamed=streamed)
    if fail_on_abstain and answer.abstained:
        raise typer.Exit(4)


@app.command()
def chat(
    kb: KbOption = None,
    backend: BackendOption = None,
    filters: FilterOption = None,
) -> None:
    """Interactive multi-turn chat (empty line or Ctrl-D to quit)."""
    import uuid

    from .assistant import Assistant
    from .knowledge import KnowledgeBase

    with _errors():
        settings = _settings(kb=kb, backend=backend)
        assistant = Assistant(KnowledgeBase(kb, settings=settings, create=False), settings=settings)
        session = uuid.uuid4().hex
        interactive = sys.stdin.isatty()
        while True:
            try:
                line = input("you> " if interactive else "")
            except EOFError:
                break
            if not line.strip() or line.strip() in {"/quit", "/exit"}:
                break
            out.print("assistant> ", end="")
            answer: Answer | None = None
            for item in assistant.stream(line, session=session, filters=_filters(filters)):
                if isinstance(item, Answer):
                    answer = item
                else:
                    out.print(item, end="")
            out.print()
            if answer is not None:
                _print_answer(answer, streamed=True)
            out.print()
        assistant.close()


@kb_app.command("list")
def kb_list() -> None:
    """List the knowledge bases."""
    from .knowledge import KnowledgeBase

    with _errors():
        for name in KnowledgeBase.list_names(_settings()):
            out.print(name)


@kb_app.command("stats")
def kb_stats(
    kb: KbOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show documents, passages and storage of a knowledge base."""
    from .knowledge import KnowledgeBase

    with _errors():
        stats = KnowledgeBase(kb, settings=_settings(kb=kb), create=False).stats()
    if as_json:
        out.print_json(data=stats.model_dump())
    else:
        for key, value in stats.model_dump().items():
            out.print(f"{key}: {value}")


@kb_app.command("delete")
def kb_delete(
    kb: Annotated[str, typer.Argument(help="Name of the knowledge base to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a knowledge base and its index."""
    from .knowledge import KnowledgeBase

    with _errors():
        base = KnowledgeBase(kb, settings=_settings(kb=kb), create=False)
        if not yes and not typer.confirm(f"Delete knowledge base {kb!r} ({len(base)} documents)?"):
            raise typer.Exit(1)
        base.delete()
    out.print(f"deleted {kb}")


@app.command("eval")
def eval_(
    dataset: Annotated[
        Path, typer.Argument(help="Dataset folder: docs/ and queries.jsonl (docs/ alone with --negatives).")
    ],
    backend: BackendOption = None,
    negatives: Annotated[
        Path | None,
        typer.Option(
            "--negatives",
            help="Another dataset whose questions this corpus cannot answer: measures how often it abstains.",
        ),
    ] = None,
    retrieval_only: Annotated[
        bool, typer.Option("--retrieval-only", help="Only measure retrieval (and the abstention decision).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    report_dir: Annotated[
        Path | None, typer.Option("--report", help="Write a markdown report with plots into this folder.")
    ] = None,
    kb: KbOption = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N questions of each set.")
    ] = None,
    abstain_below: Annotated[
        float | None,
        typer.Option("--abstain-below", min=0.0, max=1.0, help="Abstention threshold for this run."),
    ] = None,
) -> None:
    """Evaluate retrieval, answers, latency and abstention on a support-QA set."""
    import time

    from .evaluation import evaluate, has_queries, ingest_dataset, load_queries
    from .knowledge import KnowledgeBase

    with _errors():
        dataset = dataset.resolve()
        # a corpus without questions (docs/ only) is fine when only negatives are asked
        queries = load_queries(dataset)[:limit] if negatives is None or has_queries(dataset) else []
        negative_queries = load_queries(negatives.resolve())[:limit] if negatives is not None else []
        name = kb or "eval-" + hashlib.sha1(str(dataset).encode()).hexdigest()[:10]
        overrides: dict[str, Any] = {"kb": name, "backend": backend}
        if abstain_below is not None:
            overrides["answer"] = {"abstain_below": abstain_below}
        base = KnowledgeBase(name, settings=_settings(**overrides))
        progress, update = _progress_bar()
        with progress:
            started = time.perf_counter()
            ingest_dataset(base, dataset, progress=update)
            ingest_s = time.perf_counter() - started
            report = evaluate(
                base,
                queries,
                negatives=negative_queries,
                negatives_name=negatives.resolve().name if negatives is not None else "",
                backend=base.settings.backend,
                retrieval_only=retrieval_only,
                dataset=dataset.name,
                ingest_s=ingest_s,
                progress=update,
            )
        base.close()
        if report_dir is not None:
            from .eval_report import write_report

            command = "grokassist " + " ".join(sys.argv[1:]) if sys.argv else None
            written = write_report(report, report_dir, command=command)
            err.print(f"report written to {written}")
    summary = report.summary()
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    for section, value in summary.items():
        if isinstance(value, dict):
            out.print(f"{section}:")
            for key, item in value.items():
                out.print(f"  {key}: {item}")
        else:
            out.print(f"{section}: {value}")


@app.command()
def backends(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List model backends: which can run here and, for the others, why not."""
    from .backends import available_backends, default_backend_uris

    with _errors():
        infos = available_backends()
        default = default_backend_uris()
    if as_json:
        out.print_json(data={"default": default, "backends": [vars(i) for i in infos]})
        return
    out.print(f"default chain: {','.join(default)}")
    for info in infos:
        mark = "[green]yes[/]" if info.available else "[red]no[/]"
        gpu = "" if info.gpu is None else (" gpu" if info.gpu else " cpu")
        line = f"{info.scheme:<12} {mark}{gpu}"
        if info.reason:
            line += f"  {info.reason}"
        if info.install and not info.available:
            line += f"  ({info.install})"
        out.print(line)


@app.command()
def serve(
    kb: KbOption = None,
    backend: BackendOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; they share the store (not memory:).")
    ] = 1,
) -> None:
    """Serve the support widget's HTTP API (REST, SSE, OpenAI-compatible) over a knowledge base.

    API keys, CORS origins, rate limits and the session store (GROKASSIST_SERVER_STORE_URL)
    come from GROKASSIST_SERVER_* variables (docs/widget.md).
    """
    from pydantic import ValidationError

    from .knowledge import KnowledgeBase
    from .server import ServerSettings, check_workers, run

    with _errors():
        settings = _settings(kb=kb, backend=backend)
        try:
            server_settings = ServerSettings()
        except ValidationError as exc:
            raise ConfigurationError(f"invalid GROKASSIST_SERVER_* settings:\n{exc}") from exc
        check_workers(server_settings, workers)
        base = KnowledgeBase(kb, settings=settings, create=False)
        documents = len(base)
        if workers > 1:  # each worker opens the knowledge base itself
            base.close()
        else:
            base.warm_up()
        where = f"http://{host}:{port}" + (f" with {workers} workers" if workers > 1 else "")
        err.print(f"serving knowledge base {base.name!r} ({documents} documents) on {where}")
        run(
            host,
            port,
            base if workers == 1 else base.name,
            settings.backend,
            settings=settings,
            server_settings=server_settings,
            log_level=log_level,
            workers=workers,
        )


@app.command()
def robot(
    kb: KbOption = None,
    backend: BackendOption = None,
    audio_in: Annotated[
        str, typer.Option("--audio-in", help="A 16-bit WAV file (several: comma-separated) or 'mic'.")
    ] = "mic",
    mqtt: Annotated[
        str | None, typer.Option("--mqtt", help="The robot's MQTT broker, e.g. mqtt://127.0.0.1:1883.")
    ] = None,
    audio_out: Annotated[
        str,
        typer.Option("--audio-out", help="A WAV file to write the robot's voice to, 'speaker' or 'none'."),
    ] = "none",
    robot_id: Annotated[
        str, typer.Option("--robot-id", help="MQTT topics: grokassist/robot/<id>/...")
    ] = "optimus",
    tts: Annotated[str, typer.Option("--tts", help="piper (default) or espeak.")] = "piper",
    vad: Annotated[str, typer.Option("--vad", help="silero (default) or webrtc.")] = "silero",
    audit: Annotated[
        Path | None, typer.Option("--audit", help="Append the safety gate's decisions here.")
    ] = None,
    max_prompt_tokens: Annotated[
        int,
        typer.Option(
            "--max-prompt-tokens", help="Prompt budget of local models for answers (0: the model's own)."
        ),
    ] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the turns as JSON at the end.")] = False,
) -> None:
    """Talk to the robot: listen, answer from the manual, speak, and act through the safety gate.

    Needs the [robot] extra (pip install "grokassist[robot]"); see docs/robot.md.
    """
    import anyio

    from .knowledge import KnowledgeBase
    from .robot.app import RobotConfig, run_robot

    with _errors():
        settings = _settings(kb=kb, backend=backend)
        base = KnowledgeBase(kb, settings=settings, create=False)
        if tts not in ("piper", "espeak") or vad not in ("silero", "webrtc"):
            _fail("--tts is piper or espeak; --vad is silero or webrtc", 2)
        config = RobotConfig(
            audio_in=audio_in,
            audio_out=audio_out,
            mqtt=mqtt,
            robot_id=robot_id,
            tts=tts,  # type: ignore[arg-type]
            vad=vad,  # type: ignore[arg-type]
            audit=audit,
            max_prompt_tokens=max_prompt_tokens or None,
        )

        async def go() -> Any:
            return await run_robot(
                base, config, settings=settings, on_ready=lambda: err.print("listening (Ctrl-C to stop)")
            )

        records = anyio.run(go)
    if as_json:
        out.print_json(data=[r.__dict__ for r in records])
        return
    for record in records:
        if record.cancelled:
            continue
        out.print(f"owner: {record.transcript}")
        said = record.spoken_text or record.answer_text
        out.print(f"robot: {said}{' (interrupted)' if record.interrupted else ''}")
        if record.decision:
            out.print(
                f"  action {record.decision['action']}: {record.decision['verdict']} "
                f"({record.decision['reason']})"
            )


def main() -> None:
    """Entry point of the ``grokassist`` command."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
