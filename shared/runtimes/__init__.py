"""Model runtimes behind one small interface: load once per container, predict on a list of inputs.

Runtime modules may import heavy libraries (vaderSentiment, numpy, onnxruntime); they are imported
lazily by ``load_runtime`` so API functions never pay for them.
"""
