"""Batches: JSONL files of many inputs for one model, with progress counts and result files."""
