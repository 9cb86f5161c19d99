"""RuntimeLoader: ONNX sessions cached per model version, bounded, and only from verified files."""

import errno
import gzip
import hashlib
import os
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from shared.inference.errors import InvalidInferRequestError
from shared.inference.oip import MAX_DECOMPRESSED_BYTES, decoded_body
from shared.registry.builtins import IRIS_ARTIFACT
from shared.registry.models import Artifact, ModelVersion
from shared.runtimes.artifacts import ArtifactFiles, ArtifactIntegrityError
from shared.runtimes.loader import RuntimeLoader, RuntimeUnavailableError
from tests.support.onnx_models import linear_model


class BucketDouble:
    """Artifacts by S3 key, and every download made."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.downloads: list[str] = []
        self.on_disk_before_download: list[list[str]] = []
        self.fail_after_bytes: int | None = None  # write this much, then fail as a full disk does

    def add(self, key: str, data: bytes) -> Artifact:
        self.objects[key] = data
        return Artifact(hashlib.sha256(data).hexdigest(), len(data), key)

    def download(self, key: str, destination: Path) -> None:
        self.downloads.append(key)
        self.on_disk_before_download.append(sorted(path.name for path in destination.parent.iterdir()))
        if self.fail_after_bytes is not None:
            destination.write_bytes(self.objects[key][: self.fail_after_bytes])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        destination.write_bytes(self.objects[key])


def _version(name: str, number: int, artifact: Artifact) -> ModelVersion:
    return ModelVersion(
        name, number, "onnx", {"type": "object"}, {"type": "object"}, "2026-11-21T00:00:00.000Z", artifact
    )


def test_a_session_is_built_once_per_version_and_reused(tmp_path: Path) -> None:
    bucket = BucketDouble()
    version = _version("linear", 1, bucket.add("artifacts/t/linear/a.onnx", linear_model([[2.0]], [1.0])))
    load = RuntimeLoader(ArtifactFiles(bucket, tmp_path))

    first = load(version)
    again = load(version)

    assert first is again
    assert bucket.downloads == ["artifacts/t/linear/a.onnx"]
    assert first.predict([{"x": [3.0]}]) == [{"y": [7.0]}]


def test_the_cache_evicts_the_least_recently_used(tmp_path: Path) -> None:
    bucket = BucketDouble()
    versions = [
        _version(f"m{i}", 1, bucket.add(f"artifacts/t/m{i}.onnx", linear_model([[float(i)]], [0.0]))) for i in range(3)
    ]
    load = RuntimeLoader(ArtifactFiles(bucket, tmp_path), max_sessions=2)

    load(versions[0])
    load(versions[1])
    load(versions[0])  # m0 is now the most recently used
    load(versions[2])  # evicts m1

    assert [name for name, _, _ in load.loaded] == ["m0", "m2"]
    assert bucket.downloads == ["artifacts/t/m0.onnx", "artifacts/t/m1.onnx", "artifacts/t/m2.onnx"]


def test_a_downloaded_file_is_deleted_once_its_session_is_built(tmp_path: Path) -> None:
    """The disk holds one artifact at most (the one being loaded), however many sessions the cache keeps: the
    function's ephemeral storage is bounded by the largest upload, not by ``MODEL_CACHE_MAX_BYTES``."""
    bucket = BucketDouble()
    versions = [
        _version(f"m{i}", 1, bucket.add(f"artifacts/t/m{i}.onnx", linear_model([[float(i)]], [1.0]))) for i in range(3)
    ]
    load = RuntimeLoader(ArtifactFiles(bucket, tmp_path), max_sessions=8)

    runtimes = [load(version) for version in versions]

    assert bucket.on_disk_before_download == [[], [], []]
    assert list(tmp_path.iterdir()) == []
    assert [name for name, _, _ in load.loaded] == ["m0", "m1", "m2"]
    assert runtimes[2].predict([{"x": [3.0]}]) == [{"y": [7.0]}]  # served from memory


def test_a_file_that_does_not_load_is_not_kept(tmp_path: Path) -> None:
    bucket = BucketDouble()
    version = _version("broken", 1, bucket.add("artifacts/t/broken.onnx", b"not an onnx graph"))
    load = RuntimeLoader(ArtifactFiles(bucket, tmp_path))

    with pytest.raises(RuntimeUnavailableError):
        load(version)

    assert list(tmp_path.iterdir()) == []


def test_a_download_cut_short_leaves_nothing_on_disk(tmp_path: Path) -> None:
    """A full /tmp (ENOSPC mid-download) fails that load only; its partial file does not stay to fill the disk."""
    bucket = BucketDouble()
    version = _version("linear", 1, bucket.add("artifacts/t/linear.onnx", linear_model([[2.0]], [1.0])))
    bucket.fail_after_bytes = 10
    load = RuntimeLoader(ArtifactFiles(bucket, tmp_path))

    with pytest.raises(RuntimeUnavailableError, match="No space left"):
        load(version)

    assert list(tmp_path.iterdir()) == []
    bucket.fail_after_bytes = None
    assert load(version).predict([{"x": [3.0]}]) == [{"y": [7.0]}]


def test_the_cache_is_bounded_by_artifact_bytes(tmp_path: Path) -> None:
    bucket = BucketDouble()
    small = _version("a", 1, bucket.add("a.onnx", linear_model([[1.0]], [0.0])))
    other = _version("b", 1, bucket.add("b.onnx", linear_model([[2.0]], [0.0])))
    assert small.artifact is not None
    load = RuntimeLoader(ArtifactFiles(bucket, tmp_path), max_sessions=8, max_bytes=small.artifact.size + 10)

    load(small)
    load(other)

    assert [name for name, _, _ in load.loaded] == ["b"]


def test_a_file_that_is_not_the_registered_one_is_never_loaded(tmp_path: Path) -> None:
    bucket = BucketDouble()
    artifact = bucket.add("artifacts/t/linear/a.onnx", linear_model([[2.0]], [1.0]))
    bucket.objects["artifacts/t/linear/a.onnx"] = linear_model([[3.0]], [1.0])  # same size, other bytes
    load = RuntimeLoader(ArtifactFiles(bucket, tmp_path))

    with pytest.raises(RuntimeUnavailableError, match="sha256"):
        load(_version("linear", 1, artifact))

    assert list(tmp_path.iterdir()) == []  # nothing kept
    assert load.loaded == []


def test_a_file_of_another_size_is_refused(tmp_path: Path) -> None:
    bucket = BucketDouble()
    artifact = bucket.add("k", linear_model([[2.0]], [1.0]))

    with pytest.raises(ArtifactIntegrityError, match="bytes"):
        ArtifactFiles(bucket, tmp_path).local_path(replace(artifact, size=artifact.size + 1))


def test_the_bundled_iris_artifact_is_verified_too(tmp_path: Path) -> None:
    files = ArtifactFiles(BucketDouble(), tmp_path)

    assert files.local_path(IRIS_ARTIFACT).name == "iris.onnx"
    with pytest.raises(ArtifactIntegrityError):
        files.local_path(replace(IRIS_ARTIFACT, sha256="0" * 64))
    files.discard(IRIS_ARTIFACT)  # bundled files are never deleted
    assert files.local_path(IRIS_ARTIFACT).exists()


def test_a_missing_bundled_file_makes_the_model_unavailable(tmp_path: Path) -> None:
    version = _version("ghost", 1, replace(IRIS_ARTIFACT, location="bundled:ghost.onnx"))

    with pytest.raises(RuntimeUnavailableError):
        RuntimeLoader(ArtifactFiles(BucketDouble(), tmp_path))(version)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("GZIP ", gzip.compress), (None, lambda b: b)],
)
def test_compressed_infer_bodies_are_inflated(encoding: str | None, compress: object) -> None:
    body = b'{"inputs": []}'

    assert decoded_body(compress(body), encoding) == body  # type: ignore[operator]


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        (b"not gzip", "gzip", "not valid gzip"),
        (b"x", "br", "must be gzip"),
        (gzip.compress(b"0" * (MAX_DECOMPRESSED_BYTES + 1)), "gzip", "larger than"),
    ],
)
def test_bad_or_oversized_compressed_bodies_are_refused(body: bytes, encoding: str, message: str) -> None:
    with pytest.raises(InvalidInferRequestError, match=message):
        decoded_body(body, encoding)
