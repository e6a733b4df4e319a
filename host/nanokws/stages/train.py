"""`host train`: features -> teacher -> soft labels -> distilled student -> int8 -> verified evaluation.

Each stage writes its artifact atomically into the run directory with a record of the inputs it was made
from (`<artifact>.inputs.json`); a stage whose inputs have not changed says so and skips.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nanokws import atomic, peak_memory
from nanokws.config import RunConfig
from nanokws.digest import file_sha256
from nanokws.errors import ConfigError, NanokwsError
from nanokws.progress import Reporter
from nanokws.rundir import RunDir
from nanokws.stages.features import FeaturesOutcome, compute_features
from nanokws.student.config import StudentConfig
from nanokws.student.config import settings as student_settings
from nanokws.threads import pinned_threads

STAGES: tuple[str, ...] = ("teacher", "student", "quantize", "eval")
REPRESENTATIVE_CLIPS = 500


class VerificationError(NanokwsError):
    """The reference interpreters disagree on the int8 model."""


def default_teacher() -> Any:
    """The offline default teacher: the one that measures best on held-out engines, Whisper tiny.en's
    frozen encoder with a trained head (the scratch Wav2Vec2 trained on synthetic speech alone is weaker
    than the student on unseen voices)."""
    from nanokws.teacher.config import TeacherConfig
    from nanokws.teacher.whisper import WHISPER

    return TeacherConfig(source=WHISPER)


@dataclass(frozen=True)
class TrainOptions:
    stage: str | None = None  # None: every stage
    student: StudentConfig = field(default_factory=StudentConfig)
    teacher: Any = None  # TeacherConfig; None: the default, default_teacher()
    resume: bool = False
    force: bool = False


@dataclass
class StageTiming:
    seconds: float
    peak_rss_mb: float  # the process's peak resident memory during the stage (native memory included)
    skipped: bool


@dataclass
class TrainOutcome:
    timings: dict[str, StageTiming] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _up_to_date(artifact: Path, key: str) -> bool:
    record = artifact.with_name(artifact.name + ".inputs.json")
    try:
        return artifact.exists() and json.loads(record.read_text())["key"] == key
    except (OSError, json.JSONDecodeError, KeyError):
        return False


def _record(artifact: Path, key: str) -> None:
    atomic.write_json(artifact.with_name(artifact.name + ".inputs.json"), {"key": key})


def _split(feats: FeaturesOutcome, labels: tuple[str, ...], split: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    index = {label: i for i, label in enumerate(labels)}
    rows = [i for i, e in enumerate(feats.entries) if e.split == split]
    return feats.features[rows], np.array([index[feats.entries[i].label] for i in rows]), rows


class StageInterrupted(KeyboardInterrupt):
    """Ctrl-C during a stage: says which, so that the user knows where `--resume` picks up."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


def _timed(name: str, outcome: TrainOutcome, fn: Callable[[], bool]) -> None:
    was_reset = peak_memory.reset()
    start = time.perf_counter()
    try:
        skipped = fn()
    except StageInterrupted:
        raise
    except KeyboardInterrupt as e:
        raise StageInterrupted(name) from e
    seconds = round(time.perf_counter() - start, 2)
    outcome.timings[name] = StageTiming(seconds, peak_memory.peak_mb(was_reset), skipped)


def train(run: RunDir, config: RunConfig, opts: TrainOptions, reporter: Reporter) -> TrainOutcome:
    if opts.stage is not None and opts.stage not in STAGES:
        raise ConfigError(f"unknown stage {opts.stage!r}", hint=f"choose from {', '.join(STAGES)}")
    outcome = TrainOutcome()
    wanted = STAGES if opts.stage is None else (opts.stage,)
    feats = compute_features(run, config, force=False, reporter=reporter)

    teacher: Any = None
    teacher_logits: np.ndarray | None = None
    if opts.stage == "teacher" or ("student" in wanted and opts.student.distill):
        holder: dict[str, Any] = {}

        def do_teacher() -> bool:
            holder["teacher"], holder["logits"] = _teacher_stage(run, config, opts, feats, reporter)
            return False

        _timed("teacher", outcome, do_teacher)
        teacher, teacher_logits = holder.get("teacher"), holder.get("logits")

    if "student" in wanted:
        _timed("student", outcome, lambda: _student_stage(run, config, opts, feats, teacher, teacher_logits, reporter))
    if "quantize" in wanted:
        _timed("quantize", outcome, lambda: _quantize_stage(run, config, feats, opts.force))
    if "eval" in wanted:

        def do_eval() -> bool:
            outcome.metrics = _eval_stage(run, config, feats, opts, outcome)
            return False

        _timed("eval", outcome, do_eval)
    return outcome


def _teacher_stage(
    run: RunDir, config: RunConfig, opts: TrainOptions, feats: FeaturesOutcome, reporter: Reporter
) -> tuple[Any, np.ndarray]:
    from nanokws.soft_labels import soft_labels
    from nanokws.teacher.ensemble import is_ensemble, train_ensemble
    from nanokws.teacher.whisper import is_whisper, train_whisper_teacher
    from nanokws.teacher.whisper_ft import is_whisper_ft, train_whisper_ft_teacher

    cfg = opts.teacher or default_teacher()

    def train_one(member: Any) -> Any:
        if is_whisper_ft(member.source):
            return train_whisper_ft_teacher(
                run.root, config.labels, feats.entries, run.data, member, resume=opts.resume, force=opts.force,
                reporter=reporter,
            )  # fmt: skip
        if is_whisper(member.source):
            return train_whisper_teacher(
                run.root, config.labels, feats.entries, run.data, member, force=opts.force, reporter=reporter
            )
        from nanokws.teacher.wav2vec2 import train_teacher

        return train_teacher(
            run.root, config.labels, feats.entries, run.data, member, resume=opts.resume, force=opts.force,
            reporter=reporter,
        )  # fmt: skip

    result: Any
    if is_ensemble(cfg.source):
        result = train_ensemble(
            run.root, config.labels, feats.entries, run.data, cfg, train_one, reporter=reporter
        )  # fmt: skip
    else:
        result = train_one(cfg)
    for note in result.notes:
        reporter.log(f"  teacher: {note}")
    train_entries = [e for e in feats.entries if e.split == "train"]
    return result.teacher, soft_labels(run.root, result.teacher, train_entries, run.data, reporter)


def _student_stage(
    run: RunDir,
    config: RunConfig,
    opts: TrainOptions,
    feats: FeaturesOutcome,
    teacher: Any,
    teacher_logits: np.ndarray | None,
    reporter: Reporter,
) -> bool:
    from nanokws.native import native_frontend
    from nanokws.student.augment import feature_warp
    from nanokws.student.train import StudentData, train_student
    from nanokws.student.views import compute_views, views_key

    cfg = opts.student
    artifact = run.root / "student.keras"
    teacher_key = _digest(teacher_logits.tobytes()) if teacher_logits is not None else None
    view_teacher = teacher if cfg.distill else None
    view_key = views_key(cfg, config.seed, config.frontend, view_teacher) if cfg.views else None
    key = _digest(student_settings(cfg), config.seed, feats.key, teacher_key, view_key)
    if not opts.force and _up_to_date(artifact, key):
        reporter.log(f"student is up to date ({artifact})")
        return True
    x_views = teacher_views = hints_train = hints_views = segments_train = segments_views = None
    if cfg.views:
        train_entries = [e for e in feats.entries if e.split == "train"]
        views = compute_views(
            run.root, train_entries, run.data, cfg, seed=config.seed, frontend=config.frontend,
            teacher=view_teacher, reporter=reporter,
        )  # fmt: skip
        x_views, teacher_views = views.features, views.logits
        hints_train, hints_views = _hint_targets(views.clip_hints, views.hints, cfg.hint_components)
        segments_train, segments_views = _hint_targets(views.clip_segments, views.segments, cfg.segment_hint_components)
    x_train, y_train, _ = _split(feats, config.labels, "train")
    x_val, y_val, _ = _split(feats, config.labels, "validation")
    if len(x_val) == 0:
        raise ConfigError("the validation split is empty", path=run.data, hint="add speakers to the data")
    silence = native_frontend(config.frontend).features(np.zeros(config.frontend.clip_samples, dtype=np.int16))[0]
    warp = feature_warp(config.frontend, cfg.warp_bands) if cfg.warp_probability > 0 else None
    data = StudentData(
        x_train, y_train, teacher_logits, x_val, y_val, silence, x_views, teacher_views, warp, hints_train, hints_views,
        segments_train, segments_views,
    )  # fmt: skip
    result = train_student(
        data, len(config.labels), cfg, run.root / "student_checkpoints", seed=config.seed,
        resume=opts.resume, reporter=reporter,
    )  # fmt: skip
    atomic.write_json(run.root / "student_history.json", result.history)
    _record(artifact, key)
    return False


def _hint_targets(
    clips: np.ndarray | None, views: np.ndarray | None, components: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Teacher states [..., dims] of the clips and their views as whitened principal components [..., components],
    the projection fitted on the clips' states (every time segment a sample); (None, None) without states."""
    from nanokws.student.hints import fit_projection

    if clips is None or views is None:
        return None, None
    projection = fit_projection(clips.reshape(-1, clips.shape[-1]), components)
    return projection.apply(clips), projection.apply(views)


def _representative(feats: FeaturesOutcome, config: RunConfig) -> np.ndarray:
    x_train, _, _ = _split(feats, config.labels, "train")
    order = np.random.default_rng(config.seed).permutation(len(x_train))[:REPRESENTATIVE_CLIPS]
    return x_train[np.sort(order)]


def _quantize_stage(run: RunDir, config: RunConfig, feats: FeaturesOutcome, force: bool) -> bool:
    import keras

    from nanokws.tflite.convert import to_int8_tflite

    student = run.root / "student.keras"
    if not student.is_file():
        raise ConfigError("no student model to quantize", path=student, hint="run `host train --stage student`")
    artifact = run.root / "model_int8.tflite"
    key = _digest(file_sha256(student), feats.key, REPRESENTATIVE_CLIPS)
    if not force and _up_to_date(artifact, key):
        return True
    model = keras.models.load_model(student, compile=False)
    tflite = to_int8_tflite(model, _representative(feats, config), {"run": config.to_dict()})
    atomic.write_bytes(artifact, tflite)
    _record(artifact, key)
    return False


def _eval_stage(
    run: RunDir, config: RunConfig, feats: FeaturesOutcome, opts: TrainOptions, outcome: TrainOutcome
) -> dict[str, Any]:
    import keras

    from nanokws.metrics import plot_confusion, plot_curves, score
    from nanokws.tflite.interpreters import LiteRtInterpreter, TflmInterpreter
    from nanokws.tflite.metadata import model_info, quantize_input

    model_bytes = (run.root / "model_int8.tflite").read_bytes()
    info = model_info(model_bytes, str(run.root / "model_int8.tflite"))
    student = keras.models.load_model(run.root / "student.keras", compile=False)
    metrics: dict[str, Any] = {"splits": {}}
    report = run.report
    report.mkdir(exist_ok=True)
    for split in ("validation", "test"):
        x, y, _ = _split(feats, config.labels, split)
        if len(x) == 0:
            continue
        float_pred = np.argmax(student.predict(x[..., None], batch_size=256, verbose=0), axis=1)
        q = quantize_input(x, info)
        tflm = TflmInterpreter(model_bytes).run(q)
        litert = LiteRtInterpreter(model_bytes).run(q)
        mismatched = int(np.sum(np.any(tflm != litert, axis=1)))
        if mismatched:
            raise VerificationError(
                f"TFLM and LiteRT (reference kernels) disagree on {mismatched} of {len(x)} {split} clips",
                path=run.root / "model_int8.tflite",
                hint="the model uses an op whose reference kernels round differently (see DESIGN.md §3)",
            )
        s_float = score(y, float_pred, config.labels)
        s_int8 = score(y, np.argmax(tflm, axis=1), config.labels)
        metrics["splits"][split] = {
            "float": s_float.to_dict(),
            "int8": s_int8.to_dict(),
            "interpreters_bit_exact": True,
            "clips": len(x),
        }
        if split == "test":
            plot_confusion(s_float, "float, test split", report / "confusion_float.png")
            plot_confusion(s_int8, "int8 (TFLM), test split", report / "confusion_int8.png")
    histories = {}
    if (run.root / "student_history.json").is_file():
        histories["student"] = json.loads((run.root / "student_history.json").read_text())
    from nanokws.teacher.ensemble import teacher_history_path

    teacher_history = teacher_history_path(run.root, (opts.teacher or default_teacher()).source)
    if teacher_history.is_file():
        h = json.loads(teacher_history.read_text())
        curve = [{"epoch": e["epoch"], "val_accuracy": e["accuracy"], "loss": e["loss"]} for e in h.get("eval", [])]
        if curve:  # a Whisper head has no per-epoch validation
            histories["teacher"] = curve
        metrics["teacher"] = {
            k: h.get(k) for k in ("validation_accuracy", "test_accuracy", "parameters", "train_seconds", "source")
        }
    if histories:
        plot_curves(histories, report / "curves.png")
    metrics["sizes"] = {
        "tflite_bytes": len(model_bytes),
        "student_parameters": int(student.count_params()),
    }
    metrics["student"] = asdict(opts.student)
    metrics["tensorflow_threads"] = pinned_threads()  # the student's bits depend on it (nanokws.threads)
    metrics["stages"] = {k: asdict(v) for k, v in outcome.timings.items()}
    atomic.write_json(run.root / "metrics.json", metrics)
    return metrics
