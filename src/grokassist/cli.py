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
from rich.text import Text

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
outbox_app = typer.Typer(
    help="Escalations on their way to the ticketing system (in the store of GROKASSIST_SERVER_STORE_URL).",
    no_args_is_help=True,
)
app.add_typer(outbox_app, name="outbox")

# markup=False: messages are printed as they are (`pip install "grokassist[server]"` keeps its
# brackets); the few styled words are rich.text.Text objects.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)

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
    err.print(Text.assemble(("error:", "bold red"), " ", message))
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


def _tier_rules(items: list[str], option: str) -> dict[str, str]:
    """``RULE=TIER`` options as a mapping (split at the last ``=``)."""
    rules: dict[str, str] = {}
    for item in items:
        rule, sep, tier = item.rpartition("=")
        if not sep or not rule.strip():
            _fail(f"{option} takes RULE=TIER, e.g. 'forum/*=community'; got {item!r}", 2)
        rules[rule.strip()] = tier.strip()
    return rules


@app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Folders or files (.md, .html, .txt, .pdf, .docx), help centres (zendesk://SUBDOMAIN, "
            "freshdesk://DOMAIN, confluence://SITE/SPACE, intercom://) or websites (https://...).",
            show_default=False,
        ),
    ],
    kb: KbOption = None,
    keep_missing: Annotated[
        bool, typer.Option("--keep-missing", help="Do not delete documents that are gone from the folders.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the sync report as JSON.")] = False,
    embedder: Annotated[
        str | None,
        typer.Option(
            "--embedder",
            help="The embedding model: minilm, e5 (multilingual) or a folder; a knowledge base embedded "
            "with another model is re-embedded, and later commands use the model it was embedded with.",
        ),
    ] = None,
    trust: Annotated[
        str | None,
        typer.Option(
            "--trust",
            help="Trust tier of these documents: official (support docs, the default) or community "
            "(forums, social posts: never stated as fact). See docs/live-data.md.",
        ),
    ] = None,
    trust_pattern: Annotated[
        list[str] | None,
        typer.Option(
            "--trust-pattern",
            help="PATTERN=TIER: documents whose id, path or address matches the shell pattern get TIER "
            "(e.g. 'forum/*=community'); repeatable.",
        ),
    ] = None,
    trust_field: Annotated[
        list[str] | None,
        typer.Option(
            "--trust-field",
            help="KEY=VALUE=TIER: documents whose metadata KEY is VALUE get TIER "
            "(e.g. 'category=forum=community'); repeatable.",
        ),
    ] = None,
) -> None:
    """Ingest or re-sync documents into a knowledge base (incremental)."""
    from .knowledge import KnowledgeBase
    from .trust import TrustRules

    with _errors():
        try:
            rules = TrustRules.model_validate(
                {
                    "default": trust or "official",
                    "patterns": _tier_rules(trust_pattern or [], "--trust-pattern"),
                    "fields": _tier_rules(trust_field or [], "--trust-field"),
                }
            )
        except ValueError as exc:  # pydantic's ValidationError
            _fail(f"invalid trust rule: {exc}", 2)
        overrides: dict[str, Any] = {"kb": kb}
        if embedder is not None:
            overrides["retrieval"] = {"embedder": embedder}
        base = KnowledgeBase(kb, settings=_settings(**overrides))
        progress, update = _progress_bar()
        with progress:
            report = base.ingest(*paths, progress=update, delete_missing=not keep_missing, trust=rules)
    if as_json:
        payload = {**report.model_dump(), "kb": base.name, "documents": len(base)}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        out.print(
            f"{base.name}: {report.added} added, {report.updated} updated, {report.deleted} deleted, "
            f"{report.unchanged} unchanged; {report.chunks_embedded} passages embedded; "
            f"{len(base)} documents in total"
        )
    if report.community and not as_json:
        err.print(
            Text.assemble(
                ("community", "magenta"),
                f" {len(report.community)} document(s) of community trust: reported with attribution "
                "at most, never stated as fact",
            )
        )
    for source, chars, reasons in report.hidden_text:
        err.print(
            Text.assemble(("hidden text left out", "cyan"), f" {source}: {chars} characters: {reasons}")
        )
    for source, reason in report.skipped:
        err.print(Text.assemble(("skipped", "yellow"), f" {source}: {reason}"))
    for source, reason in report.flagged:
        err.print(
            Text.assemble(
                ("flagged", "red"), f" {source}: addresses the assistant, never answered from ({reason})"
            )
        )
    if report.skipped:
        raise typer.Exit(1)


def _print_answer(answer: Answer, *, streamed: bool) -> None:
    if not streamed:
        out.print(answer.text)
    if answer.citations:
        out.print("\nSources:")
        for c in answer.citations:
            mark = {"live": " (live)", "community": " (community: unverified)"}.get(c.tier, "")
            out.print(f"  [{c.index}] {c.title}{mark} — {c.source}", markup=False)
    for use in answer.live:
        if use.state != "fresh":
            out.print(f"\n(live source {use.name}: {use.state})", markup=False)
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
        "language": data["language"],
        "live": data["live"],
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
    docs: Annotated[
        Path | None,
        typer.Option("--docs", help="The documents to ingest, when they are not in DATASET_DIR/docs."),
    ] = None,
    injections: Annotated[
        Path | None,
        typer.Option(
            "--injections",
            help="A folder with docs/ of planted instructions and queries.jsonl listing their payloads: "
            "ingested with the corpus; reports how often an answer repeats a payload.",
        ),
    ] = None,
    embedder: Annotated[
        str | None,
        typer.Option(
            "--embedder", help="retrieval.embedder for this run: minilm, e5 (multilingual) or a folder."
        ),
    ] = None,
    community: Annotated[
        Path | None,
        typer.Option(
            "--community",
            help="A folder with docs/ of community posts and queries.jsonl listing their claims: the posts "
            "are ingested with the community tier; reports how often an answer states a claim as fact.",
        ),
    ] = None,
    community_tier: Annotated[
        str,
        typer.Option(
            "--community-tier",
            help="The tier the --community posts are ingested with (official: measure an assistant "
            "that does not know where its sources come from).",
        ),
    ] = "community",
) -> None:
    """Evaluate retrieval, answers, latency and abstention on a support-QA set.

    Question sets that serve several knowledge bases mark each question with a
    ``kb`` field; only those for this dataset's folder name (or without one) are asked.
    """
    import time

    from .evaluation import evaluate, for_kb, has_queries, ingest_dataset, load_queries
    from .knowledge import KnowledgeBase
    from .retrieval.embedders import EMBEDDER_ALIASES, embedder_model_name

    with _errors():
        dataset = dataset.resolve()
        tag = dataset.name
        # a corpus without questions (docs/ only) is fine when only negatives are asked
        queries = load_queries(dataset)[:limit] if negatives is None or has_queries(dataset) else []
        negative_queries = (
            for_kb(load_queries(negatives.resolve()), tag)[:limit] if negatives is not None else []
        )
        planted_queries = (
            for_kb(load_queries(injections.resolve()), tag)[:limit] if injections is not None else []
        )
        planted_docs = injections.resolve() / "docs" if injections is not None else None
        if planted_docs is not None and not planted_docs.is_dir():
            raise ConfigurationError(f"{injections} has no docs/ folder of planted documents")
        posts_queries = (
            for_kb(load_queries(community.resolve()), tag)[:limit] if community is not None else []
        )
        posts_docs = community.resolve() / "docs" if community is not None else None
        if posts_docs is not None and not posts_docs.is_dir():
            raise ConfigurationError(f"{community} has no docs/ folder of community posts")
        if community_tier not in ("community", "official"):
            _fail("--community-tier is community or official", 2)
        overrides: dict[str, Any] = {"backend": backend}
        if abstain_below is not None:
            overrides["answer"] = {"abstain_below": abstain_below}
        if embedder is not None:
            overrides["retrieval"] = {"embedder": embedder}
        # one knowledge base per corpus and embedding model: comparing models re-embeds nothing
        chosen = _settings(**overrides).retrieval.embedder
        model = embedder_model_name(chosen) or str(Path(chosen).expanduser().resolve())
        key = str(dataset) if model == EMBEDDER_ALIASES["minilm"] else f"{dataset}|{model}"
        if posts_docs is not None:
            key += f"\x00{posts_docs}\x00{community_tier}"
        name = kb or "eval-" + hashlib.sha1(key.encode()).hexdigest()[:10]
        overrides["kb"] = name
        base = KnowledgeBase(name, settings=_settings(**overrides))
        progress, update = _progress_bar()
        with progress:
            started = time.perf_counter()
            flagged = ingest_dataset(
                base,
                dataset,
                progress=update,
                docs=docs.resolve() if docs is not None else None,
                extra=[planted_docs] if planted_docs is not None else [],
            )
            if posts_docs is not None:
                base.ingest(posts_docs, trust=community_tier, progress=update)
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
                injections=planted_queries,
                injection_documents=_count_documents(planted_docs),
                flagged_documents=flagged,
                community=posts_queries,
                community_documents=_count_documents(posts_docs),
                community_tier=community_tier,
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


def _count_documents(folder: Path | None) -> int:
    if folder is None:
        return 0
    return sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


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
        mark = ("yes", "green") if info.available else ("no", "red")
        gpu = "" if info.gpu is None else (" gpu" if info.gpu else " cpu")
        line = Text.assemble(f"{info.scheme:<12} ", mark, gpu)
        if info.reason:
            line.append(f"  {info.reason}")
        if info.install and not info.available:
            line.append(f"  ({info.install})")
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
    outbox_worker: Annotated[
        bool,
        typer.Option(
            "--outbox-worker",
            help="Also deliver escalations to the ticketing system (ticketing.url) from this process.",
        ),
    ] = False,
) -> None:
    """Serve the support widget's HTTP API (REST, SSE, OpenAI-compatible) over a knowledge base.

    API keys, CORS origins, rate limits and the session store (GROKASSIST_SERVER_STORE_URL)
    come from GROKASSIST_SERVER_* variables (docs/widget.md).
    """
    from pydantic import ValidationError

    from .handoff import HandoffSettings
    from .knowledge import KnowledgeBase
    from .server import check_workers, run

    with _errors():
        settings = _settings(kb=kb, backend=backend)
        server_settings = _server_settings()
        try:
            handoff = HandoffSettings()
        except ValidationError as exc:
            raise ConfigurationError(f"invalid GROKASSIST_HANDOFF_* settings:\n{exc}") from exc
        if outbox_worker:
            if not settings.ticketing.url:
                raise ConfigurationError(
                    "--outbox-worker needs a ticketing system: "
                    "set GROKASSIST_TICKETING__URL (docs/ticketing.md)"
                )
            handoff = handoff.model_copy(update={"worker_in_process": True})
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
            handoff=handoff,
            log_level=log_level,
            workers=workers,
        )


def _server_settings() -> Any:
    from pydantic import ValidationError

    from .server.settings import ServerSettings

    try:
        return ServerSettings()
    except ValidationError as exc:
        raise ConfigurationError(f"invalid GROKASSIST_SERVER_* settings:\n{exc}") from exc


def _open_outbox_store(store_url: str | None) -> Any:
    """The store ``grokassist serve`` uses (or ``store_url``), without FastAPI."""
    from .stores import open_store

    server = _server_settings()
    folder = server.data_dir or _settings().data_dir / "server"
    return open_store(store_url or server.store_url, folder=folder)


StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store URL (default: GROKASSIST_SERVER_STORE_URL, as grokassist serve)."),
]


@outbox_app.command("run")
def outbox_run(
    store: StoreOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due, read the open tickets once, then exit.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --once: print what was done as JSON.")
    ] = False,
) -> None:
    """Deliver escalations to the ticketing system (ticketing.url) and bring agents' replies back.

    Runs until interrupted; several may run against one store (leases keep them apart).
    """
    import anyio
    from pydantic import ValidationError

    from .adapters.ticketing import open_ticketing
    from .handoff import HandoffSettings, OutboxWorker

    with _errors():
        try:
            handoff = HandoffSettings()
        except ValidationError as exc:
            raise ConfigurationError(f"invalid GROKASSIST_HANDOFF_* settings:\n{exc}") from exc
        adapter = open_ticketing(settings=_settings().ticketing)
        opened = _open_outbox_store(store)
        worker = OutboxWorker(
            opened,
            adapter,
            policy=handoff.delivery,
            poll_s=handoff.poll_s,
            sync_s=handoff.sync_s,
            concurrency=handoff.concurrency,
        )

        async def main() -> None:
            try:
                await (worker.run_until_idle() if once else worker.run())
            finally:
                await adapter.aclose()

        try:
            if not once:
                err.print(f"outbox worker {worker.name} delivering to {adapter.name} (Ctrl-C to stop)")
            anyio.run(main)
        finally:
            opened.close()
    if once:
        stats = vars(worker.stats)
        if as_json:
            sys.stdout.write(json.dumps(stats) + "\n")
        else:
            out.print(", ".join(f"{k}: {v}" for k, v in stats.items()))


@outbox_app.command("list")
def outbox_list(
    store: StoreOption = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, delivering, delivered or dead.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List escalations, oldest first."""
    if status not in (None, "pending", "delivering", "delivered", "dead"):
        _fail(f"--status must be pending, delivering, delivered or dead, not {status!r}", 2)
    with _errors():
        opened = _open_outbox_store(store)
        try:
            found = opened.outbox.escalations(status, limit)
        finally:
            opened.close()
    if as_json:
        from .server.routes.outbox import entry
        from .server.schemas import OutboxList

        sys.stdout.write(OutboxList(escalations=[entry(e) for e in found]).model_dump_json(indent=2) + "\n")
        return
    if not found:
        out.print("no escalations" + (f" {status}" if status else ""))
    for e in found:
        line = f"{e.id}  {e.status:<10} attempts {e.attempts:<3} {e.trigger:<17}"
        if e.ticket_id:
            line += f" ticket {e.ticket_id} ({e.ticket_status})"
        if e.last_error and e.status != "delivered":
            line += f"  last error: {e.last_error}"
        out.print(line)


@outbox_app.command("retry")
def outbox_retry(
    escalation_id: Annotated[str, typer.Argument(help="The escalation (esc_...).")],
    store: StoreOption = None,
) -> None:
    """Queue a dead (or waiting) escalation again, due now, its attempts reset."""
    with _errors():
        opened = _open_outbox_store(store)
        try:
            found = opened.outbox.get(escalation_id)
            if found is None:
                _fail(f"no escalation {escalation_id} in this store (see grokassist outbox list)")
            if not opened.outbox.retry(escalation_id):
                _fail(f"{escalation_id} is {found.status}: only pending or dead escalations are retried")
        finally:
            opened.close()
    out.print(f"{escalation_id} queued again")


@app.command("mcp")
def mcp_command(
    kb: KbOption = None,
    backend: BackendOption = None,
    transport: Annotated[
        str,
        typer.Option("--transport", "-t", help="stdio (for a local MCP client) or http (streamable HTTP)."),
    ] = "stdio",
    host: Annotated[str, typer.Option(help="Interface to listen on (http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (http); the endpoint is /mcp.")] = 8765,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="GROKASSIST_SERVER_STORE_URL",
            help="Where escalations are queued (the widget service's store): sqlite:, sqlite:///file, "
            "redis://host:6379/0 or memory:.",
        ),
    ] = None,
) -> None:
    """Serve search_support_docs, ask_support and escalate_to_human as MCP tools.

    Over http on an interface other than loopback, clients must send
    Authorization: Bearer $GROKASSIST_MCP_API_KEY.
    """
    import os

    from pydantic import SecretStr

    from .assistant import Assistant
    from .knowledge import KnowledgeBase
    from .mcp import StoreEscalations, run_mcp

    with _errors():
        settings = _settings(kb=kb, backend=backend)
        base = KnowledgeBase(kb, settings=settings, create=False)
        base.warm_up()
        assistant = Assistant(base, settings=settings)
        outbox = _open_outbox_store(store)
        key = os.environ.get("GROKASSIST_MCP_API_KEY")
        where = "stdio" if transport == "stdio" else f"http://{host}:{port}/mcp"
        err.print(f"MCP tools over knowledge base {base.name!r} ({len(base)} documents) on {where}")
        try:
            run_mcp(
                assistant,
                StoreEscalations(outbox),
                transport=transport,
                host=host,
                port=port,
                api_key=SecretStr(key) if key else None,
            )
        finally:
            outbox.close()
            assistant.close()


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
    ] = 0,
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
