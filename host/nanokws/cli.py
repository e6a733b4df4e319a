"""The `host` command: one subcommand per stage, each reading and writing a run directory (`runs/<name>/`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
from rich.console import Console
from rich.table import Table

from nanokws import atomic
from nanokws.config import RunConfig, SynthConfig
from nanokws.data.manifest import SPLITS, Entry, summarise
from nanokws.errors import ConfigError, Interrupted, NanokwsError
from nanokws.metrics import Scores
from nanokws.progress import rich_reporter
from nanokws.rundir import RunDir, open_run
from nanokws.student.config import StudentConfig
from nanokws.threads import DEFAULT_THREADS, pin_tensorflow_threads

if TYPE_CHECKING:
    from nanokws.tflite.metadata import ModelInfo

app = typer.Typer(
    help="nanokws: train a keyword spotter on the host and generate its firmware.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(
    help="Build the run's dataset (Speech Commands layout + data/manifest.jsonl) from one source.",
    no_args_is_help=True,
)
bench_app = typer.Typer(help="Benchmarks: measure and write JSON (not tests).")
app.add_typer(data_app, name="data")
app.add_typer(bench_app, name="bench")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

RunOpt = Annotated[Path, typer.Option("--run", help="Run directory: every stage reads and writes here.")]
JobsOpt = Annotated[int, typer.Option("--jobs", min=1, help="Worker processes (default: both cores).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Redo the stage even if its output is up to date.")]
# The student's robustness levers, shared by `host train` and `host bench loeo` (defaults: StudentConfig).
FormantsOpt = Annotated[
    float, typer.Option(min=0.0, max=1.0, help="Share of views whose formants move (vocal-tract length).")
]
BabbleOpt = Annotated[
    float,
    typer.Option(min=0.0, max=1.0, help="Share of views with another training clip mixed in (teacher-labelled)."),
]
JudgeOpt = Annotated[
    bool,
    typer.Option("--judge/--no-judge", help="Weight each view's hard label by the teacher's belief in it."),
]
VocoderOpt = Annotated[
    float,
    typer.Option(
        min=0.0, max=1.0, help="Share of views said again through an LPC vocoder with a new source (buzz, whisper)."
    ),
]
MixupOpt = Annotated[
    float,
    typer.Option(
        min=0.0, max=1.0, help="Share of each epoch's samples blended with another (mixup; targets blended too)."
    ),
]
MixStyleOpt = Annotated[
    float,
    typer.Option(
        "--mixstyle",
        min=0.0,
        max=1.0,
        help="Share of batches whose first feature maps take statistics mixed between samples (MixStyle).",
    ),
]
AverageOpt = Annotated[
    float,
    typer.Option(
        "--weight-average",
        min=0.0,
        max=0.99999,
        help="Keep a moving average of the weights with this decay per step (e.g. 0.999); 0: off.",
    ),
]
WarpOpt = Annotated[
    float, typer.Option(min=0.0, max=1.0, help="Share of clips whose features are spectrally warped, each epoch.")
]
HintsOpt = Annotated[
    float, typer.Option(min=0.0, help="Hint distillation: weight of the teacher-state regression (0: off).")
]
SegmentHintsOpt = Annotated[
    float,
    typer.Option(
        help="Time-aligned hint distillation: weight of the regression of the teacher's states in each 200 ms "
        "(0: off).",
        min=0.0,
    ),
]
ViewEpochsOpt = Annotated[
    int, typer.Option(min=1, help="Student epochs over clips and their views (early stopping may end sooner).")
]
ThreadsOpt = Annotated[
    int,
    typer.Option(
        min=1,
        help="TensorFlow threads, fixed rather than taken from the machine: the trained model's last bits depend "
        "on it, so the same seed and data give the same model anywhere.",
    ),
]
StudentOpt = Annotated[
    str,
    typer.Option(
        help="Student: ds_cnn_s, ds_cnn_m, ds_cnn_l, mlperf_ds_cnn, or any width and depth as "
        "ds_cnn_<channels>x<blocks> (ds_cnn_80x4)."
    ),
]
TeacherSmoothingOpt = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=0.5,
        help="whisper-ft teachers: label smoothing while fine-tuning (smoothing flattens what the wrong classes "
        "get, which is what distillation passes on).",
    ),
]
ViewPatienceOpt = Annotated[
    int, typer.Option(min=1, help="Epochs without a better validation accuracy before training on views stops.")
]


def _print_summary(entries: list[Entry], config: RunConfig) -> None:
    s = summarise(entries, config.labels)
    table = Table(title=f"data: {s.total} clips")
    table.add_column("class")
    for split in SPLITS:
        table.add_column(split, justify="right")
    table.add_column("total", justify="right")
    for label, counts in s.clips.items():
        table.add_row(label, *(str(counts[sp]) for sp in SPLITS), str(sum(counts.values())))
    table.add_section()
    table.add_row("speakers", *(str(s.speakers[sp]) for sp in SPLITS), "")
    for engine, counts in sorted(s.engines.items()):
        table.add_row(f"  {engine}", *(str(counts[sp]) for sp in SPLITS), str(sum(counts.values())))
    out.print(table)


def _report_data(run: RunDir, config: RunConfig, outcome: object) -> None:
    from nanokws.stages.data import DataOutcome

    assert isinstance(outcome, DataOutcome)
    if outcome.skipped:
        out.print(f"data is up to date in {run.data} (use --force to rebuild)")
    else:
        out.print(f"wrote {len(outcome.entries)} clips to {run.data} in {outcome.seconds:.1f} s")
    for note in outcome.notes:
        out.print(f"  note: {note}")
    _print_summary(outcome.entries, config)


@data_app.command("synth")
def data_synth(
    run: RunOpt = Path("runs/default"),
    clips_per_keyword: Annotated[int, typer.Option(min=1, help="Clips per keyword.")] = 300,
    unknown_clips: Annotated[int | None, typer.Option(min=0, help="`_unknown_` clips (default: as a keyword).")] = None,
    silence_clips: Annotated[int | None, typer.Option(min=0, help="`_silence_` clips (default: as a keyword).")] = None,
    engines: Annotated[str, typer.Option(help="Comma-separated TTS engines.")] = ",".join(SynthConfig.engines),
    accents: Annotated[
        str,
        typer.Option(
            help="Comma-separated engines that also speak the words with Italian, Czech, Finnish, Catalan and "
            "Russian accents (espeak-ng, festival, kokoro); empty for none."
        ),
    ] = ",".join(SynthConfig.accented_engines),
    kokoro_english: Annotated[
        bool,
        typer.Option(
            help="Kokoro also speaks with its 28 American and British voices and their mixtures, not only "
            "with the Japanese speakers' voices."
        ),
    ] = SynthConfig.kokoro_english,
    jobs: JobsOpt = 2,
    force: ForceOpt = False,
) -> None:
    """Synthesise the 10 keywords and 20 filler words with espeak-ng, flite, festival and Kokoro, then augment them
    (placement, speed, pitch, reverberation, noise and babble at random SNR). Offline; the default."""
    from nanokws.stages.data import synth_data

    synth_cfg = SynthConfig(
        engines=tuple(e.strip() for e in engines.split(",") if e.strip()),
        accented_engines=tuple(e.strip() for e in accents.split(",") if e.strip()),
        kokoro_english=kokoro_english,
        clips_per_keyword=clips_per_keyword,
        unknown_clips=clips_per_keyword if unknown_clips is None else unknown_clips,
        silence_clips=clips_per_keyword if silence_clips is None else silence_clips,
    )
    rd, config = open_run(run, RunConfig())
    with rich_reporter(out) as reporter:
        outcome = synth_data(rd, config, synth_cfg, jobs=jobs, force=force, reporter=reporter)
    _report_data(rd, config, outcome)


@data_app.command("gsc")
def data_gsc(
    run: RunOpt = Path("runs/gsc"),
    cache_dir: Annotated[Path | None, typer.Option(help="Hugging Face datasets cache.")] = None,
    jobs: JobsOpt = 2,
    force: ForceOpt = False,
) -> None:
    """The real Google Speech Commands v0.01 via `datasets.load_dataset` (needs internet), mapped to the
    12 classes with about 10% `_silence_` and `_unknown_`."""
    from nanokws.stages.data import gsc_data

    rd, config = open_run(run, RunConfig())
    with rich_reporter(out) as reporter:
        outcome = gsc_data(rd, config, cache_dir=cache_dir, jobs=jobs, force=force, reporter=reporter)
    _report_data(rd, config, outcome)


@data_app.command("folder")
def data_folder(
    src: Annotated[Path, typer.Argument(help="Folder of <word>/<clip> audio (the Speech Commands layout).")],
    run: RunOpt = Path("runs/folder"),
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable files (and count them).")] = False,
    keep_all: Annotated[
        bool, typer.Option("--keep-all", help="Keep every `_unknown_` clip; cut no `_silence_` from noise.")
    ] = False,
    jobs: JobsOpt = 2,
    force: ForceOpt = False,
) -> None:
    """Your own recordings: resampled to 16 kHz (with a warning), mixed to mono, padded or centre-cropped
    to 1 s. Unreadable files are listed and fail the import unless --skip-bad."""
    from nanokws.stages.data import folder_data

    rd, config = open_run(run, RunConfig())
    with rich_reporter(out) as reporter:
        outcome = folder_data(
            rd, config, src, skip_bad=skip_bad, recipe_percent=None if keep_all else 10.0,
            jobs=jobs, force=force, reporter=reporter,
        )  # fmt: skip
    _report_data(rd, config, outcome)


@app.command("features")
def features(run: RunOpt = Path("runs/default"), force: ForceOpt = False) -> None:
    """The front-end stage: 49x10 MFCC of every clip (features.npz), recomputed only when the data or the
    front-end configuration change."""
    from nanokws.stages.features import compute_features

    rd, config = open_run(run)
    with rich_reporter(out) as reporter:
        outcome = compute_features(rd, config, force=force, reporter=reporter)
    f = outcome.features
    if outcome.skipped:
        out.print(f"features are up to date in {rd.features}")
    else:
        out.print(f"wrote {rd.features}: {outcome.clips_per_second:.0f} clips/s")
    out.print(
        f"MFCC {tuple(f.shape)} (clips x frames x coefficients); "
        f"c0 mean {f[..., 0].mean():.2f}, c1..c{f.shape[-1] - 1} std {f[..., 1:].std():.2f}"
    )


def _print_scores(scores: Scores, title: str) -> None:
    table = Table(title=f"{title}: accuracy {scores.accuracy:.4f} on {scores.n} clips")
    table.add_column("true \\ predicted")
    for label in scores.labels:
        table.add_column(label[:7], justify="right")
    table.add_column("accuracy", justify="right")
    for i, label in enumerate(scores.labels):
        acc = scores.per_class[label]
        row = [str(v) if v else "." for v in scores.confusion[i]]
        table.add_row(label, *row, "-" if acc is None else f"{acc:.3f}")
    out.print(table)


@app.command("train")
def train_cmd(
    run: RunOpt = Path("runs/default"),
    stage: Annotated[
        str | None, typer.Option(help="Run one stage: teacher, student, quantize or eval (default: all).")
    ] = None,
    teacher: Annotated[
        str,
        typer.Option(
            help="Teacher: 'scratch' (small Wav2Vec2 trained here), a Wav2Vec2 hub id or local directory, or "
            "'whisper' (Whisper tiny.en's frozen encoder, packaged, with a trained head; 'whisper:<dir or hub id>'), "
            "'whisper-ft' (the same encoder fine-tuned: about 5 min more on 2 cores, ~10 min more for the views); "
            "an ensemble of one Whisper and one Wav2Vec2 teacher as 'whisper+scratch'."
        ),
    ] = "whisper",
    teacher_smoothing: TeacherSmoothingOpt = 0.1,
    student: StudentOpt = "ds_cnn_s",
    distill: Annotated[bool, typer.Option("--distill/--no-distill", help="Learn from the teacher too.")] = True,
    alpha: Annotated[float, typer.Option(min=0.0, max=1.0, help="Weight of the hard-label loss.")] = 0.3,
    temperature: Annotated[float, typer.Option(min=0.1, help="Distillation temperature.")] = StudentConfig.temperature,
    epochs: Annotated[int, typer.Option(min=1, help="Student epochs (early stopping may end sooner).")] = 40,
    views: Annotated[
        int, typer.Option(min=0, help="Consistent teaching: augmented views per training clip, teacher-labelled.")
    ] = 6,
    formants: FormantsOpt = StudentConfig.view_formant_probability,
    babble: BabbleOpt = StudentConfig.view_babble_probability,
    judge: JudgeOpt = StudentConfig.judge_views,
    vocoder: VocoderOpt = StudentConfig.view_vocoder_probability,
    mixup: MixupOpt = StudentConfig.mixup_probability,
    mixstyle: MixStyleOpt = StudentConfig.mixstyle_probability,
    weight_average: AverageOpt = StudentConfig.weight_average,
    warp: WarpOpt = StudentConfig.warp_probability,
    hints: HintsOpt = StudentConfig.hint_weight,
    segment_hints: SegmentHintsOpt = StudentConfig.segment_hint_weight,
    view_epochs: ViewEpochsOpt = StudentConfig.view_epochs,
    view_patience: ViewPatienceOpt = StudentConfig.view_patience,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoints.")] = False,
    threads: ThreadsOpt = DEFAULT_THREADS,
    force: ForceOpt = False,
) -> None:
    """Train the keyword spotter: a Wav2Vec2 teacher, a DS-CNN student distilled from it on MFCC features,
    full-int8 quantization, and verification with TFLM and LiteRT. Writes metrics.json and report/."""
    pin_tensorflow_threads(threads)
    from nanokws.stages.train import TrainOptions, train

    rd, config = open_run(run)
    opts = TrainOptions(
        stage=stage,
        student=StudentConfig(
            model=student,
            epochs=epochs,
            distill=distill,
            alpha=alpha,
            temperature=temperature,
            views=views,
            view_formant_probability=formants,
            view_babble_probability=babble,
            judge_views=judge,
            view_vocoder_probability=vocoder,
            mixup_probability=mixup,
            mixstyle_probability=mixstyle,
            weight_average=weight_average,
            warp_probability=warp,
            hint_weight=hints,
            segment_hint_weight=segment_hints,
            view_epochs=view_epochs,
            view_patience=view_patience,
        ),
        teacher=_teacher_config(teacher, smoothing=teacher_smoothing),
        resume=resume,
        force=force,
    )
    try:
        with rich_reporter(out) as reporter:
            outcome = train(rd, config, opts, reporter)
    except KeyboardInterrupt as e:
        stage = getattr(e, "stage", None)
        raise Interrupted(
            f"interrupted{f' in the {stage} stage' if stage else ''}: nothing half-written was kept "
            "(outputs are atomic); the finished stages and the last checkpoints are kept",
            path=run,
            hint="run the same `host train` command with --resume to continue from there",
        ) from e
    table = Table(title="stages")
    for col in ("stage", "wall s", "peak MB (resident)", ""):
        table.add_column(col)
    for name, t in outcome.timings.items():
        table.add_row(name, f"{t.seconds:.1f}", f"{t.peak_rss_mb:.0f}", "up to date" if t.skipped else "")
    out.print(table)
    for split, m in outcome.metrics.get("splits", {}).items():
        out.print(
            f"{split}: float {m['float']['accuracy']:.4f}, int8 {m['int8']['accuracy']:.4f} "
            f"({m['clips']} clips; TFLM and LiteRT bit-exact)"
        )
    if outcome.metrics:
        out.print(f"wrote {rd.root / 'metrics.json'} and {rd.report}/")
        _write_report(run, None)


def _write_report(run: Path, out_path: Path | None) -> None:
    from nanokws.report import write_report

    with rich_reporter(out) as reporter:
        result = write_report(run, out_path, reporter=reporter)
    if result.not_measured:
        out.print(f"report: not measured yet: {', '.join(result.not_measured)} (the page says how)")
    out.print(f"wrote the report {result.path} ({result.size_bytes / 1e6:.1f} MB)")


@app.command("report")
def report_cmd(
    run: Annotated[Path, typer.Argument(help="The run directory (after `host train`).")],
    out_path: Annotated[Path | None, typer.Option("--out", help="Where the page goes.")] = None,
) -> None:
    """One self-contained HTML page about a run (default: RUN/report/index.html): data, training curves,
    float/int8/firmware accuracy, the gain from distillation, leave-one-engine-out, the on-device budget and
    the misclassified test clips to listen to. Plots and audio are embedded: it opens offline."""
    _write_report(run, out_path)


def _teacher_config(source: str, epochs: int | None = None, smoothing: float | None = None) -> object:
    from nanokws.teacher.config import TeacherConfig

    cfg = TeacherConfig(source=source)
    if epochs is not None:
        cfg = dataclasses.replace(cfg, epochs=epochs)
    if smoothing is not None:
        cfg = dataclasses.replace(cfg, whisper_label_smoothing=smoothing)
    return cfg


@app.command("eval")
def eval_cmd(
    data: Annotated[Path, typer.Option("--data", help="Folder in the Speech Commands layout.")],
    model: Annotated[Path, typer.Option("--model", help="A run directory or an int8 .tflite.")] = Path("runs/default"),
    split: Annotated[str | None, typer.Option(help="Only this split (folders made by `host data`).")] = None,
    speakers: Annotated[
        str | None,
        typer.Option(help="Only speakers whose id matches this regular expression (folders made by `host data`)."),
    ] = None,
    voices: Annotated[
        str | None,
        typer.Option(
            help="Only clips whose TTS voice matches this regular expression (folders made by `host data synth`): "
            "`^en` keeps the English espeak-ng and Kokoro voices."
        ),
    ] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable files (and count them).")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write accuracy, n and per_class here.")] = None,
) -> None:
    """Evaluate an int8 model with TFLM on a folder: accuracy, per-class accuracy, confusion matrix. Front end
    and labels come from the model's metadata (defaults for models made elsewhere)."""
    from nanokws.evaluate import evaluate

    with rich_reporter(out) as reporter:
        result = evaluate(
            data,
            model,
            split=split,
            skip_bad=skip_bad,
            seed=RunConfig().seed,
            reporter=reporter,
            speakers=speakers,
            voices=voices,
        )
    if not result.info.has_metadata:
        err.print("warning: the model has no nanokws metadata; assuming the default front end and labels")
    if result.skipped:
        out.print(f"skipped {len(result.skipped)} unreadable file(s)")
    _print_scores(result.scores, f"{data}")
    if json_path:
        d = result.scores.to_dict()
        atomic.write_json(json_path, {"accuracy": d["accuracy"], "n": d["n"], "per_class": d["per_class"]} | d)
        out.print(f"wrote {json_path}")


@app.command("export")
def export_cmd(
    model: Annotated[Path, typer.Option("--model", help="A run directory or an int8 .tflite.")] = Path("runs/default"),
    out_dir: Annotated[Path, typer.Option("--out", help="Where the generated C goes.")] = Path("firmware/generated"),
) -> None:
    """Compile the int8 model to C for the firmware: weights as const arrays, a statically planned arena and a
    kws_model_invoke() that calls the int8 kernels of firmware/lib/kws/ (bit-exact with TFLM), plus the
    flatbuffer as an aligned array (model_data.c) for TFLM users."""
    from nanokws.codegen import export_model
    from nanokws.evaluate import resolve_model
    from nanokws.tflite.metadata import model_info

    data, path = resolve_model(model)
    result = export_model(data, out_dir, path.name)
    if not model_info(data, str(path)).has_metadata:
        err.print(
            "warning: the model has no nanokws metadata: the front-end tables, labels and detector are the "
            "defaults, which may not be what it was trained with"
        )
    out.print(f"wrote {len(result.files)} files to {out_dir}: {', '.join(p.name for p in result.files)}")
    out.print(
        f"ops: {' '.join(result.ops)}\n"
        f"arena {result.arena_bytes} B (RAM), weights {result.weight_bytes} B + quantization parameters "
        f"{result.parameter_bytes} B (flash); the .tflite is {result.model_bytes} B"
    )


def _exported_model() -> tuple[bytes, ModelInfo]:
    """The model `host export` put in firmware/generated/ (what the firmware images are built from)."""
    from nanokws.codegen.export import MODEL_NAME
    from nanokws.hil.firmware import GENERATED
    from nanokws.tflite.metadata import model_info

    path = GENERATED / MODEL_NAME
    if not path.is_file():
        raise ConfigError("no exported model", path=path, hint="run `host export --model RUN`")
    model = path.read_bytes()
    return model, model_info(model, str(path))


@app.command("hil")
def hil_cmd(
    data: Annotated[Path | None, typer.Option("--data", help="Folder in the Speech Commands layout.")] = None,
    stream: Annotated[Path | None, typer.Option("--stream", help="A recording of any length (WAV).")] = None,
    split: Annotated[str | None, typer.Option(help="Only this split (folders made by `host data`).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many clips (the first ones).")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
) -> None:
    """Hardware in the loop: build the emulator image (`pio run -e emu`) from the model exported to
    firmware/generated/ (`host export`), run it in QEMU and
    compare it with the host's int8 pipeline: on every clip of --data (accuracy, agreement, instructions per
    inference and per hop), or on a --stream (the detections of the firmware and of its Python twin)."""
    from nanokws.audio import load_stream
    from nanokws.evaluate import load_eval_clips
    from nanokws.hil.emulator import Qemu
    from nanokws.hil.firmware import build_image
    from nanokws.hil.harness import compare_on_clips, compare_on_stream

    if (data is None) == (stream is None):
        raise ConfigError("give one of --data (clips) and --stream (a recording)")
    model, info = _exported_model()
    out.print("building the emulator image (pio run -e emu)")
    elf = build_image("emu")
    emulator = Qemu()
    if stream is not None:
        audio = load_stream(stream, info.frontend.sample_rate)
        result = compare_on_stream(emulator, elf, audio, model, info)
        out.print(f"firmware ({emulator.name}), {len(audio) / info.frontend.sample_rate:.1f} s:")
        for line in result.firmware:
            out.print(f"  {line}")
        same = result.firmware == result.twin
        out.print("Python twin: the same detections" if same else f"Python twin differs: {list(result.twin)}")
        if json_path:
            atomic.write_json(json_path, {"firmware": list(result.firmware), "twin": list(result.twin), "same": same})
        if not same:
            raise typer.Exit(1)
        return
    assert data is not None
    audio, labels, _ = load_eval_clips(data, info, split, False, RunConfig().seed)
    if limit is not None:
        audio, labels = audio[:limit], labels[:limit]
    with rich_reporter(out) as reporter:
        report = compare_on_clips(emulator, elf, audio, labels, model, info, reporter=reporter)
    table = Table(title=f"hardware in the loop: {data} ({report.n} clips, {emulator.name})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("firmware accuracy", f"{report.accuracy:.4f}")
    table.add_row("host int8 accuracy", f"{report.host_accuracy:.4f}")
    table.add_row("agreement (class)", f"{report.agreement:.4f}")
    table.add_row("bit-exact outputs", f"{report.bit_exact:.4f}")
    table.add_row("instructions per inference", f"{report.instructions_per_inference:,.0f}")
    table.add_row("instructions per hop (front end)", f"{report.instructions_per_hop:,.0f}")
    table.add_row("emulator time", f"{report.emulator_seconds:.1f} s")
    out.print(table)
    if json_path:
        # what was measured, so that `host report` can tell whether this is its run's model and split
        inputs = {"data": str(data), "split": split, "model_sha256": hashlib.sha256(model).hexdigest()}
        atomic.write_json(json_path, report.to_dict() | inputs)
        out.print(f"wrote {json_path}")


@app.command("soak")
def soak_cmd(
    data: Annotated[Path, typer.Option("--data", help="Folder in the Speech Commands layout (its keywords).")],
    minutes: Annotated[float, typer.Option(min=0.1, help="Length of the audio.")] = 30.0,
    split: Annotated[str | None, typer.Option(help="Only clips of this split.")] = "test",
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
) -> None:
    """A long run of the exported firmware in the emulator: MINUTES of noise with the keyword clips of DATA
    every ~3 s. Its detections must equal the Python twin's, time stamps included (no drift), with no
    overruns and exactly the hops and inferences the audio implies. Exit status 1 otherwise."""
    import numpy as np

    from nanokws.evaluate import load_eval_clips
    from nanokws.hil.emulator import Qemu
    from nanokws.hil.firmware import build_image
    from nanokws.hil.soak import soak

    model, info = _exported_model()
    audio, labels, _ = load_eval_clips(data, info, split, False, RunConfig().seed)
    names = [info.labels[i] for i in labels]
    keep = [i for i, n in enumerate(names) if not n.startswith("_")]
    if not keep:
        raise ConfigError(f"no keyword clips in {data}" + (f" (split {split})" if split else ""), path=data)
    out.print("building the emulator image (pio run -e emu)")
    elf = build_image("emu")
    report = soak(Qemu(), elf, model, info, np.asarray(audio)[keep], [names[i] for i in keep], minutes * 60)
    table = Table(title=f"soak: {report.seconds / 60:.1f} min of audio in the emulator")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in report.to_dict().items():
        table.add_row(key.replace("_", " "), str(value))
    out.print(table)
    if json_path:
        atomic.write_json(json_path, report.to_dict())
    if not report.passed:
        raise typer.Exit(1)


@app.command("spot")
def spot_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Recordings, or folders searched for audio files.")],
    model: Annotated[Path, typer.Option("--model", help="A run directory or an int8 .tflite.")] = Path(
        "firmware/generated/model_int8.tflite"
    ),
    out_path: Annotated[Path | None, typer.Option("--out", help="Write the index here (default: stdout).")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV rows instead of JSON lines.")] = False,
    jobs: Annotated[int, typer.Option(min=1, help="Files processed in parallel.")] = 2,
) -> None:
    """Find the keywords in long recordings with the int8 model and the firmware's streaming detector, and
    write an index: one JSON line (or CSV row) per detection with file, label, start, end and score. Files
    of any length, format and sample rate are decoded block by block; unreadable ones are reported and
    skipped, and the exit status is 1 if any were."""
    from nanokws.evaluate import resolve_model
    from nanokws.spot import find_audio, index_lines, timed_spot

    data, _ = resolve_model(model)
    files = find_audio(paths)
    if not files:
        raise ConfigError("no audio files found", hint=f"give audio files or folders ({', '.join(map(str, paths))})")
    with rich_reporter(err) as reporter:
        results, seconds = timed_spot(files, data, jobs=jobs, reporter=reporter)
    found = [o for r in results for o in r.occurrences]
    text = index_lines(found, as_csv=as_csv)
    if out_path is None:
        sys.stdout.write(text)
    else:
        atomic.write_text(out_path, text)
    skipped = [r for r in results if r.error]
    audio = sum(r.audio_seconds for r in results)
    err.print(
        f"{len(found)} keyword(s) in {len(results) - len(skipped)} file(s), {audio:.0f} s of audio in {seconds:.1f} s "
        f"({audio / max(seconds, 1e-9):.0f}x real time)" + (f"; wrote {out_path}" if out_path else "")
    )
    for r in skipped:
        err.print(f"skipped {r.file}: {r.error}")
    if skipped:
        err.print(f"{len(skipped)} file(s) skipped")
        raise typer.Exit(1)


@bench_app.callback(invoke_without_command=True)
def bench_device(
    ctx: typer.Context,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
    quick: Annotated[bool, typer.Option(help="The default model only, no host stages (CI).")] = False,
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Also bench NAME=PATH.tflite (repeatable).")
    ] = None,
    run: Annotated[Path | None, typer.Option(help="Also write RUN/bench.json (for `host report`).")] = None,
) -> None:
    """On-device cost in the emulator: instructions per inference and per layer for the default model, the
    DS-CNN family and any --model, with the DSP and the portable kernels side by side; front-end
    instructions per hop; the nano33ble image's flash and RAM; the estimated load at 64 MHz; and the host
    throughput of the training stages. Subcommands: frontend, loeo."""
    if ctx.invoked_subcommand is not None:
        return
    from nanokws.bench import device, host_stages
    from nanokws.student.models import FAMILY

    default = "default"
    models = {default: _exported_model()[0]}
    for spec in model or []:
        name, sep, path = spec.partition("=")
        if not sep or not name or not Path(path).is_file():
            raise NanokwsError(f"--model {spec!r}: expected NAME=PATH to an existing .tflite file",
                               hint="e.g. --model mlperf_ref=models/mlperf_kws_ref_model.tflite")  # fmt: skip
        models[name] = Path(path).read_bytes()
    cfg = RunConfig()
    build_root = Path("build") / "bench"
    if not quick:
        for name in ("ds_cnn_s", "ds_cnn_m", "ds_cnn_l"):
            assert name in FAMILY
            err.print(f"{name}: int8 model with untrained weights (seed 42)")
            models[name] = device.family_tflite(name, cfg, build_root / "models")
    report = device.run_bench(models, default, build_root, progress=err.print)
    if not quick:
        err.print("host stages: synthesis, features, teacher, student epoch")
        report = dataclasses.replace(report, host=host_stages.run(cfg))
    result = report.to_dict(default)
    _print_bench(result)
    for target in [p for p in (json_path, run / "bench.json" if run else None) if p is not None]:
        atomic.write_text(target, json.dumps(result, indent=2) + "\n")
        out.print(f"wrote {target}")


def _print_bench(result: dict) -> None:
    table = Table(title="instructions per inference (emulator, -icount shift=0)")
    for col in ("model", "MACs", "DSP instr", "MACs/instr", "portable instr", "MACs/instr", "speed-up"):
        table.add_column(col, justify="right", no_wrap=True, min_width=max(len(col), 11))
    for name, m in result["models"].items():
        dsp, ref = m["kernels"]["dsp"], m["kernels"]["portable"]
        table.add_row(name, f"{m['macs']:,}", f"{dsp['instructions']:,}", f"{dsp['macs_per_instruction']:.3f}",
                      f"{ref['instructions']:,}", f"{ref['macs_per_instruction']:.3f}",
                      f"{ref['instructions'] / dsp['instructions']:.1f}x")  # fmt: skip
    out.print(table, width=160)
    for name, m in result["models"].items():
        if name.startswith("ds_cnn"):
            continue
        layers = Table(title=f"{name}: per layer")
        for col in ("op", "layer", "MACs", "DSP instr", "portable instr"):
            layers.add_column(col, justify="right", no_wrap=True, min_width=max(len(col), 11))
        for d, r in zip(m["kernels"]["dsp"]["layers"], m["kernels"]["portable"]["layers"], strict=True):
            layers.add_row(str(d["op"]), d["name"], f"{d['macs']:,}", f"{d['instructions']:,}",
                           f"{r['instructions']:,}")  # fmt: skip
        out.print(layers, width=160)
    fe, img, load = result["frontend"], result["image"], result["load"]
    out.print(f"front end: {fe['instructions_per_hop']:,.0f} instructions per hop; "
              f"normalize + quantize: {fe['prepare_instructions_per_inference']:,} per inference")  # fmt: skip
    out.print(
        f"nano33ble image: flash {img['flash_bytes']:,} B {img['flash']}, RAM {img['ram_bytes']:,} B {img['ram']}"
    )
    for key in ("at_firmware_stride", "at_100_ms"):
        every = load["firmware_every_ms"] if key == "at_firmware_stride" else 100
        if key == "at_100_ms" and every == load["firmware_every_ms"]:
            continue  # the firmware's own stride, printed above
        note = " (the firmware's)" if key == "at_firmware_stride" else ""
        out.print(f"estimated load at 64 MHz, model every {every} ms{note} (instructions as cycles): {load[key]}")
    if result["host"]:
        out.print(f"host throughput (clips/s): {result['host']}")


@bench_app.command("stack")
def bench_stack() -> None:
    """The nano33ble firmware's worst-case stack depth (gcc's frame sizes and call graph, the image's
    vector table), against the stack the linker script reserves."""
    from nanokws.hil.firmware import ROOT, build_image
    from nanokws.hil.stack import EXCEPTION_FRAME_BYTES, guard_bytes, reserved_stack, worst_case

    elf = build_image("nano33ble_stack", Path("build") / "stack")
    sections = ROOT / "firmware" / "boards" / "cortex_m4f" / "sections.ld"
    report = worst_case(elf, sorted(elf.parent.rglob("*.ci")), reserved_stack(sections))
    out.print("deepest path from reset: " + " -> ".join(f"{n} ({b} B)" for n, b in report.main_path))
    for name, depth in report.handlers:
        out.print(f"handler {name}: {depth} B, plus a {EXCEPTION_FRAME_BYTES} B exception frame")
    out.print(f"worst case {report.worst_bytes} B of {report.reserved_bytes} B reserved "
              f"(margin {report.margin_bytes} B)")  # fmt: skip
    name, frame = report.largest_frame
    out.print(f"largest frame {frame} B ({name}), under the {guard_bytes(sections)} B MPU guard below the stack")


@bench_app.command("frontend")
def bench_frontend(
    clips: Annotated[int, typer.Option(min=1, help="Random clips to run.")] = 1000,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the results here.")] = None,
) -> None:
    """MFCC throughput in clips per second: numpy batched and clip by clip, and librosa."""
    from nanokws.bench import frontend as bench

    result = bench.run(RunConfig().frontend, clips=clips).to_dict()
    table = Table(title="front end (1 s clips -> 49x10 MFCC)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for k, v in result.items():
        table.add_row(k, str(v))
    out.print(table)
    if json_path:
        atomic.write_text(json_path, json.dumps(result, indent=2) + "\n")
        out.print(f"wrote {json_path}")


@bench_app.command("loeo")
def bench_loeo(
    run: RunOpt = Path("runs/default"),
    engines: Annotated[str | None, typer.Option(help="Comma-separated engines to hold out (default: all).")] = None,
    student: StudentOpt = "ds_cnn_s",
    epochs: Annotated[int, typer.Option(min=1, help="Student epochs.")] = 40,
    teacher: Annotated[str, typer.Option(help="Teacher source, as for `host train`.")] = "whisper",
    teacher_epochs: Annotated[int, typer.Option(min=1, help="Teacher epochs (as `host train`: 30).")] = 30,
    teacher_smoothing: TeacherSmoothingOpt = 0.1,
    views: Annotated[int, typer.Option(min=0, help="Consistent teaching views, as for `host train`.")] = 6,
    alpha: Annotated[float, typer.Option(min=0.0, max=1.0, help="Weight of the hard-label loss.")] = 0.3,
    temperature: Annotated[float, typer.Option(min=0.1, help="Distillation temperature.")] = StudentConfig.temperature,
    formants: FormantsOpt = StudentConfig.view_formant_probability,
    babble: BabbleOpt = StudentConfig.view_babble_probability,
    judge: JudgeOpt = StudentConfig.judge_views,
    vocoder: VocoderOpt = StudentConfig.view_vocoder_probability,
    mixup: MixupOpt = StudentConfig.mixup_probability,
    mixstyle: MixStyleOpt = StudentConfig.mixstyle_probability,
    weight_average: AverageOpt = StudentConfig.weight_average,
    warp: WarpOpt = StudentConfig.warp_probability,
    hints: HintsOpt = StudentConfig.hint_weight,
    segment_hints: SegmentHintsOpt = StudentConfig.segment_hint_weight,
    view_epochs: ViewEpochsOpt = StudentConfig.view_epochs,
    view_patience: ViewPatienceOpt = StudentConfig.view_patience,
    modes: Annotated[str, typer.Option(help="Comma-separated: distilled, hard.")] = "distilled,hard",
    tag: Annotated[
        str, typer.Option(help="Name of this setting: sub-runs in <run>/loeo/<tag>/, results in <run>/loeo-<tag>.json.")
    ] = "",
    threads: ThreadsOpt = DEFAULT_THREADS,
) -> None:
    """Leave-one-engine-out: for each TTS engine, train without it (with and without distillation) and test
    on it. Writes <run>/loeo.json; the sub-runs live in <run>/loeo/. To run engines side by side, one per
    core: `--engines E --threads 1` in each process."""
    pin_tensorflow_threads(threads)
    from nanokws.bench.loeo import loeo_name, run_loeo

    chosen_modes = _loeo_modes(modes)
    rd, _ = open_run(run)
    held = tuple(e.strip() for e in engines.split(",")) if engines else None
    with rich_reporter(out) as reporter:
        results = run_loeo(
            rd,
            student=StudentConfig(
                model=student, epochs=epochs, views=views, alpha=alpha, temperature=temperature,
                view_formant_probability=formants, view_babble_probability=babble, judge_views=judge,
                view_vocoder_probability=vocoder,
                mixup_probability=mixup, mixstyle_probability=mixstyle, warp_probability=warp,
                weight_average=weight_average,
                hint_weight=hints, segment_hint_weight=segment_hints,
                view_epochs=view_epochs, view_patience=view_patience,
            ),
            teacher=_teacher_config(teacher, teacher_epochs, teacher_smoothing),
            engines=held, reporter=reporter, modes=chosen_modes, tag=tag,
        )  # fmt: skip
    table = Table(title="leave-one-engine-out (test = every clip of the held-out engine)")
    for col in ("held out", "distilled", "clips", "float", "int8", "teacher"):
        table.add_column(col)
    for r in results:
        teacher_acc = "-" if r.teacher_accuracy is None else f"{r.teacher_accuracy:.4f}"
        table.add_row(r.held_out, "yes" if r.distill else "no", str(r.test_clips), f"{r.float_accuracy:.4f}",
                      f"{r.int8_accuracy:.4f}", teacher_acc)  # fmt: skip
    out.print(table)
    out.print(f"wrote {rd.root / loeo_name(tag)}")


@bench_app.command("loeo-table")
def bench_loeo_table(
    run: RunOpt = Path("runs/default"),
    markdown_path: Annotated[Path | None, typer.Option("--markdown", help="Also write the table here.")] = None,
) -> None:
    """Every leave-one-engine-out setting of a run side by side (loeo.json and each loeo-<tag>.json): int8
    student accuracy per held-out engine, distilled and not, and the teacher's."""
    from nanokws.bench.loeo_table import markdown, rows

    rd, _ = open_run(run)
    table = rows(rd.root)
    if not table:
        raise ConfigError("no leave-one-engine-out results in the run", path=rd.root, hint="run `host bench loeo`")
    text = markdown(table)
    out.print(text, markup=False, highlight=False)
    if markdown_path:
        atomic.write_text(markdown_path, text)
        out.print(f"wrote {markdown_path}")


def _loeo_modes(modes: str) -> tuple[bool, ...]:
    names = {"distilled": True, "hard": False}
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in names]
    if unknown or not chosen:
        raise ConfigError(f"unknown --modes {', '.join(unknown) or '(none)'}", hint="give distilled, hard or both")
    return tuple(names[m] for m in chosen)


def main() -> None:
    try:
        status = app(standalone_mode=False)  # a command's typer.Exit(code) comes back as its return value
    except Interrupted as e:
        err.print(e.message, highlight=False)
        sys.exit(130)
    except NanokwsError as e:
        err.print(f"[bold red]error:[/] {e.message}", highlight=False)
        sys.exit(2)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except OSError as e:  # a full disk, a quota, a read-only or vanished folder: say which file, keep the old
        where = f": {e.filename}" if e.filename else ""
        err.print(f"[bold red]error:[/] {e.strerror or e}{where}", highlight=False)
        err.print("  nothing half-written was kept (outputs are written atomically); free space or fix the "
                  "folder's permissions, then run the command again")  # fmt: skip
        sys.exit(1)
    except (KeyboardInterrupt, click.exceptions.Abort):
        err.print("interrupted: nothing half-written was kept (outputs are atomic)")
        sys.exit(130)
    if isinstance(status, int) and status:
        sys.exit(status)


if __name__ == "__main__":
    main()
