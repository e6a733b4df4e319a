"""Datasets in the Speech Commands folder layout, each described by `data/manifest.jsonl`."""
