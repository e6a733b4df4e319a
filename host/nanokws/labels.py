"""The 12 classes of Google Speech Commands v1 as keyword spotters use them, and the filler words."""

from __future__ import annotations

SILENCE = "_silence_"
UNKNOWN = "_unknown_"
BACKGROUND_NOISE_DIR = "_background_noise_"

KEYWORDS: tuple[str, ...] = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")

# The order the reference models (Hello Edge, MLPerf Tiny) use: silence, unknown, then the keywords.
LABELS: tuple[str, ...] = (SILENCE, UNKNOWN, *KEYWORDS)

# Speech Commands v1 words that are not keywords: the `_unknown_` class is drawn from these.
FILLER_WORDS: tuple[str, ...] = (
    "bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house", "marvin",
    "nine", "one", "seven", "sheila", "six", "three", "tree", "two", "wow", "zero",
)  # fmt: skip


def class_of(word: str, labels: tuple[str, ...] = LABELS) -> str:
    """Map a folder or word name to its class: a keyword stays itself, anything else is `_unknown_`."""
    if word in labels:
        return word
    return UNKNOWN
