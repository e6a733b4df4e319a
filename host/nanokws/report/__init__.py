"""`host report RUN`: one self-contained HTML page about a run (data, training, accuracy on the host and on
the emulated device, distillation, leave-one-engine-out, device budget, the clips the model gets wrong).

Everything the page shows is embedded in it (PNG plots and WAV clips as data: URIs), so it can be mailed or
opened offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nanokws import atomic
from nanokws.progress import NullReporter, Reporter
from nanokws.report.accuracy import SPLIT, accuracy_section, firmware_results, scores_of
from nanokws.report.budget import budget_section
from nanokws.report.clips import MAX_CLIPS, misclassified_section
from nanokws.report.inputs import GENERATED_HEADER, RunArtifacts, load_artifacts
from nanokws.report.page import Headline, Page, byte_size, pct
from nanokws.report.render import render_page
from nanokws.report.sections import data_section, distillation_section, loeo_section, training_section

REPORT_NAME = "index.html"


@dataclass(frozen=True)
class ReportOutcome:
    path: Path
    size_bytes: int
    not_measured: tuple[str, ...]  # titles of the sections that say what is missing


def _headlines(a: RunArtifacts) -> tuple[Headline, ...]:
    test = a.metrics["splits"].get(SPLIT, {})
    fw = firmware_results(a, scores_of(test.get("int8"), a.config.labels))
    sizes = a.metrics.get("sizes") if isinstance(a.metrics.get("sizes"), dict) else {}
    teacher = a.metrics.get("teacher") if isinstance(a.metrics.get("teacher"), dict) else {}
    items = [
        Headline(f"float, {SPLIT}", pct((test.get("float") or {}).get("accuracy"))),
        Headline(f"int8, {SPLIT}", pct((test.get("int8") or {}).get("accuracy"))),
        Headline(f"firmware, {SPLIT}", pct(fw.accuracy) if fw and fw.split == SPLIT else "not run"),
    ]
    if teacher.get("test_accuracy") is not None:
        items.append(Headline(f"teacher, {SPLIT}", pct(teacher["test_accuracy"])))
    if "tflite_bytes" in sizes:
        items.append(Headline("int8 model", byte_size(sizes["tflite_bytes"]).split(" (")[1].rstrip(")")))
    return tuple(items)


def build_page(a: RunArtifacts, reporter: Reporter, max_clips: int = MAX_CLIPS) -> Page:
    sections = (
        data_section(a),
        training_section(a),
        accuracy_section(a),
        distillation_section(a),
        loeo_section(a),
        budget_section(a),
        misclassified_section(a, reporter, max_clips),
    )
    return Page(
        title=f"nanokws report: {a.run.root.resolve().name}",
        run=str(a.run.root),
        model_sha256=a.model_sha256 or "no int8 model",
        headlines=_headlines(a),
        sections=sections,
    )


def write_report(
    run: Path,
    out: Path | None = None,
    *,
    reporter: Reporter | None = None,
    max_clips: int = MAX_CLIPS,
    generated_header: Path = GENERATED_HEADER,
) -> ReportOutcome:
    """Read the run, render its page and write it atomically (default: RUN/report/index.html)."""
    artifacts = load_artifacts(run, generated_header)
    page = build_page(artifacts, reporter or NullReporter(), max_clips)
    html = render_page(page)
    target = out if out is not None else artifacts.run.report / REPORT_NAME
    if target.is_dir():
        target = target / REPORT_NAME
    atomic.write_text(target, html)
    missing = tuple(s.title for s in page.sections if not s.measured)
    return ReportOutcome(target, len(html.encode()), missing)


__all__ = ["MAX_CLIPS", "ReportOutcome", "build_page", "write_report"]
