"""nanokws: a host-side trainer and firmware generator for keyword spotting on microcontrollers."""

import os

# Set before TensorFlow or torch is first imported, by the CLI or by library users alike:
# - oneDNN reorders float sums, so the same seed and data would not give the same .tflite bytes;
# - TensorFlow's C++ start-up chatter is not for users;
# - spinning OpenMP threads slow torch ~35x when another process holds a core (measured on 2 cores).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
