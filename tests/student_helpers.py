"""An easy twelve-class task for student training tests: each class is noise around its own level."""

from __future__ import annotations

import numpy as np

from nanokws.student.train import StudentData


def easy_student_data(n: int = 384, classes: int = 12) -> StudentData:
    """n clips of 49x10 features, a confident teacher, the first 24 clips as validation."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % classes
    x = rng.standard_normal((n, 49, 10)).astype(np.float32) * 0.3 + y[:, None, None] * 0.5
    teacher = (np.eye(classes)[y] * 6.0).astype(np.float32)
    return StudentData(x, y, teacher, x[:24], y[:24], np.zeros(10, np.float32))
