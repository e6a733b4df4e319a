"""What the teachers fine-tuned with the HuggingFace `Trainer` (Wav2Vec2, Whisper) share: the process world
under torchrun, checkpoints that resume only what they were made from, the arguments every run takes, the
training itself and its history.

A teacher module supplies its model, datasets, collator and the arguments that are its own (learning rate,
schedule, label smoothing); `fit` runs the `Trainer`, `history` scores the splits, and `finish` has process
zero write the result and delete the checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from transformers import (
    EvalPrediction,
    PreTrainedModel,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainerState,
    TrainingArguments,
    set_seed,
)
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, TrainOutput
from transformers.utils import logging as hf_logging

from nanokws import atomic
from nanokws.progress import Reporter
from nanokws.teacher.base import TeacherError
from nanokws.teacher.callbacks import EpochChecksums, ReportProgress, StepTimer
from nanokws.teacher.config import TeacherConfig
from nanokws.teacher.models import parameter_checksum

KEY_NAME = "nanokws_key.json"  # in the checkpoint folder: what its checkpoints were trained on


def world() -> tuple[int, int]:
    """(rank, world size): from torch.distributed once initialised, else from torchrun's environment."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def barrier() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No tqdm bars from `datasets.map` or `save_pretrained`: progress goes through the Reporter."""
    was_datasets, was_transformers = datasets.is_progress_bar_enabled(), hf_logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_datasets:
            datasets.enable_progress_bars()
        if was_transformers:
            hf_logging.enable_progress_bar()


def accuracy(pred: EvalPrediction) -> dict[str, float]:
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    return {"accuracy": float(np.mean(np.argmax(logits, axis=-1) == pred.label_ids))}


def history_of(state: TrainerState) -> dict[str, list[dict[str, Any]]]:
    """The Trainer's log history as curves: training loss per logging step, validation per epoch."""
    train, evals, sums = [], [], []
    for log in state.log_history:
        if "param_sha256" in log:
            sums.append(log)
        elif "eval_accuracy" in log:
            evals.append(
                {"step": log["step"], "epoch": log["epoch"], "loss": log["eval_loss"], "accuracy": log["eval_accuracy"]}
            )
        elif "loss" in log:
            train.append({k: log[k] for k in ("step", "epoch", "loss", "learning_rate", "grad_norm") if k in log})
    return {"train": train, "eval": evals, "checksums": sums}


def is_complete(checkpoint: Path) -> bool:
    """The Trainer writes a checkpoint folder in place, its `trainer_state.json` last: a folder without a
    readable one was cut short (Ctrl-C, a kill, a full disk) and cannot be resumed from."""
    try:
        json.loads((checkpoint / TRAINER_STATE_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return True


def checkpoints(ckpt_dir: Path) -> list[Path]:
    """The Trainer's checkpoint folders in `ckpt_dir`, oldest step first."""
    found = [p for p in ckpt_dir.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if p.is_dir()]
    steps = {p: p.name.rpartition("-")[2] for p in found}
    return sorted((p for p in found if steps[p].isdigit()), key=lambda p: int(steps[p]))


def checkpoint_to_resume(ckpt_dir: Path, key: str, what: str, hint: str) -> str | None:
    """The last whole checkpoint in `ckpt_dir`, None without one; refused when it was made from another key."""
    if not ckpt_dir.is_dir():
        return None
    try:
        stored = json.loads((ckpt_dir / KEY_NAME).read_text()).get("key")
    except (OSError, json.JSONDecodeError):
        stored = None
    if stored != key:
        raise TeacherError(f"the {what} checkpoints were made from another configuration or other data",
                           path=ckpt_dir, hint=hint)  # fmt: skip
    whole = [p for p in checkpoints(ckpt_dir) if is_complete(p)]
    return str(whole[-1]) if whole else None


def start_checkpoints(ckpt_dir: Path, key: str, resume: bool, what: str, hint: str, reporter: Reporter) -> str | None:
    """The checkpoint to resume from (with --resume), else an empty checkpoint folder that records `key`.
    Checkpoints cut short while being written are set aside (deleted) so that the Trainer writes them anew.
    Call it after the TrainingArguments exist: they start the process group under torchrun."""
    last = checkpoint_to_resume(ckpt_dir, key, what, hint) if resume else None
    if resume and last is None:
        reporter.log(f"no {what} checkpoint to resume from: training from the beginning")
    barrier()  # every process has decided before process zero clears old checkpoints
    if world()[0] == 0:
        if last is None:
            shutil.rmtree(ckpt_dir, ignore_errors=True)
            atomic.write_json(ckpt_dir / KEY_NAME, {"key": key})
        else:
            for partial in (p for p in checkpoints(ckpt_dir) if not is_complete(p)):
                reporter.log(f"{partial.name} was not written to the end: resuming from {Path(last).name}")
                shutil.rmtree(partial)
    barrier()
    return last


def training_args(cfg: TeacherConfig, out: Path, *, epochs: int, has_val: bool, **own: Any) -> TrainingArguments:
    """The arguments every fine-tuned teacher takes; `own` adds or overrides the teacher's own (its learning
    rate, schedule, warm-up, label smoothing)."""
    distributed = world()[1] > 1
    common: dict[str, Any] = {
        "output_dir": str(out),
        "per_device_train_batch_size": cfg.batch_size,
        "per_device_eval_batch_size": cfg.eval_batch_size,
        "num_train_epochs": epochs,
        "max_steps": cfg.max_steps if cfg.max_steps is not None else -1,
        "eval_strategy": "epoch" if has_val else "no",
        "save_strategy": "epoch",
        "save_total_limit": 2,  # with load_best_model_at_end the best is kept beside the latest
        "load_best_model_at_end": has_val,
        "metric_for_best_model": "accuracy" if has_val else None,
        "greater_is_better": True if has_val else None,
        "logging_strategy": "steps",
        "logging_steps": cfg.logging_steps,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "report_to": "none",
        "disable_tqdm": True,
        "log_level": "warning",
        "log_level_replica": "error",
        "dataloader_num_workers": 0,
        "dataloader_pin_memory": torch.cuda.is_available(),
        "remove_unused_columns": False,
        # Without GPUs, `use_cpu` is what makes accelerate run several torchrun processes as one DDP job
        # (MULTI_CPU, gloo): otherwise each process trains a model of its own on its shard of the data.
        # With GPUs the Trainer takes NCCL.
        "use_cpu": not torch.cuda.is_available(),
        "ddp_backend": "gloo" if distributed and not torch.cuda.is_available() else None,
    }
    return TrainingArguments(**(common | own))


def total_steps(cfg: TeacherConfig, epochs: int, steps_per_epoch: int) -> int:
    return cfg.max_steps if cfg.max_steps is not None else epochs * steps_per_epoch


@dataclass
class Fitted:
    trainer: Trainer
    result: TrainOutput
    seconds_per_step: float | None
    resumed_from: str | None


def fit(
    model: PreTrainedModel,
    args: TrainingArguments,
    *,
    seed: int,
    collator: Callable[[list[dict[str, Any]]], dict[str, Any]],
    train_ds: Any,
    val_ds: Any,
    processing_class: Any,
    reporter: Reporter,
    last: str | None,
    what: str,
    callbacks: Sequence[TrainerCallback] = (),
    optimizers: tuple[Any, Any] = (None, None),
) -> Fitted:
    """Train (or resume from `last`) with progress through the Reporter and a parameter checksum each epoch."""
    # The models' losses are means over their batch and ignore `num_items_in_batch`. Left to guess from the
    # `**kwargs` of `forward`, the Trainer assumes otherwise and multiplies the loss by the world size under
    # DDP: gradients twice too large on two processes.
    model.accepts_loss_kwargs = False
    set_seed(seed)
    timer = StepTimer()
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        processing_class=processing_class,
        compute_metrics=accuracy,
        callbacks=[EpochChecksums(), ReportProgress(reporter), timer, *callbacks],
        optimizers=optimizers,
    )
    trainer.remove_callback(PrinterCallback)  # it prints every log dict; progress goes through the Reporter
    if last is not None:
        reporter.log(f"resuming {what} from {Path(last).name}")
    result = trainer.train(resume_from_checkpoint=last)
    per_step = round(float(np.mean(timer.seconds)), 4) if timer.seconds else None
    return Fitted(trainer, result, per_step, Path(last).name if last else None)


def history(fitted: Fitted, source: str, steps_per_epoch: int, splits: dict[str, Any]) -> dict[str, Any]:
    """The curves, what was trained and how long, and the accuracy on each split given (None: skipped)."""
    trainer = fitted.trainer
    model = trainer.model
    assert isinstance(model, PreTrainedModel)
    best = trainer.state.best_model_checkpoint
    out: dict[str, Any] = history_of(trainer.state) | {
        "fine_tuned": True,
        "source": source,
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "world_size": world()[1],
        "steps": trainer.state.global_step,
        "steps_per_epoch": steps_per_epoch,
        "resumed_from": fitted.resumed_from,
        "train_seconds": round(fitted.result.metrics["train_runtime"], 2),
        "seconds_per_step": fitted.seconds_per_step,
        "best_checkpoint": Path(best).name if best else None,
        "final_param_sha256": parameter_checksum(model),
    }
    for name, ds in splits.items():
        if ds is not None:
            out[f"{name}_accuracy"] = trainer.evaluate(ds, metric_key_prefix=name)[f"{name}_accuracy"]
    return out


def finish(fitted: Fitted, ckpt_dir: Path, store: Callable[[], None]) -> None:
    """Process zero stores the result (`store`) and deletes the checkpoints, which were only for resuming."""
    if fitted.trainer.is_world_process_zero():
        store()
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    barrier()
