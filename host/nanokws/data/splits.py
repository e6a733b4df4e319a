"""Speaker-disjoint, stable splits: a speaker's split is a function of its id alone, as in Speech Commands.

Adding speakers or clips never moves an existing speaker to another split, and the seed plays no part.
"""

from __future__ import annotations

import hashlib

from nanokws.config import SplitConfig


def split_of(speaker: str, config: SplitConfig) -> str:
    digest = hashlib.sha1(speaker.encode("utf-8")).hexdigest()
    percent = int(digest[:8], 16) / 2**32 * 100.0
    if percent < config.validation_percent:
        return "validation"
    if percent < config.validation_percent + config.test_percent:
        return "test"
    return "train"


def gsc_hash_name(file_name: str) -> str:
    """The part of a Speech Commands file name that identifies the speaker (`<speaker>_nohash_<n>.wav`)."""
    stem = file_name.rsplit("/", 1)[-1]
    if "_nohash_" in stem:
        return stem.split("_nohash_", 1)[0]
    return stem.rsplit(".", 1)[0]
