"""The report's sections about data and training: the data summary, the training curves, the gain from
distillation and the leave-one-engine-out table. Pure functions of the run's artifacts."""

from __future__ import annotations

from typing import Any

from nanokws.data.manifest import SPLITS, summarise
from nanokws.report.inputs import RunArtifacts
from nanokws.report.page import Figure, Section, Table, pct, points, value
from nanokws.report.plots import curves_png


def _count_rows(counts: dict[str, dict[str, int]]) -> tuple[tuple[str, ...], ...]:
    rows = [(name, *(str(c.get(s, 0)) for s in SPLITS), str(sum(c.values()))) for name, c in counts.items()]
    totals = [sum(c.get(s, 0) for c in counts.values()) for s in SPLITS]
    return (*rows, ("total", *map(str, totals), str(sum(totals))))


def data_section(a: RunArtifacts) -> Section:
    notes = list(a.notes.get("data", []))
    if a.entries is None:
        return Section("data", "Data", False, (*notes, f"No dataset: run `host data synth --run {a.run.root}`."))
    s = summarise(a.entries, a.config.labels)
    info = a.dataset_info or {}
    synth = info.get("synth") if isinstance(info.get("synth"), dict) else {}
    engines = synth.get("engines")
    what = f"{s.total} clips from source {info.get('source', 'unknown')!r}"
    what += f" (engines: {', '.join(engines)})" if isinstance(engines, list) else ""
    notes.insert(0, f"{what}; splits are speaker-disjoint.")
    columns = (*SPLITS, "total")
    tables = (
        Table(("class", *columns), _count_rows(s.clips), "clips per class and split"),
        Table(("source / engine", *columns), _count_rows(dict(sorted(s.engines.items()))), "clips per source"),
        Table(("", *SPLITS), (("speakers (voices)", *(str(s.speakers[sp]) for sp in SPLITS)),)),
    )
    return Section("data", "Data", True, tuple(notes), tables)


def _student_curves(history: list[dict[str, Any]]) -> tuple[Figure | None, Table]:
    rows = [h for h in history if isinstance(h, dict) and "epoch" in h]
    fig = None
    if rows:
        accuracies = {k: [h.get(k) for h in rows] for k in ("accuracy", "val_accuracy") if any(k in h for h in rows)}
        losses = {"loss": [h.get("loss") for h in rows]} if any("loss" in h for h in rows) else {}
        src = curves_png("student", [h["epoch"] for h in rows], accuracies, losses)
        fig = Figure("student: accuracy and loss by epoch", src, "curves")
    val = [(h["val_accuracy"], h["epoch"]) for h in rows if isinstance(h.get("val_accuracy"), int | float)]
    best = max(val) if val else None
    table = Table(
        ("measure", "value"),
        (
            ("epochs run", str(len(rows))),
            ("best validation accuracy", f"{pct(best[0])} (epoch {best[1]})" if best else "-"),
            ("last training accuracy", pct(rows[-1].get("accuracy")) if rows else "-"),
        ),
        "student training",
    )
    return fig, table


def _teacher_curves(history: dict[str, Any], source: str) -> tuple[Figure | None, str]:
    evals = [e for e in history.get("eval", []) if isinstance(e, dict) and "epoch" in e]
    if evals:  # Wav2Vec2 through the Trainer: validation accuracy and loss after each epoch
        src = curves_png(
            f"teacher ({source})",
            [e["epoch"] for e in evals],
            {"val_accuracy": [e.get("accuracy") for e in evals]},
            {"val_loss": [e.get("loss") for e in evals]},
        )
        return Figure(f"teacher ({source}): validation accuracy and loss by epoch", src, "curves"), ""
    losses = history.get("loss")
    if isinstance(losses, list) and losses:  # the Whisper head: its training loss per epoch only
        src = curves_png(f"teacher ({source})", list(range(1, len(losses) + 1)), {}, {"train_loss": losses})
        note = (
            f"The {source} teacher records its training loss per epoch but no per-epoch validation accuracy "
            "(it is measured once, after training: see the table)."
        )
        return Figure(f"teacher ({source}): training loss by epoch", src, "curves"), note
    return None, f"The {source} teacher kept no per-epoch history; only its final figures are shown."


def _teacher_part(a: RunArtifacts, student_cfg: dict[str, Any]) -> tuple[Figure | None, list[str], Table | None]:
    teacher = a.metrics.get("teacher") if isinstance(a.metrics.get("teacher"), dict) else None
    if teacher is None:
        return None, ["No teacher in this run: the student learned from hard labels only (`--no-distill`)."], None
    source, notes, fig = str(teacher.get("source")), [], None
    if student_cfg.get("distill") is False:
        notes.append(f"The student learned from hard labels only; the {source} teacher is from an earlier run.")
    if a.teacher_history is not None:
        fig, note = _teacher_curves(a.teacher_history, source)
        notes += [note] if note else []
    else:
        notes.append(f"The {source} teacher's history file is missing; only its final figures are shown.")
    rows = tuple((k.replace("_", " "), pct(v) if k.endswith("accuracy") else value(v)) for k, v in teacher.items())
    return fig, notes, Table(("measure", "value"), rows, "teacher")


def training_section(a: RunArtifacts) -> Section:
    notes = list(a.notes.get("training", []))
    figures: list[Figure] = []
    tables: list[Table] = []
    student_cfg = a.metrics.get("student") if isinstance(a.metrics.get("student"), dict) else {}
    if a.student_history:
        fig, table = _student_curves(a.student_history)
        figures += [fig] if fig else []
        tables.append(table)
    else:
        notes.append(
            f"No student history (student_history.json) in this run: `host train --run {a.run.root}` makes it."
        )
    fig, teacher_notes, teacher_table = _teacher_part(a, student_cfg)
    figures += [fig] if fig else []
    notes += teacher_notes
    tables += [teacher_table] if teacher_table else []
    if student_cfg:
        keys = ("model", "epochs", "distill", "alpha", "temperature", "views", "learning_rate", "batch_size")
        rows = tuple((k.replace("_", " "), value(student_cfg[k])) for k in keys if k in student_cfg)
        tables.append(Table(("setting", "value"), rows, "student configuration"))
    stages = a.metrics.get("stages")
    if isinstance(stages, dict) and stages:
        rows = []
        for name, t in stages.items():
            t = t if isinstance(t, dict) else {}
            skipped = " (up to date)" if t.get("skipped") else ""
            rows.append((name, value(t.get("seconds")) + skipped, value(t.get("peak_rss_mb"))))
        tables.append(Table(("stage", "wall s", "peak MB (resident)"), tuple(rows), "stages of the last `host train`"))
    return Section("training", "Training", bool(figures), tuple(notes), tuple(tables), tuple(figures))


def _loeo_rows(a: RunArtifacts) -> list[dict[str, Any]]:
    return [r for r in a.loeo or [] if isinstance(r, dict) and "held_out" in r]


def distillation_section(a: RunArtifacts) -> Section:
    notes = []
    student = a.metrics.get("student") if isinstance(a.metrics.get("student"), dict) else {}
    test = a.metrics["splits"].get("test", {})
    teacher = a.metrics.get("teacher") if isinstance(a.metrics.get("teacher"), dict) else {}
    if student:
        how = "distilled from the teacher" if student.get("distill") else "trained on hard labels only"
        knobs = ", ".join(f"{k} {student[k]}" for k in ("alpha", "temperature", "views") if k in student)
        notes.append(f"This run's student was {how} ({knobs}).")
    if teacher.get("test_accuracy") is not None and isinstance(test.get("int8"), dict):
        student_float = pct((test.get("float") or {}).get("accuracy"))
        notes.append(
            f"Test split: teacher {pct(teacher['test_accuracy'])}, student {student_float} float and "
            f"{pct(test['int8'].get('accuracy'))} int8."
        )
    pairs: dict[str, dict[bool, dict[str, Any]]] = {}
    for r in _loeo_rows(a):
        pairs.setdefault(str(r["held_out"]), {})[bool(r.get("distill"))] = r
    rows, gains = [], []
    for engine, by in pairs.items():
        if True in by and False in by:
            d, h = by[True].get("int8_accuracy"), by[False].get("int8_accuracy")
            if isinstance(d, int | float) and isinstance(h, int | float):
                gains.append(d - h)
                rows.append((engine, pct(h), pct(d), points(d - h), pct(by[True].get("teacher_accuracy"))))
    if not rows:
        notes.append(
            "The gain needs the same student trained with and without distillation: "
            f"run `host bench loeo --run {a.run.root}` (leave-one-engine-out, both ways)."
        )
        return Section("distillation", "Gain from distillation", False, tuple(notes))
    mean = sum(gains) / len(gains)
    rows.append(("mean", "", "", points(mean), ""))
    notes.append(
        f"On voices of an engine left out of training, distillation changes int8 accuracy by {points(mean)} on average."
    )
    table = Table(
        ("held-out engine", "hard labels (int8)", "distilled (int8)", "gain", "teacher"),
        tuple(rows),
        "int8 accuracy on the held-out engine's clips (loeo.json)",
    )
    return Section("distillation", "Gain from distillation", True, tuple(notes), (table,))


def _settings_table(a: RunArtifacts) -> tuple[Table, ...]:
    """Every setting measured on this run (`host bench loeo-table`), one row per setting and model."""
    settings = a.loeo_settings or []
    if not settings:
        return ()
    engines = sorted({e for r in settings for e in r.accuracy})
    body = []
    for r in settings:
        body.append((r.setting, r.model, *(pct(r.accuracy.get(e)) for e in engines), pct(r.mean(engines))))
    caption = "every setting measured on this run (host bench loeo-table; mean only over all engines)"
    return (Table(("setting", "model", *engines, "mean"), tuple(body), caption),)


def loeo_section(a: RunArtifacts) -> Section:
    notes = list(a.notes.get("loeo", []))
    rows = _loeo_rows(a)
    settings = _settings_table(a)
    if not rows and not settings:
        notes.append(f"Not run: `host bench loeo --run {a.run.root}` writes loeo.json (about 30 minutes on 2 cores).")
        return Section("loeo", "Leave one engine out", False, tuple(notes))
    notes.append(
        "Each row trains without one TTS engine and tests on every clip of it: voices the model never heard, "
        "the honest figure for synthetic data."
    )
    if not rows:
        return Section("loeo", "Leave one engine out", True, tuple(notes), settings)
    main_rows = []
    for r in rows:
        accuracies = (pct(r.get(k)) for k in ("float_accuracy", "int8_accuracy", "teacher_accuracy"))
        main_rows.append((str(r["held_out"]), value(bool(r.get("distill"))), value(r.get("test_clips")), *accuracies))
    main = Table(
        ("held out", "distilled", "test clips", "float", "int8", "teacher"),
        tuple(main_rows),
        "accuracy on the held-out engine",
    )
    if not any(isinstance(r.get("per_class"), dict) for r in rows):
        return Section("loeo", "Leave one engine out", True, tuple(notes), (*settings, main))
    classes = a.config.labels
    class_rows = []
    for r in rows:
        per = r["per_class"] if isinstance(r.get("per_class"), dict) else {}
        name = f"{r['held_out']} ({'distilled' if r.get('distill') else 'hard'})"
        class_rows.append((name, *(pct(per.get(c)) for c in classes)))
    per_class = Table(("held out", *classes), tuple(class_rows), "int8 accuracy per class on the held-out engine")
    return Section("loeo", "Leave one engine out", True, tuple(notes), (*settings, main, per_class))
