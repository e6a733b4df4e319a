"""Trainer callbacks of the teacher stage: progress through the Reporter, step timing, weight checksums."""

from __future__ import annotations

import time
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from nanokws.progress import Reporter, Task
from nanokws.teacher.models import parameter_checksum


class ReportProgress(TrainerCallback):
    """Training steps, and each epoch's validation accuracy, through the stage's Reporter (process zero only)."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.task: Task | None = None
        self.done = 0

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        if state.is_world_process_zero:
            self.task = self.reporter.task("training the teacher", state.max_steps)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        if self.task is not None:
            self.task.advance(state.global_step - self.done)  # after a resume, the steps already done at once
            self.done = state.global_step

    def on_evaluate(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        metrics: dict[str, float] | None = None,
        **kw: Any,
    ) -> None:
        if state.is_world_process_zero and metrics and "eval_accuracy" in metrics:
            self.reporter.log(
                f"teacher epoch {state.epoch or 0:.0f}: validation accuracy {metrics['eval_accuracy']:.3f}, "
                f"loss {metrics['eval_loss']:.3f}"
            )


class StepTimer(TrainerCallback):
    """Wall time of each optimisation step (forward, backward, update), without evaluation or saving."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        self._start = time.perf_counter()

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any) -> None:
        self.seconds.append(time.perf_counter() - self._start)


class EpochChecksums(TrainerCallback):
    """Adds a checksum of the weights to the log history at every epoch's end.

    It is saved with each checkpoint (`trainer_state.json`, so it survives a resume) and ends up in
    `history.json`. Under DDP every process computes its own: equal checksums show that the processes
    trained one model in step.
    """

    def on_epoch_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        model: torch.nn.Module | None = None,
        **kw: Any,
    ) -> None:
        if model is not None:
            state.log_history.append(
                {
                    "epoch": round(state.epoch or 0.0, 4),
                    "step": state.global_step,
                    "param_sha256": parameter_checksum(model),
                }
            )
