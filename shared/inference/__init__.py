"""Synchronous inference: one request in, the model's output back in the same response."""
