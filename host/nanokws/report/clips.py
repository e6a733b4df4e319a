"""The misclassified test clips, to listen to: the int8 model's predictions on the test split, recomputed as
the eval stage computes them (the run's cached features, or the C front end on the audio, then TFLM), and
each wrong clip's audio as an embedded WAV."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from nanokws.audio import load_clip
from nanokws.config import FrontendConfig
from nanokws.data.manifest import Entry
from nanokws.errors import AudioError, DatasetError
from nanokws.native import native_frontend
from nanokws.progress import Reporter
from nanokws.report.accuracy import SPLIT, scores_of
from nanokws.report.inputs import RunArtifacts
from nanokws.report.page import ClipView, Section
from nanokws.stages.features import cache_key, load_clips
from nanokws.tflite.interpreters import TflmInterpreter
from nanokws.tflite.metadata import dequantize_output, model_info, quantize_input

MAX_CLIPS = 40
BATCH = 256


@dataclass(frozen=True)
class Predictions:
    labels: tuple[str, ...]  # the model's
    entries: list[Entry]  # the clips evaluated, in manifest order
    y: np.ndarray  # true class index
    predicted: np.ndarray  # int8 model's class index
    scores: np.ndarray  # [clips, classes] the dequantized softmax
    unreadable: list[tuple[str, str]]  # (path, why) of test clips that could not be evaluated


def _features(a: RunArtifacts, rows: list[int]) -> tuple[np.ndarray, list[int], list[tuple[str, str]]]:
    """Features of the manifest's `rows`: from features.npz when it is current, else from the audio."""
    assert a.entries is not None
    fe = a.config.frontend
    if a.run.features.is_file():
        with np.load(a.run.features) as cached:
            if str(cached["key"]) == cache_key(a.entries, fe):
                return cached["features"][rows], rows, []
    frontend = native_frontend(fe)
    feats, kept, bad = [], [], []
    for i in rows:
        try:
            feats.append(frontend.features(load_clips(a.run.data, [a.entries[i]], fe))[0])
            kept.append(i)
        except (DatasetError, sf.LibsndfileError, RuntimeError, OSError) as e:
            bad.append((a.entries[i].path, str(e).splitlines()[0]))
    empty = np.zeros((0, fe.n_frames, fe.n_mfcc), dtype=np.float32)
    return (np.stack(feats) if feats else empty), kept, bad


def predict_test(a: RunArtifacts, model: bytes, reporter: Reporter) -> Predictions:
    assert a.entries is not None
    info = model_info(model, str(a.run.root / "model_int8.tflite"))
    index = {label: i for i, label in enumerate(info.labels)}
    rows = [i for i, e in enumerate(a.entries) if e.split == SPLIT and e.label in index]
    x, kept, bad = _features(a, rows)
    interp = TflmInterpreter(model)
    outputs = np.zeros((len(kept), len(info.labels)), dtype=np.int8)
    task = reporter.task(f"int8 predictions on the {SPLIT} split (TFLM)", len(kept))
    for lo in range(0, len(kept), BATCH):
        q = quantize_input(x[lo : lo + BATCH], info)
        outputs[lo : lo + len(q)] = interp.run(q)
        task.advance(len(q))
    entries = [a.entries[i] for i in kept]
    return Predictions(
        labels=info.labels,
        entries=entries,
        y=np.array([index[e.label] for e in entries], dtype=np.int64),
        predicted=outputs.argmax(axis=1) if len(kept) else np.zeros(0, dtype=np.int64),
        scores=dequantize_output(outputs, info),
        unreadable=bad,
    )


def wav_uri(samples: np.ndarray, sample_rate: int) -> str:
    buf = io.BytesIO()
    sf.write(buf, samples, sample_rate, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _clip_view(a: RunArtifacts, p: Predictions, i: int, fe: FrontendConfig) -> ClipView:
    e = p.entries[i]
    src, problem = None, ""
    try:
        src = wav_uri(load_clip(a.run.data / e.path, fe.sample_rate, fe.clip_samples).samples, fe.sample_rate)
    except (AudioError, OSError) as err:
        problem = f"audio unreadable: {err.what if isinstance(err, AudioError) else err}"
    return ClipView(
        path=e.path,
        true_label=e.label,
        predicted=p.labels[p.predicted[i]],
        score=float(p.scores[i, p.predicted[i]]),
        true_score=float(p.scores[i, p.y[i]]),
        source=": ".join(part for part in (e.engine or e.source, e.voice or e.speaker) if part),
        src=src,
        problem=problem,
    )


def misclassified_section(a: RunArtifacts, reporter: Reporter, max_clips: int = MAX_CLIPS) -> Section:
    title = "Misclassified test clips"
    root = a.run.root
    if a.model is None:
        return Section("misclassified", title, False, (f"No int8 model: run `host train --run {root}`.",))
    if a.entries is None:
        return Section("misclassified", title, False, ("The dataset manifest could not be read (see Data).",))
    p = predict_test(a, a.model, reporter)
    notes = []
    if p.unreadable:
        listed = "; ".join(f"{path} ({why})" for path, why in p.unreadable[:5])
        notes.append(f"{len(p.unreadable)} {SPLIT} clip(s) could not be read and were not evaluated: {listed}.")
    if not p.entries:
        return Section("misclassified", title, False, (*notes, f"No {SPLIT} clips to evaluate."))
    labels = p.labels
    wrong = np.flatnonzero(p.predicted != p.y)
    stored = scores_of(a.metrics["splits"].get(SPLIT, {}).get("int8"), labels)
    if not p.unreadable and stored is not None:
        k = len(labels)
        now = np.bincount(p.y * k + p.predicted, minlength=k * k).reshape(k, k)
        if not np.array_equal(now, stored.confusion):
            notes.append(
                "These predictions differ from those in metrics.json: the model or the data changed since "
                f"`host train` evaluated it (run `host train --run {root}` again)."
            )
    if not len(wrong):
        notes.insert(0, f"The int8 model (TFLM) gets all {len(p.entries)} {SPLIT} clips right: nothing to listen to.")
        return Section("misclassified", title, True, tuple(notes))
    order = wrong[np.argsort(-p.scores[wrong, p.predicted[wrong]], kind="stable")]
    shown = [_clip_view(a, p, int(i), a.config.frontend) for i in order[:max_clips]]
    omitted = len(order) - len(shown)
    notes.insert(
        0,
        f"The int8 model (TFLM) gets {len(wrong)} of {len(p.entries)} {SPLIT} clips wrong. "
        + (f"The {len(shown)} most confident mistakes are listed; {omitted} more are omitted." if omitted else
           "All of them are listed, the most confident mistakes first."),
    )  # fmt: skip
    bad_audio = [c for c in shown if c.src is None]
    if bad_audio:
        notes.append(f"{len(bad_audio)} clip(s) could not be played: {'; '.join(c.path for c in bad_audio)}.")
    return Section("misclassified", title, True, tuple(notes), clips=tuple(shown))
