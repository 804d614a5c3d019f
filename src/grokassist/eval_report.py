"""Markdown evaluation reports with plots (matplotlib, Agg backend).

:func:`write_report` writes, into a folder: ``report.md`` with every figure of
an :class:`~grokassist.evaluation.EvalReport`, ``results.json`` with the
figures and the per-question results, and PNG plots: ``recall_at_k.png``,
``latency.png`` and, when negatives were asked, ``abstention_tradeoff.png``.
Needs ``pip install "grokassist[eval]"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._optional import require
from .evaluation import EvalReport, ThresholdPoint, operating_point, percentile

__all__ = ["plot_latency", "plot_recall_curve", "plot_tradeoff", "write_report"]


def _pyplot() -> Any:
    matplotlib = require("matplotlib", extra="eval", feature="evaluation plots")
    matplotlib.use("Agg", force=True)
    return require("matplotlib.pyplot", package="matplotlib", extra="eval", feature="evaluation plots")


def plot_recall_curve(curves: dict[str, dict[int, float]], path: Path, *, title: str = "Recall@k") -> Path:
    """Recall@k against k, one line per named curve."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for label, curve in curves.items():
        ks = sorted(curve)
        ax.plot(ks, [curve[k] for k in ks], marker="o", label=label)
    ax.set_xlabel("k (documents)")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(range(1, 1 + max((max(c) for c in curves.values() if c), default=10)))
    ax.grid(alpha=0.3)
    ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_latency(series: Mapping[str, Sequence[float]], path: Path, *, title: str = "Latency") -> Path:
    """Histograms of latencies in milliseconds, one panel per named series."""
    plt = _pyplot()
    shown = {k: list(v) for k, v in series.items() if v}
    if not shown:
        shown = {"no data": [0.0]}
    fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.4), dpi=110, squeeze=False)
    for ax, (label, values) in zip(axes[0], shown.items(), strict=True):
        ax.hist(values, bins=min(30, max(5, len(values) // 3)), color="tab:blue", alpha=0.8)
        p50 = percentile(values, 50)
        ax.axvline(p50, color="black", linestyle="--", linewidth=1, label=f"median {p50:.1f} ms")
        ax.set_xlabel("ms")
        ax.locator_params(axis="x", nbins=5)
        ax.set_title(label)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("questions")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_tradeoff(
    curves: Mapping[str, Sequence[ThresholdPoint]],
    path: Path,
    *,
    operating: float | None = None,
    title: str = "Abstention threshold trade-off",
) -> Path:
    """Answer rate on positives against abstention rate on negatives as the threshold varies.

    Two panels: the whole curve, and the top-right corner where operating
    points live, with thresholds 0.3-0.7 marked. A star marks ``operating``.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), dpi=110)
    for zoom, ax in enumerate(axes):
        for label, curve in curves.items():
            pts = [p for p in curve if p.answer_rate is not None and p.abstention_rate_negatives is not None]
            if not pts:
                continue
            xs = [p.abstention_rate_negatives for p in pts]
            ys = [p.answer_rate for p in pts]
            (line,) = ax.plot(xs, ys, linewidth=1.5, label=label)
            if zoom:
                for p in pts:
                    if round(p.threshold * 100) in (30, 40, 50, 60, 70):
                        ax.plot(
                            [p.abstention_rate_negatives], [p.answer_rate], "o", color=line.get_color(), ms=3
                        )
                        ax.annotate(
                            f"{p.threshold:.1f}",
                            (p.abstention_rate_negatives, p.answer_rate),
                            fontsize=7,
                            color=line.get_color(),
                            xytext=(3, -9),
                            textcoords="offset points",
                        )
            if operating is not None:
                op = operating_point(pts, operating)
                ax.plot(
                    [op.abstention_rate_negatives],
                    [op.answer_rate],
                    marker="*",
                    markersize=13,
                    color=line.get_color(),
                    markeredgecolor="black",
                )
        ax.set_xlabel("abstention rate on negatives (should abstain)")
        ax.grid(alpha=0.3)
        if zoom:
            ax.set_xlim(0.6, 1.005)
            ax.set_ylim(0.85, 1.005)
            ax.set_title("top-right corner, thresholds marked")
        else:
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("answer rate on positives (should answer)")
            ax.set_title("whole curve")
            ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(title + (f" (star: threshold {operating:g})" if operating is not None else ""))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _fmt(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _markdown(report: EvalReport, images: dict[str, str], command: str | None) -> str:
    lines = [f"# Evaluation: {report.dataset}", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += [
        f"- backend: `{report.backend}`",
        f"- abstention threshold (`answer.abstain_below`): {report.abstain_below:g}",
        f"- documents in the knowledge base: {report.documents}",
        f"- ingest: {report.ingest_s:.1f} s; questions: {report.eval_s:.1f} s",
        "",
    ]
    if report.retrieval is not None:
        r = report.retrieval
        lines += [
            "## Retrieval (document level)",
            "",
            "| questions | recall@1 | recall@5 | recall@10 | MRR@10 |",
            "|---|---|---|---|---|",
            f"| {r.n} | {_fmt(r.recall_at_1)} | {_fmt(r.recall_at_5)} | {_fmt(r.recall_at_10)} "
            f"| {_fmt(r.mrr_at_10)} |",
            "",
        ]
        if "recall" in images:
            lines += [f"![recall@k]({images['recall']})", ""]
    if report.answers is not None:
        a = report.answers
        lines += [
            "## Answers",
            "",
            "Averages over answered questions; citations are scored at document level against the gold "
            "documents, token F1 (SQuAD) and ROUGE-L (LCS F-measure) against the reference answer.",
            "",
            "| questions | answered | abstention rate | citation precision | citation recall | token F1 "
            "| ROUGE-L |",
            "|---|---|---|---|---|---|---|",
            f"| {a.n} | {a.answered} | {_fmt(a.abstention_rate)} | {_fmt(a.citation_precision)} "
            f"| {_fmt(a.citation_recall)} | {_fmt(a.token_f1)} | {_fmt(a.rouge_l)} |",
            "",
        ]
    if report.latency is not None:
        lat = report.latency
        lines += [
            "## Latency (ms)",
            "",
            "Retrieval over every question; time to first token and total over answered questions.",
            "",
            "| | p50 | p95 |",
            "|---|---|---|",
            f"| retrieval | {_fmt(lat.retrieval_p50_ms, 1)} | {_fmt(lat.retrieval_p95_ms, 1)} |",
            f"| time to first token | {_fmt(lat.ttft_p50_ms, 1)} | {_fmt(lat.ttft_p95_ms, 1)} |",
            f"| total | {_fmt(lat.total_p50_ms, 1)} | {_fmt(lat.total_p95_ms, 1)} |",
            "",
        ]
        if "latency" in images:
            lines += [f"![latency]({images['latency']})", ""]
    if report.negatives is not None:
        n = report.negatives
        lines += [
            "## Unanswerable questions (negatives)",
            "",
            f"Questions of `{n.dataset}` asked against this corpus: the assistant should abstain.",
            "",
            "| questions | answered | answer rate | abstention rate |",
            "|---|---|---|---|",
            f"| {n.n} | {n.answered} | {_fmt(n.answer_rate)} | {_fmt(n.abstention_rate)} |",
            "",
        ]
    if report.tiers:
        counts = ", ".join(f"{tier} {n}" for tier, n in report.tiers.items())
        lines += ["## Sources by trust tier", "", f"Citations over every answer: {counts}.", ""]
    if report.community is not None:
        c = report.community
        lines += [
            "## Community posts",
            "",
            f"{c.documents} community posts ingested with the `{c.tier}` tier; a claim of theirs found in an "
            'answer outside the marked "Some customers report" line counts as stated as fact.',
            "",
            "| questions | stated as fact | rate | reported with attribution |",
            "|---|---|---|---|",
            f"| {c.n} | {c.stated_as_fact} | {_fmt(c.stated_rate)} | {c.reported} |",
            "",
        ]
        if c.stated_ids:
            lines += [f"Stated as fact: {', '.join(c.stated_ids)}.", ""]
    if report.curve:
        op = operating_point(report.curve, report.abstain_below)
        lines += [
            "## Abstention threshold",
            "",
            "From the per-question confidences of this run: a question is answered when its confidence is "
            "at least the threshold.",
            "",
            "| threshold | answer rate (positives) | abstention rate (negatives) |",
            "|---|---|---|",
        ]
        for p in report.curve:
            if round(p.threshold * 100) % 10 == 0 or p.threshold == op.threshold:
                mark = " **(current)**" if p.threshold == op.threshold else ""
                rates = f"{_fmt(p.answer_rate)} | {_fmt(p.abstention_rate_negatives)}"
                lines.append(f"| {p.threshold:.2f}{mark} | {rates} |")
        lines.append("")
        if "tradeoff" in images:
            lines += [f"![trade-off]({images['tradeoff']})", ""]
    return "\n".join(lines)


def write_report(report: EvalReport, folder: Path, *, command: str | None = None) -> Path:
    """Write ``report.md``, ``results.json`` and the plots into ``folder``; return the markdown path."""
    folder.mkdir(parents=True, exist_ok=True)
    images: dict[str, str] = {}
    if report.recall_curve:
        plot_recall_curve({report.dataset: report.recall_curve}, folder / "recall_at_k.png")
        images["recall"] = "recall_at_k.png"
    if report.latency is not None:
        series: dict[str, list[float]] = {
            "retrieval": [q.retrieval_ms for q in report.questions],
            "time to first token": [q.ttft_ms for q in report.questions if q.ttft_ms is not None],
            "total": [q.total_ms for q in report.questions if q.total_ms is not None],
        }
        plot_latency(series, folder / "latency.png", title=f"Latency: {report.dataset}")
        images["latency"] = "latency.png"
    if report.negatives is not None and any(p.answer_rate is not None for p in report.curve):
        plot_tradeoff(
            {f"{report.dataset} vs {report.negatives.dataset}": report.curve},
            folder / "abstention_tradeoff.png",
            operating=report.abstain_below,
        )
        images["tradeoff"] = "abstention_tradeoff.png"
    payload = {**report.summary(), "questions": [q.model_dump(mode="json") for q in report.questions]}
    (folder / "results.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    path = folder / "report.md"
    path.write_text(_markdown(report, images, command), encoding="utf-8")
    return path


def _confidences(file: Path, negative: bool) -> tuple[str, list[float]]:
    data = json.loads(file.read_text(encoding="utf-8"))
    values = [float(q["confidence"]) for q in data["questions"] if bool(q["negative"]) is negative]
    name = (
        str(data["negatives"]["dataset"]) + " on " + str(data["dataset"])
        if negative
        else str(data["dataset"])
    )
    return name, values


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m grokassist.eval_report RUN... --out PNG``: trade-off curves of ``results.json`` files.

    A RUN is ``results.json`` of an ``eval --negatives`` run (positives and
    negatives of that run), or ``POS.json+NEG.json``: the positives of one run
    against the negatives of another (say, a set on its own corpus against its
    questions asked of another corpus).
    """
    import argparse

    from .evaluation import threshold_curve

    parser = argparse.ArgumentParser(prog="python -m grokassist.eval_report", description=main.__doc__)
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=None, help="mark this operating point")
    args = parser.parse_args(argv)
    curves: dict[str, tuple[ThresholdPoint, ...]] = {}
    for run in args.runs:
        pos_file, _, neg_file = run.partition("+")
        pos_name, pos = _confidences(Path(pos_file), negative=False)
        neg_name, neg = _confidences(Path(neg_file or pos_file), negative=True)
        curves[f"{pos_name} (+) vs {neg_name} (-)"] = threshold_curve(pos, neg)
        print(f"{pos_name} vs {neg_name}: {len(pos)} positives, {len(neg)} negatives")
    plot_tradeoff(curves, args.out, operating=args.threshold)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
