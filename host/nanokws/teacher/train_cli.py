"""The teacher stage as a plain script, for launchers that start one process per device.

One process (what `host train --stage teacher` does in-process):

    python -m nanokws.teacher.train_cli runs/default

Several GPUs, or several machines (the HuggingFace Trainer runs DDP; nothing in the code changes):

    torchrun --nproc_per_node=4 -m nanokws.teacher.train_cli runs/default --teacher facebook/wav2vec2-base
    torchrun --nnodes=2 --node_rank=0 --master_addr=HOST --master_port=29500 --nproc_per_node=8 \\
        -m nanokws.teacher.train_cli runs/default --teacher facebook/wav2vec2-base
    accelerate launch --num_processes=4 -m nanokws.teacher.train_cli runs/default

On CPUs only, torchrun processes use the gloo backend (proved by tests/test_teacher.py with two processes).
`--batch-size` is per process. The run directory must be on a file system all machines share. Every
process prints a checksum of its final weights; only process zero writes `teacher/`, its history and the
soft labels.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from nanokws.errors import NanokwsError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nanokws.teacher.train_cli", description=__doc__.splitlines()[0])
    # Positional, not `--run`: torchrun's own parser would take `--run` for its `--run-path`.
    p.add_argument("run", type=Path, help="run directory (with config.json and data/)")
    p.add_argument("--data", type=Path, help="dataset folder with manifest.jsonl (default: run/data)")
    p.add_argument("--teacher", help="`scratch`, a hub id or a local directory (default: the config's)")
    p.add_argument("--config", type=Path, help="JSON file of TeacherConfig settings")
    p.add_argument("--epochs", type=int)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--batch-size", type=int, help="per process")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--force", action="store_true", help="train even if the run's teacher is up to date")
    p.add_argument("--no-soft-labels", action="store_true", help="do not compute soft_labels.joblib")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except NanokwsError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1
    finally:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


def _run(args: argparse.Namespace) -> int:
    from nanokws.data.manifest import read_manifest
    from nanokws.progress import NullReporter
    from nanokws.rundir import open_run
    from nanokws.soft_labels import soft_labels
    from nanokws.teacher.config import TeacherConfig
    from nanokws.teacher.wav2vec2 import train_teacher

    run, config = open_run(args.run)
    data_root = args.data or run.data
    entries = read_manifest(data_root)
    cfg = TeacherConfig.from_dict(json.loads(args.config.read_text())) if args.config else TeacherConfig()
    overrides = {
        "source": args.teacher,
        "epochs": args.epochs,
        "max_steps": args.max_steps,
        "batch_size": args.batch_size,
    }
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})

    import torch.distributed as dist

    def rank_world() -> tuple[int, int]:
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    outcome = train_teacher(
        run.root,
        config.labels,
        entries,
        data_root,
        cfg,
        resume=args.resume,
        force=args.force,
        reporter=_Printer() if rank_world()[0] == 0 else NullReporter(),
    )
    rank, world = rank_world()
    h = outcome.history
    epochs = ",".join(f"{c['epoch']:g}:{c['param_sha256'][:16]}" for c in h.get("checksums", []))
    line = (
        f"rank {rank}/{world}: teacher {'up to date' if outcome.skipped else 'ready'}, steps {h.get('steps')}, "
        f"final sha256 {h.get('final_param_sha256')}, epochs {epochs}\n"
    )
    # Every rank shares one stdout: print() writes the text and the newline separately, so two ranks' lines
    # could run together. One write of a short line (< PIPE_BUF) to a pipe is atomic.
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), line.encode())
    if rank != 0:
        return 0
    print(
        f"teacher: {outcome.teacher.name}, {outcome.teacher.parameters} parameters, validation accuracy "
        f"{h.get('validation_accuracy')}, test accuracy {h.get('test_accuracy')}, {outcome.seconds:.1f} s"
    )
    if not args.no_soft_labels:
        train = [e for e in entries if e.split == "train"]
        logits = soft_labels(run.root, outcome.teacher, train, data_root, _Printer())
        print(f"soft labels: {logits.shape[0]} clips x {logits.shape[1]} labels")
    return 0


class _Task:
    def advance(self, n: int = 1) -> None:
        pass


class _Printer:
    """Plain log lines: torchrun interleaves the output of its processes, progress bars would be garbled."""

    def task(self, description: str, total: int) -> _Task:
        print(f"{description}: {total}", flush=True)
        return _Task()

    def log(self, message: str) -> None:
        print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
