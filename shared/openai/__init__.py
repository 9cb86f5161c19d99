"""OpenAI's wire format, where both the API routes and the batches render it: the error object and the
embeddings API's request and answer (``POST /v1/embeddings`` and the lines of an OpenAI-dialect batch)."""
