"""`host data synth`: keyword clips from the offline TTS engines, augmented, in the Speech Commands layout.

Three steps: plan every clip (label, voice, speaking rate; a pure function of the config and seed), render
the distinct TTS utterances in parallel, then augment each clip in parallel with its own random generator
seeded by (seed, clip index), so the result does not depend on the number of workers.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from nanokws import atomic
from nanokws.audio import resample, to_int16, write_wav
from nanokws.config import RunConfig, SynthConfig, dataclass_to_json
from nanokws.data import augment, kokoro, noise
from nanokws.data.manifest import Entry, write_manifest
from nanokws.data.splits import split_of
from nanokws.data.tts import KOKORO, Render, Voice, check_accents, check_engines, render_batch, voices
from nanokws.labels import BACKGROUND_NOISE_DIR, SILENCE, UNKNOWN
from nanokws.progress import NullReporter, Reporter

STRETCHES: tuple[float, ...] = (0.85, 1.0, 1.15)
RENDER_CHUNK = 40
AUGMENT_CHUNK = 64
DATASET_INFO = "dataset.json"


@dataclass(frozen=True)
class ClipPlan:
    index: int
    label: str
    word: str
    split: str
    path: str
    speaker: str
    render: Render | None  # None: a `_silence_` clip cut from background noise


@dataclass(frozen=True)
class SynthResult:
    entries: list[Entry]
    seconds: float
    renders: int

    @property
    def clips_per_second(self) -> float:
        return len(self.entries) / self.seconds if self.seconds > 0 else float("inf")


def plan_clips(synth: SynthConfig, run: RunConfig) -> list[ClipPlan]:
    """Decide every clip before any audio exists: engines take turns, voices and rates are drawn."""
    rng = np.random.default_rng(run.seed)
    pools = {e: voices(e, e in synth.accented_engines, synth.kokoro_english) for e in synth.engines}
    requests: list[tuple[str, str]] = []  # (label, word)
    for kw in synth.keywords:
        requests += [(kw, kw)] * synth.clips_per_keyword
    requests += [(UNKNOWN, synth.filler_words[k % len(synth.filler_words)]) for k in range(synth.unknown_clips)]
    requests += [(SILENCE, SILENCE)] * synth.silence_clips

    plans: list[ClipPlan] = []
    counters: dict[tuple[str, str], int] = defaultdict(int)
    for index, (label, word) in enumerate(requests):
        if label == SILENCE:
            render = None
            speaker = f"noise-{index}"
        else:
            engine = synth.engines[index % len(synth.engines)]
            voice: Voice = pools[engine][int(rng.integers(len(pools[engine])))]
            if engine in ("espeak-ng", KOKORO):
                stretch = round(float(rng.uniform(0.8, 1.25)), 2)
            else:
                stretch = STRETCHES[int(rng.integers(len(STRETCHES)))]
            render = Render(voice, word, stretch)
            speaker = voice.speaker
        speaker_hash = hashlib.sha1(speaker.encode()).hexdigest()[:8]
        n = counters[(word, speaker_hash)]
        counters[(word, speaker_hash)] += 1
        plans.append(
            ClipPlan(
                index=index,
                label=label,
                word=word,
                split=split_of(speaker, run.split),
                path=f"{word}/{speaker_hash}_nohash_{n}.wav",
                speaker=speaker,
                render=render,
            )
        )
    return plans


def _render_task(renders: list[Render], rate: int) -> list[np.ndarray]:
    out = []
    for x, engine_rate in render_batch(renders):
        out.append(augment.trim_silence(resample(x, engine_rate, rate), rate))
    return out


def _augment_task(
    plans: list[ClipPlan],
    audio: list[np.ndarray | None],
    noises: list[np.ndarray],
    synth: SynthConfig,
    seed: int,
    rate: int,
    n_samples: int,
    out_dir: str,
) -> None:
    for plan, x in zip(plans, audio, strict=True):
        rng = np.random.default_rng([seed, plan.index])
        clip = (
            augment.silence_clip(noises, n_samples, rng)
            if x is None
            else _speech_clip(x, noises, synth, rng, rate, n_samples)
        )
        write_wav(Path(out_dir) / plan.path, to_int16(clip), rate)


def _speech_clip(
    x: np.ndarray, noises: list[np.ndarray], synth: SynthConfig, rng: np.random.Generator, rate: int, n: int
) -> np.ndarray:
    x = augment.change_speed(x, float(rng.uniform(*synth.speed_range)))
    x = augment.shift_pitch(x, rate, float(rng.uniform(-synth.pitch_semitones, synth.pitch_semitones)))
    if rng.random() < synth.reverb_probability:
        x = augment.reverberate(x, rate, rng, rt60_s=(0.15, 0.7))
    x = augment.set_peak(x, float(rng.uniform(*synth.gain_db)))
    x = augment.place(x, n, rng)
    if rng.random() < synth.noise_probability:
        bg = augment.random_segment(noises[int(rng.integers(len(noises)))], n, rng)
        x = augment.mix_at_snr(x, bg, float(rng.uniform(*synth.snr_db)))
    return augment.soft_limit(x)


def _background_noise(
    synth: SynthConfig, seed: int, rate: int, babble_words: list[np.ndarray]
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 10**9])
    n = synth.noise_seconds * rate
    files = {f"{name}_noise": noise.coloured_noise(n, exp, rng) for name, exp in noise.COLOURS.items()}
    if babble_words:
        files["babble"] = noise.babble(babble_words, n, talkers=6, rng=rng)
    return {name: noise.to_file_level(x) for name, x in files.items()}


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _render_all(
    renders: list[Render], rate: int, pool: ProcessPoolExecutor, advance: Callable[[int], None]
) -> dict[Render, np.ndarray]:
    # festival renders go one voice per task (one process start each), Kokoro's in large chunks (one model
    # load each), the others in small chunks
    groups: list[list[Render]] = []
    by_festival_voice: dict[Voice, list[Render]] = defaultdict(list)
    neural, others = [], []
    for r in renders:
        if r.voice.engine == "festival":
            by_festival_voice[r.voice].append(r)
        else:
            (neural if r.voice.engine == KOKORO else others).append(r)
    for rs in by_festival_voice.values():
        groups += _chunks(rs, 4 * RENDER_CHUNK)
    groups += _chunks(neural, 2 * RENDER_CHUNK)
    groups += _chunks(others, RENDER_CHUNK)
    futures = [(g, pool.submit(_render_task, g, rate)) for g in groups]
    out: dict[Render, np.ndarray] = {}
    for group, fut in futures:
        for r, x in zip(group, fut.result(), strict=True):
            out[r] = x
        advance(len(group))
    return out


def synthesize(
    out_dir: Path, synth: SynthConfig, run: RunConfig, jobs: int = 2, reporter: Reporter | None = None
) -> SynthResult:
    """Generate the dataset into `out_dir` (a fresh folder) and write its manifest; return the entries."""
    reporter = reporter or NullReporter()
    check_engines(synth.engines)
    check_accents(synth.accented_engines)
    if KOKORO in synth.engines and synth.kokoro_english:
        kokoro.check_english_installed()
    fe = run.frontend
    start = time.perf_counter()
    plans = plan_clips(synth, run)
    renders = sorted({p.render for p in plans if p.render is not None})
    # Fresh workers (spawn), not forks: a fork of a process that has run TensorFlow or onnxruntime threads
    # can deadlock or abort in the child (as it did when tests synthesised data after training a model).
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        task = reporter.task("rendering TTS", len(renders))
        audio = _render_all(renders, fe.sample_rate, pool, task.advance)

        babble_words = [audio[r] for r in renders if r.word in synth.filler_words]
        noises = _background_noise(synth, run.seed, fe.sample_rate, babble_words)
        for name, x in noises.items():
            write_wav(out_dir / BACKGROUND_NOISE_DIR / f"{name}.wav", to_int16(x), fe.sample_rate)
        noise_list = [noises[k] for k in sorted(noises)]

        task = reporter.task("augmenting clips", len(plans))
        futures = []
        for group in _chunks(plans, AUGMENT_CHUNK):
            clips = [audio[p.render] if p.render is not None else None for p in group]
            args = (group, clips, noise_list, synth, run.seed, fe.sample_rate, fe.clip_samples, str(out_dir))
            futures.append((len(group), pool.submit(_augment_task, *args)))
        for n, fut in futures:
            fut.result()
            task.advance(n)

    entries = [
        Entry(
            path=p.path,
            label=p.label,
            word=p.word,
            split=p.split,
            source="synth",
            speaker=p.speaker,
            engine=p.render.voice.engine if p.render else "noise",
            voice=p.render.voice.voice if p.render else "",
        )
        for p in plans
    ]
    write_manifest(out_dir, entries)
    elapsed = time.perf_counter() - start
    atomic.write_json(out_dir / DATASET_INFO, synth_info(synth, run) | {"clips": len(entries)})
    return SynthResult(entries=entries, seconds=elapsed, renders=len(renders))


def synth_info(synth: SynthConfig, run: RunConfig) -> dict:
    return {"source": "synth", "synth": dataclass_to_json(synth), "run": run.to_dict()}
