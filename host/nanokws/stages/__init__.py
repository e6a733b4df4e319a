"""Stages of the pipeline: each takes a config and a run directory and returns what it wrote."""
