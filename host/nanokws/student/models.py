"""The DS-CNN family (Hello Edge S/M/L, MLPerf Tiny's reference) as Keras models that output logits.

Every model pools with `AveragePooling2D` over the whole feature map rather than `GlobalAveragePooling2D`:
the converter turns the latter into MEAN, which LiteRT's reference kernels and TFLM round differently in the
last bit (DESIGN.md §3); AVERAGE_POOL_2D agrees bit for bit. For the same reason the classifier is a 1x1
convolution rather than a Dense layer (see `build`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import keras
import numpy as np
from keras import layers, ops

from nanokws.errors import ConfigError
from nanokws.frontend import dct_rows

# Keras' default 0.99 needs thousands of steps before the moving statistics match the raw MFCC's large
# c0; small datasets train a few hundred steps, and inference would then see stale statistics.
BN_MOMENTUM = 0.9


@dataclass(frozen=True)
class DsCnnSpec:
    """A first 10x4 convolution (stride 2) then `blocks` depthwise-separable blocks of `channels`.

    `envelope` > 0: before them, a fixed (untrained) layer turns each frame's cepstral coefficients back into
    the smooth log-mel envelope they describe, sampled at `envelope` points across the mel band, so that the
    convolutions slide along frequency as they do along time: a voice whose formants sit a little higher then
    gives the same features a little higher, which the pooling over the whole map then forgives."""

    channels: int
    blocks: int
    first_dropout: float
    final_dropout: float
    description: str
    envelope: int = 0


FAMILY: dict[str, DsCnnSpec] = {
    "ds_cnn_s": DsCnnSpec(64, 4, 0.2, 0.4, "Hello Edge DS-CNN S: 64 channels, 4 blocks"),
    "ds_cnn_m": DsCnnSpec(172, 4, 0.2, 0.4, "Hello Edge DS-CNN M: 172 channels, 4 blocks"),
    "ds_cnn_l": DsCnnSpec(276, 5, 0.2, 0.4, "Hello Edge DS-CNN L: 276 channels, 5 blocks"),
    # MLPerf Tiny's reference keyword spotter (about 23.8 K parameters with batch norm folded).
    "mlperf_ds_cnn": DsCnnSpec(64, 4, 0.2, 0.4, "MLPerf Tiny reference DS-CNN (as DS-CNN S, MLPerf's dropout)"),
}


# Any other width and depth, for trading accuracy against MACs: `ds_cnn_<channels>x<blocks>` (ds_cnn_64x4 is S).
_CUSTOM = re.compile(r"ds_cnn_(\d+)x(\d+)")
# Any of them on the cepstral envelope (`ds_cnn_s_env20`: DS-CNN S on a 20-point envelope).
_ENVELOPE = re.compile(r"(.+)_env(\d+)")


def spec_for(name: str) -> DsCnnSpec:
    """A family member by name, or a custom width and depth (`ds_cnn_80x4`), either on the envelope
    (`ds_cnn_s_env20`)."""
    envelope = _ENVELOPE.fullmatch(name)
    if envelope and 4 <= int(envelope[2]) <= 128 and not _ENVELOPE.fullmatch(envelope[1]):
        base = spec_for(envelope[1])
        points = int(envelope[2])
        return replace(base, envelope=points, description=f"{base.description}, on a {points}-point envelope")
    if name in FAMILY:
        return FAMILY[name]
    custom = _CUSTOM.fullmatch(name)
    if custom and 8 <= int(custom[1]) <= 512 and 1 <= int(custom[2]) <= 8:
        channels, blocks = int(custom[1]), int(custom[2])
        return DsCnnSpec(channels, blocks, 0.2, 0.4, f"DS-CNN: {channels} channels, {blocks} blocks")
    raise ConfigError(
        f"unknown student model {name!r}",
        hint=f"choose from {', '.join(FAMILY)}, or ds_cnn_<channels>x<blocks> (8-512 channels, 1-8 blocks), "
        "either with _env<points> (4-128) to run on the cepstral envelope",
    )


def envelope_matrix(coefficients: int, points: int) -> np.ndarray:
    """[coefficients, points]: frame @ matrix is the log-mel envelope that the first `coefficients` of the
    front end's orthonormal DCT-II describe, at `points` equally spaced places across the mel bands: the same
    cosines read at a size of `points` rather than n_mels (the centres of `points` equal stretches of the
    band), scaled so that the first coefficient's row is 1/sqrt(2) whatever the size; the batch norm after
    the first convolution takes the rest of the scale."""
    return (dct_rows(coefficients, points) * np.sqrt(points / 2.0)).astype(np.float32)


@keras.saving.register_keras_serializable(package="nanokws")
class MixStyle(layers.Layer):
    """MixStyle (Zhou et al., ICLR 2021), training only: with probability `probability` a batch's feature
    maps are normalised per sample and channel (over time and frequency) and given statistics mixed with
    those of another sample of the batch, lambda ~ Beta(alpha, alpha). In the first layers those statistics
    are the voice and the channel more than the word, so mixing them makes voices the student never heard.
    At inference it is the identity; the exported model is built without it (weights are the same)."""

    def __init__(self, probability: float, alpha: float = 0.1, seed: int | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.probability, self.alpha, self.seed = probability, alpha, seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, x, training: bool = False):  # noqa: ANN001, ANN201 - Keras tensors
        if not training:
            return x
        mu = ops.stop_gradient(ops.mean(x, axis=(1, 2), keepdims=True))
        sigma = ops.stop_gradient(ops.sqrt(ops.var(x, axis=(1, 2), keepdims=True) + 1e-6))
        batch = ops.shape(x)[0]
        lam = keras.random.beta((batch, 1, 1, 1), self.alpha, self.alpha, seed=self.generator)
        other = keras.random.shuffle(ops.arange(batch), seed=self.generator)
        mixed_mu = lam * mu + (1.0 - lam) * ops.take(mu, other, axis=0)
        mixed_sigma = lam * sigma + (1.0 - lam) * ops.take(sigma, other, axis=0)
        mixed = (x - mu) / sigma * mixed_sigma + mixed_mu
        apply = keras.random.uniform((), seed=self.generator) < self.probability
        return ops.where(apply, mixed, x)

    def get_config(self) -> dict[str, object]:
        return {**super().get_config(), "probability": self.probability, "alpha": self.alpha, "seed": self.seed}


def build(
    name: str,
    frames: int,
    coefficients: int,
    classes: int,
    *,
    batch_size: int | None = None,
    mixstyle: float = 0.0,
    mixstyle_alpha: float = 0.1,
    seed: int | None = None,
) -> keras.Model:
    """A DS-CNN by name; `batch_size=1` gives the static-shape twin used for conversion (DESIGN.md §3).
    `mixstyle` > 0 adds training-only MixStyle layers after the first convolution and the first block
    (the training twin; its weights are those of the model without them, in the same order)."""
    spec = spec_for(name)
    inputs = keras.Input(shape=(frames, coefficients, 1), batch_size=batch_size, name="mfcc")
    x = inputs
    if spec.envelope:
        # a 1x1 convolution over the coefficients as channels (CONV_2D, which TFLM and LiteRT round alike)
        weights = envelope_matrix(coefficients, spec.envelope)[None, None]
        x = layers.Reshape((frames, 1, coefficients))(x)
        x = layers.Conv2D(
            spec.envelope, (1, 1), use_bias=False, trainable=False, name="envelope",
            kernel_initializer=keras.initializers.Constant(weights),
        )(x)  # fmt: skip
        x = layers.Reshape((frames, spec.envelope, 1))(x)
    x = layers.Conv2D(spec.channels, (10, 4), strides=(2, 2), padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU()(x)
    if mixstyle > 0:
        x = MixStyle(mixstyle, mixstyle_alpha, seed=seed)(x)
    x = layers.Dropout(spec.first_dropout)(x)
    for block in range(spec.blocks):
        x = layers.DepthwiseConv2D((3, 3), padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
        x = layers.Conv2D(spec.channels, (1, 1), use_bias=False)(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.ReLU()(x)
        if mixstyle > 0 and block == 0:
            x = MixStyle(mixstyle, mixstyle_alpha, seed=None if seed is None else seed + 1)(x)
    x = layers.Dropout(spec.final_dropout)(x)
    x = layers.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    # The classifier is a 1x1 convolution, not Dense: LiteRT 2.3's reference FULLY_CONNECTED requantizes
    # with single rounding and TFLM with double rounding, so they differ by 1 LSB at ties (measured here on
    # about 3% of clips); CONV_2D rounds alike in both. The converter makes it CONV_2D + RESHAPE.
    x = layers.Conv2D(classes, (1, 1), name="logits")(x)
    logits = layers.Reshape((classes,))(x)
    return keras.Model(inputs, logits, name=name)


def with_softmax(logits_model: keras.Model, batch_size: int | None = 1, weights: list | None = None) -> keras.Model:
    """The deployable model: same weights, static batch, probabilities out (int8 output in the .tflite)."""
    frames, coefficients = int(logits_model.input.shape[1]), int(logits_model.input.shape[2])
    twin = build(logits_model.name, frames, coefficients, int(logits_model.output.shape[-1]), batch_size=batch_size)
    twin.set_weights(logits_model.get_weights() if weights is None else weights)
    return keras.Model(twin.input, layers.Softmax(name="probabilities")(twin.output), name=logits_model.name)


def with_hint_heads(
    logits_model: keras.Model, *, hint_components: int | None, segments: tuple[int, int] | None
) -> keras.Model:
    """The training twin for hint distillation: the same layers, plus training-only outputs after the logits
    (the model itself when there are none). Only the logits model is ever exported.

    - `hint_components`: a linear map from the pooled features to the teacher's hint components;
    - `segments` (T, components): the last feature map averaged over T equal stretches of time (and over
      frequency), each mapped linearly to the teacher's components for that stretch: [T, components].
    """
    outputs = [logits_model.output]
    index = next(i for i, layer in enumerate(logits_model.layers) if isinstance(layer, layers.AveragePooling2D))
    if hint_components is not None:
        pooled = logits_model.layers[index].output
        outputs.append(layers.Dense(hint_components, name="hint")(layers.Flatten()(pooled)))
    if segments is not None:
        steps, components = segments
        features = logits_model.layers[index - 1].input  # the last block's output, before the final dropout
        frames, bins, channels = (int(d) for d in features.shape[1:])
        if frames < steps:
            raise ConfigError(f"the student's feature map has {frames} time steps, fewer than {steps} hint segments")
        span = frames // steps  # the last frames % steps steps (under one span) are left out
        x = layers.AveragePooling2D(pool_size=(span, bins), strides=(span, bins))(features)
        x = layers.Reshape((steps, channels))(x)
        outputs.append(layers.Dense(components, name="segments")(x))
    if len(outputs) == 1:
        return logits_model
    return keras.Model(logits_model.input, outputs, name=f"{logits_model.name}_hints")
