"""Model artifacts shipped with the package (built-in ONNX models)."""
