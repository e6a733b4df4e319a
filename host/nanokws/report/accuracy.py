"""The accuracy section: float (Keras), int8 (TFLM) and firmware (the emulator, `host hil`) side by side, as
confusion matrices and per-class accuracy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nanokws.metrics import Scores
from nanokws.report.inputs import RunArtifacts
from nanokws.report.page import Figure, Section, Table, pct, value
from nanokws.report.plots import confusion_png

SPLIT = "test"  # the split the per-class figures, the matrices and `make demo`'s HIL run are about


@dataclass(frozen=True)
class Firmware:
    split: str
    accuracy: float | None
    scores: Scores | None  # None when hil.json holds no confusion matrix that can be trusted
    notes: tuple[str, ...]


def scores_of(d: Any, labels: tuple[str, ...]) -> Scores | None:
    """metrics.json's {"labels", "confusion"} as Scores, if they are there and about these labels."""
    if not isinstance(d, dict) or tuple(d.get("labels") or labels) != labels:
        return None
    try:
        confusion = np.asarray(d["confusion"], dtype=np.int64)
    except (KeyError, TypeError, ValueError):
        return None
    return Scores(labels, confusion) if confusion.shape == (len(labels), len(labels)) else None


def hil_command(a: RunArtifacts) -> str:
    root = a.run.root
    return f"`host export --model {root}` then `host hil --data {root}/data --split test --json {root}/hil.json`"


def _agrees_on_every_clip(hil: dict[str, Any], int8: Scores) -> bool:
    return hil.get("agreement") == 1.0 and hil.get("n") == int8.n


def firmware_results(a: RunArtifacts, int8: Scores | None) -> Firmware | None:
    hil = a.hil
    if hil is None:
        return None
    notes = []
    # hil.json before it recorded its inputs: `make demo`'s run on the test split, if the clip count says so
    split = hil["split"] if "split" in hil else SPLIT if int8 is not None and hil.get("n") == int8.n else None
    if split is None:
        notes.append(f"hil.json was not measured on a split of this run ({hil.get('data', 'another folder')}).")
        return Firmware("", None, None, tuple(notes))
    sha = hil.get("model_sha256")
    if sha is not None and sha != a.model_sha256:
        notes.append(f"hil.json was measured on another model than this run's: re-run {hil_command(a)}.")
        return Firmware(split, None, None, tuple(notes))
    accuracy = hil.get("accuracy") if isinstance(hil.get("accuracy"), int | float) else None
    scores = scores_of(hil, a.config.labels) if hil.get("confusion") else None
    if scores is None and split == SPLIT and int8 is not None and _agrees_on_every_clip(hil, int8):
        scores = int8
        notes.append(
            f"hil.json records no confusion matrix, but the firmware chose the host int8 model's class on all "
            f"{int8.n} {SPLIT} clips, so its per-class figures are int8's."
        )
    elif scores is None:
        notes.append("hil.json records no confusion matrix: the firmware's per-class accuracy is not shown.")
    return Firmware(split, accuracy, scores, tuple(notes))


def _hil_table(hil: dict[str, Any]) -> Table:
    keys = ("n", "accuracy", "host_accuracy", "agreement", "bit_exact", "emulator_seconds")
    rows = []
    for k in keys:
        if k in hil:
            shown = pct(hil[k]) if k in ("accuracy", "host_accuracy", "agreement", "bit_exact") else value(hil[k])
            rows.append((k.replace("_", " "), shown))
    return Table(("measure", "value"), tuple(rows), "hardware in the loop (hil.json, emulated Cortex-M4)")


def accuracy_section(a: RunArtifacts) -> Section:
    labels = a.config.labels
    splits = a.metrics["splits"]
    notes = list(a.notes.get("accuracy", []))
    test = splits.get(SPLIT, {})
    s_float, s_int8 = scores_of(test.get("float"), labels), scores_of(test.get("int8"), labels)
    fw = firmware_results(a, s_int8)
    if fw is None:
        notes.append(f"Firmware: not run. {hil_command(a)} measures it on the emulated board.")
    else:
        notes += fw.notes
    summary = []
    for split, m in splits.items():
        if not isinstance(m, dict):
            continue
        firmware = pct(fw.accuracy) if fw is not None and fw.split == split else "not run"
        summary.append(
            (split, value(m.get("clips")), pct((m.get("float") or {}).get("accuracy")),
             pct((m.get("int8") or {}).get("accuracy")), firmware)
        )  # fmt: skip
    tables = [Table(("split", "clips", "float", "int8", "firmware"), tuple(summary), "accuracy")]
    fw_scores = fw.scores if fw is not None and fw.split == SPLIT else None
    if s_int8 is not None:
        totals = s_int8.confusion.sum(axis=1)
        per_float = s_float.per_class if s_float else {}
        per_fw = fw_scores.per_class if fw_scores else {}
        missing_fw = "not run" if fw is None else "-"
        rows = tuple(
            (label, str(int(totals[i])), pct(per_float.get(label)), pct(s_int8.per_class[label]),
             pct(per_fw[label]) if fw_scores else missing_fw)
            for i, label in enumerate(labels)
        )  # fmt: skip
        caption = f"per-class accuracy, {SPLIT} split"
        tables.append(Table(("class", "clips", "float", "int8", "firmware"), rows, caption))
    else:
        notes.append(f"metrics.json has no {SPLIT}-split confusion matrix (an empty {SPLIT} split?).")
    if a.hil is not None:
        tables.append(_hil_table(a.hil))
    figures = []
    for name, s in (("float (Keras)", s_float), ("int8 (TFLM)", s_int8), ("firmware (emulator)", fw_scores)):
        if s is not None:
            figures.append(Figure(f"{name}, {SPLIT} split", confusion_png(s, f"{name}, {SPLIT}"), "confusion"))
    if fw_scores is None:
        notes.append(f"Firmware confusion matrix: {'not run' if fw is None else 'not recorded'}.")
    title = "Accuracy: float, int8 and firmware"
    return Section("accuracy", title, bool(figures), tuple(notes), tuple(tables), tuple(figures))
