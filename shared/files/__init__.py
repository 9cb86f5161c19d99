"""Files: JSONL a batch reads and writes, in OpenAI's file model (``POST /v1/files``, completed uploads,
batch output and error files)."""
