"""`host spot`: find keywords in long recordings with the streaming detector and the int8 model, and write
an index of where they occur. Files are decoded block by block (a 2-hour file never sits in memory whole)
and run in parallel, one file per process; each file's detections are exactly those of the firmware's loop
(stream.py, the twin `host hil --stream` is checked against)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from nanokws.audio import iter_stream
from nanokws.errors import AudioError, ConfigError
from nanokws.progress import Reporter
from nanokws.stream import StreamDetector
from nanokws.tflite.metadata import model_info

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au")


@dataclass(frozen=True)
class Occurrence:
    file: str
    label: str
    start: float  # seconds: the detection time minus one clip length
    end: float  # seconds: when the detector reported it
    score: float  # 0..1, the averaged score


@dataclass(frozen=True)
class FileResult:
    file: str
    occurrences: tuple[Occurrence, ...]
    audio_seconds: float
    error: str | None = None


def find_audio(paths: list[Path]) -> list[Path]:
    """Files as given, and audio files under folders (sorted); a missing path is an error."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
        elif p.is_file():
            found.append(p)
        else:
            raise ConfigError("no such file or folder", path=p)
    return found


def spot_file(path: Path, model: bytes) -> FileResult:
    """Every detection in one recording (in a worker process)."""
    info = model_info(model)
    fe = info.frontend
    detector = StreamDetector(model, info)
    clip_s = fe.clip_ms / 1000.0
    found: list[Occurrence] = []
    samples = 0
    try:
        for block in iter_stream(path, fe.sample_rate):
            samples += block.size
            for d in detector.feed(block).detections:
                end = d.time_ms / 1000.0
                found.append(
                    Occurrence(str(path), d.label, round(max(0.0, end - clip_s), 3), end, round(d.score / 255, 4))
                )
    except AudioError as e:
        return FileResult(str(path), tuple(found), samples / fe.sample_rate, error=e.message)
    return FileResult(str(path), tuple(found), samples / fe.sample_rate)


def spot(files: list[Path], model: bytes, *, jobs: int, reporter: Reporter) -> Iterator[FileResult]:
    """Results as files finish (in completion order)."""
    task = reporter.task("spotting keywords", len(files))
    if jobs <= 1 or len(files) <= 1:
        for f in files:
            yield spot_file(f, model)
            task.advance()
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(spot_file, f, model) for f in files]
        for future in as_completed(futures):
            yield future.result()
            task.advance()


def index_lines(occurrences: list[Occurrence], *, as_csv: bool) -> str:
    if not as_csv:
        return "".join(json.dumps(asdict(o)) + "\n" for o in occurrences)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(Occurrence.__dataclass_fields__), lineterminator="\n")
    writer.writeheader()
    for o in occurrences:
        writer.writerow(asdict(o))
    return buf.getvalue()


def timed_spot(files: list[Path], model: bytes, *, jobs: int, reporter: Reporter) -> tuple[list[FileResult], float]:
    start = time.perf_counter()
    results = sorted(spot(files, model, jobs=jobs, reporter=reporter), key=lambda r: r.file)
    return results, time.perf_counter() - start
