"""`TeacherConfig`: which teacher, the architecture of the from-scratch default, and how to train it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nanokws.config import SEED, dataclass_from_dict
from nanokws.errors import ConfigError

SCRATCH = "scratch"
WAV2VEC2_DIR = "teacher"  # the Wav2Vec2 teacher's directory in a run (teacher/wav2vec2.py)


@dataclass(frozen=True)
class TeacherConfig:
    """The teacher of a run.

    `source` is `whisper` (Whisper tiny.en's frozen encoder with a trained head: the offline default of
    `host train`, see teacher/whisper.py; `whisper:<dir or hub id>` for another CTranslate2 Whisper),
    `whisper-ft` (the same encoder fine-tuned, as transformers' `WhisperForAudioClassification`; see
    teacher/whisper_ft.py; `whisper-ft:<dir or hub id>` likewise),
    `scratch` (a small Wav2Vec2 built from the fields below and trained from nothing), a HuggingFace hub
    id, or a local directory holding `save_pretrained` output. A Wav2Vec2 model
    whose labels cover the run's labels (a keyword model such as `superb/wav2vec2-base-superb-ks`) is used
    as it is unless `fine_tune` is True; any other model gets a new head and is fine-tuned.

    The defaults are sized for the 2-core CPU budget of the default `host train`. Measured on the default
    synthetic data (2,691 training clips): 108 K parameters, 0.13 s a step of 32 clips, 30 epochs (2,550
    steps) in 6 min 5 s of training, 6 min 16 s for the whole stage with soft labels; validation accuracy
    0.34 (an unseen voice), test 0.63. 20 epochs: 4.5 min, 0.26 and 0.50. wav2vec2-base takes about 3 s a
    step of 8 clips here (1.8 s with its feature encoder frozen): fine-tuning it is for GPUs.
    """

    source: str = SCRATCH
    fine_tune: bool | None = None  # None: decided by the model (see above)

    # The from-scratch Wav2Vec2: a 7-layer convolutional feature encoder (20 ms frames) and a small
    # pre-norm transformer.
    conv_channels: int = 32
    conv_kernel: tuple[int, ...] = (10, 3, 3, 3, 3, 2, 2)
    conv_stride: tuple[int, ...] = (5, 2, 2, 2, 2, 2, 2)
    conv_activation: str = "gelu"
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 128
    pos_conv_kernel: int = 16
    pos_conv_groups: int = 4
    classifier_proj_size: int = 64
    dropout: float = 0.1
    mask_time_prob: float = 0.05  # SpecAugment-style time masking of the encoder features while training
    mask_time_length: int = 5

    # Training (the HuggingFace Trainer).
    epochs: int = 30
    max_steps: int | None = None  # overrides `epochs` when set
    batch_size: int = 32
    eval_batch_size: int = 64
    learning_rate: float | None = None  # None: 2e-3 from scratch, 3e-5 when fine-tuning a pretrained model
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    logging_steps: int = 10
    freeze_feature_encoder: bool = True  # pretrained models only; the usual practice, and faster (see above)
    seed: int = SEED

    # Whisper teachers (`whisper`, `whisper:<dir or hub id>`): the head trained on the frozen encoder.
    head_epochs: int = 60
    head_batch_size: int = 128
    head_learning_rate: float = 1e-3

    # `whisper-ft`: Whisper's encoder fine-tuned with a classification head (teacher/whisper_ft.py). The top
    # layer learns at `whisper_learning_rate`, each layer below at `whisper_layer_decay` times the one above
    # (the convolutions lowest), the head at `whisper_head_learning_rate`; cosine decay after warm-up. Each
    # training clip's log-mel gets `whisper_time_masks` time masks of up to `whisper_time_mask_frames` frames
    # and `whisper_freq_masks` masks of up to `whisper_freq_mask_bins` bands. Measured leave-one-engine-out
    # (held-out espeak-ng / festival / flite / Kokoro): 0.829 / 0.857 / 0.907 / 0.843, against 0.769 / 0.743 /
    # 0.828 / 0.819 for the frozen encoder; one learning rate of 1e-4 for the whole encoder was unstable. The
    # int8 students distilled from it score no better (mean 0.640, or 0.654 without smoothing at T = 1,
    # against 0.645), so the frozen encoder stays the default.
    whisper_epochs: int = 5
    whisper_learning_rate: float = 3e-5
    whisper_layer_decay: float = 0.8
    whisper_head_learning_rate: float = 1e-3
    whisper_label_smoothing: float = 0.1
    whisper_time_masks: int = 2
    whisper_time_mask_frames: int = 15
    whisper_freq_masks: int = 2
    whisper_freq_mask_bins: int = 12

    # Preprocessing: leading and trailing audio quieter than `trim_db` below the clip's loudest 25 ms is cut
    # (never below `min_trimmed_ms`), so clips have different lengths and are padded per batch with an
    # attention mask. Only for models whose feature extractor asks for attention masks; None: whole clips.
    trim_db: float | None = 40.0
    min_trimmed_ms: int = 300

    def __post_init__(self) -> None:
        if not self.source:
            raise ConfigError("the teacher source is empty", hint=f"use `{SCRATCH}`, a hub id or a local directory")
        if self.hidden_size % self.num_heads or self.hidden_size % self.pos_conv_groups:
            raise ConfigError(
                f"teacher hidden_size={self.hidden_size} must be a multiple of num_heads={self.num_heads} "
                f"and of pos_conv_groups={self.pos_conv_groups}"
            )
        if len(self.conv_kernel) != len(self.conv_stride) or not self.conv_kernel:
            raise ConfigError("teacher conv_kernel and conv_stride must have the same, non-zero length")
        if self.epochs < 1 or self.batch_size < 1 or (self.max_steps is not None and self.max_steps < 1):
            raise ConfigError("teacher epochs, batch_size and max_steps must be positive")
        if self.whisper_epochs < 1 or not 0.0 < self.whisper_layer_decay <= 1.0:
            raise ConfigError("teacher whisper_epochs must be positive and whisper_layer_decay in (0, 1]")

    @property
    def is_scratch(self) -> bool:
        return self.source == SCRATCH

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TeacherConfig:
        return dataclass_from_dict(cls, d)
