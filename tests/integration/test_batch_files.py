"""The S3 adapter for batch files on moto: streams, ranges, copies, and result files in parts."""

import boto3
import pytest

from shared.adapters.s3 import batch_files as module
from shared.settings import BucketSettings, settings
from shared.wiring import batch_files
from tools.provision import Stack


def _put(key: str, data: bytes) -> None:
    boto3.client("s3").put_object(Bucket=settings(BucketSettings).bucket_name, Key=key, Body=data)


def _get(key: str) -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=settings(BucketSettings).bucket_name, Key=key)["Body"].read())


def test_stream_range_and_copy_read_exactly_what_they_name(stack: Stack) -> None:
    _put("batches/t/b/in.jsonl", b"0123456789")
    files = batch_files()

    assert b"".join(files.stream("batches/t/b/in.jsonl", 4)) == b"456789"
    assert list(files.stream("batches/t/b/in.jsonl", 10)) == []  # at the end: nothing, not an error
    assert files.read_range("batches/t/b/in.jsonl", 2, 5) == b"234"
    files.copy("batches/t/b/in.jsonl", "batches/t/b/copy.jsonl")
    assert _get("batches/t/b/copy.jsonl") == b"0123456789"
    assert files.get("batches/t/b/missing") is None


def test_concatenate_writes_small_results_in_one_put_and_skips_missing_parts(stack: Stack) -> None:
    _put("p/1", b"a\n")
    _put("p/3", b"c\n")

    size = batch_files().concatenate(["p/1", "p/2", "p/3"], "out.jsonl")

    assert (size, _get("out.jsonl")) == (4, b"a\nc\n")


def test_concatenate_streams_large_results_as_a_multipart_upload(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "PART_SIZE", 5 * 1024 * 1024)  # S3's smallest part
    parts = [bytes([65 + n]) * (2 * 1024 * 1024) for n in range(6)]  # 12 MiB in 2 MiB parts
    for n, data in enumerate(parts):
        _put(f"p/{n}", data)

    size = batch_files().concatenate([f"p/{n}" for n in range(6)], "big.jsonl")

    assert size == 12 * 1024 * 1024
    assert _get("big.jsonl") == b"".join(parts)
