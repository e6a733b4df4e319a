"""Full-integer int8 conversion of a Keras student (int8 input and output), with our metadata attached."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from nanokws.tflite.metadata import with_metadata


def full_int8(model: Any, representative: Iterable[np.ndarray], *, per_channel_dense: bool = True) -> bytes:
    """Convert any Keras model to a full-int8 flatbuffer (int8 input and output).

    `representative` yields single input samples (no batch axis), in a fixed order for reproducible bytes.
    TF 2.21 quantizes Dense layers per channel; `per_channel_dense=False` gives the per-tensor weights older
    converters wrote.
    """
    import tensorflow as tf

    def samples() -> Iterator[list[np.ndarray]]:
        for x in representative:
            yield [np.asarray(x, dtype=np.float32)[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel_quantization_for_dense_layers = not per_channel_dense
    return converter.convert()


def to_int8_tflite(logits_model: Any, representative: np.ndarray, metadata: dict[str, Any]) -> bytes:
    """Convert `logits_model` (+ softmax, static batch of 1) to a full-int8 flatbuffer with our metadata.

    `representative`: [N, frames, coeffs] float features from the training split; they fix the activation
    ranges, so they are taken in a fixed order for reproducible bytes.
    """
    import keras

    from nanokws.student.models import with_softmax

    # Layer and tensor names carry per-session counters ("conv2d_7"); they end up in the flatbuffer, so the
    # same model converted after other models would give other bytes. Reset them first.
    weights = logits_model.get_weights()
    keras.utils.clear_session()
    deploy = with_softmax(logits_model, batch_size=1, weights=weights)
    return with_metadata(full_int8(deploy, (x[..., None] for x in representative)), metadata)
