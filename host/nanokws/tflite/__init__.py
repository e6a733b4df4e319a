"""The int8 `.tflite` file: writing our metadata into it, reading it back, and the reference interpreters."""
