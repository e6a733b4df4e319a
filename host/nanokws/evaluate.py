"""`host eval`: any int8 `.tflite` (or a run's) on any folder in the Speech Commands layout.

As in the real data set, a folder named after a word outside the model's keywords counts as `_unknown_`;
`_silence_` clips come from a `_silence_` folder, or are cut from `_background_noise_` (as many as 10% of
the other clips, the standard recipe). A folder made by `host data` can be restricted to one split.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanokws.audio import load_clip, to_int16
from nanokws.config import RunConfig
from nanokws.data import augment, folder, ingest
from nanokws.data.manifest import MANIFEST_NAME, SPLITS, check_labels, read_manifest
from nanokws.errors import AudioError, ConfigError, DatasetError
from nanokws.labels import SILENCE
from nanokws.metrics import Scores, score
from nanokws.native import native_frontend
from nanokws.progress import Reporter
from nanokws.tflite.interpreters import TflmInterpreter
from nanokws.tflite.metadata import ModelInfo, model_info, quantize_input

BATCH = 256


@dataclass(frozen=True)
class EvalResult:
    scores: Scores
    skipped: list[tuple[str, str]]
    info: ModelInfo


def resolve_model(model: Path) -> tuple[bytes, Path]:
    """A run directory (its `model_int8.tflite`) or a `.tflite` file."""
    path = model / "model_int8.tflite" if model.is_dir() else model
    if not path.is_file():
        raise ConfigError(
            "no int8 model found", path=path, hint="train one with `host train`, or give a .tflite with --model"
        )
    return path.read_bytes(), path


def load_eval_clips(
    data_dir: Path,
    info: ModelInfo,
    split: str | None,
    skip_bad: bool,
    seed: int,
    speakers: str | None = None,
    voices: str | None = None,
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """The clips of `data_dir` (of one split, of the speakers and of the TTS voices whose ids match the
    regular expressions `speakers` and `voices`, where given; each needs the folder's manifest), their class
    indices and the unreadable files."""
    fe = info.frontend
    run = RunConfig(labels=info.labels, frontend=fe)
    index = {label: i for i, label in enumerate(info.labels)}
    if (data_dir / MANIFEST_NAME).is_file():
        entries = read_manifest(data_dir)
        check_labels(entries, info.labels, data_dir, "the model's")
        if split is not None:
            entries = [e for e in entries if e.split == split]
        if speakers is not None:
            pattern = id_pattern(speakers, "--speakers")
            entries = [e for e in entries if pattern.search(e.speaker)]
        if voices is not None:
            pattern = id_pattern(voices, "--voices")
            entries = [e for e in entries if pattern.search(e.voice)]
        pairs = [(data_dir / e.path, e.label) for e in entries]
        noise_files: list[Path] = []
    else:
        option = next(
            (o for o, v in (("--split", split), ("--speakers", speakers), ("--voices", voices)) if v is not None), None
        )
        if option is not None:
            raise ConfigError(f"{option} needs a folder made by `host data` (with manifest.jsonl)", path=data_dir)
        sources, noise_files = folder.scan(data_dir, run)
        pairs = [(s.path, s.entry.label) for s in sources if s.path is not None]
    audio, labels, bad = [], [], []
    for path, label in pairs:
        if label not in index:  # a folder of another word, and the model has no `_unknown_` to put it in
            raise DatasetError(
                f"clips of class {label!r}, and the model has no such label",
                path=path.parent,
                hint=f"the model's labels are {', '.join(info.labels)}; remove or rename that folder",
            )
        try:
            audio.append(load_clip(path, fe.sample_rate, fe.clip_samples).samples)
            labels.append(index[label])
        except AudioError as e:
            bad.append((str(path), e.what))
    if bad and not skip_bad:
        raise ingest.unreadable_error(bad, data_dir)
    has_silence = any(label == index.get(SILENCE) for label in labels)
    if noise_files and not has_silence and SILENCE in index:
        noises = [ingest.load_noise(str(p), fe, path=p) for p in noise_files]
        rng = np.random.default_rng(seed)
        for _ in range(math.ceil(0.1 * len(labels))):
            audio.append(to_int16(augment.silence_clip(noises, fe.clip_samples, rng)))
            labels.append(index[SILENCE])
    if not audio:
        raise DatasetError("no clips to evaluate", path=data_dir)
    return np.stack(audio), np.array(labels), bad


def id_pattern(expression: str, option: str) -> re.Pattern[str]:
    try:
        return re.compile(expression)
    except re.error as e:
        raise ConfigError(f"{option} {expression!r} is not a regular expression: {e}") from e


def evaluate(
    data_dir: Path,
    model: Path,
    *,
    split: str | None,
    skip_bad: bool,
    seed: int,
    reporter: Reporter,
    speakers: str | None = None,
    voices: str | None = None,
) -> EvalResult:
    if split is not None and split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}", hint=f"choose from {', '.join(SPLITS)}")
    model_bytes, path = resolve_model(model)
    info = model_info(model_bytes, str(path))
    audio, y, bad = load_eval_clips(data_dir, info, split, skip_bad, seed, speakers, voices)
    interp = TflmInterpreter(model_bytes)
    preds = np.zeros(len(y), dtype=np.int64)
    frontend = native_frontend(info.frontend)
    task = reporter.task("evaluating (TFLM, int8)", len(y))
    for lo in range(0, len(y), BATCH):
        q = quantize_input(frontend.features(audio[lo : lo + BATCH]), info)
        preds[lo : lo + len(q)] = np.argmax(interp.run(q), axis=1)
        task.advance(len(q))
    return EvalResult(scores=score(y, preds, info.labels), skipped=bad, info=info)
