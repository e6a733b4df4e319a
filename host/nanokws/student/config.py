"""Student training settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudentConfig:
    model: str = "ds_cnn_s"
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 3e-3
    patience: int = 10  # early stopping on validation accuracy
    distill: bool = True
    alpha: float = 0.5  # weight of the hard-label loss; 1 - alpha goes to the teacher
    temperature: float = 3.0
    time_shift_frames: int = 4  # +-80 ms
    time_masks: int = 2
    time_mask_frames: int = 6
    freq_masks: int = 1
    freq_mask_coefficients: int = 2
