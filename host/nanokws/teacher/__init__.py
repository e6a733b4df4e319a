"""The teacher stage: a large audio model trained or loaded once per run, whose logits the student learns from.

A teacher is anything that satisfies `base.Teacher` (a name, a fingerprint, logits for a batch of clips);
`wav2vec2` provides the default one, trained with the HuggingFace `Trainer`. Importing this package does not
import torch: the heavy modules are imported by whoever uses them.
"""

from __future__ import annotations

from nanokws.teacher.base import Teacher, TeacherError
from nanokws.teacher.config import TeacherConfig

__all__ = ["Teacher", "TeacherConfig", "TeacherError"]
