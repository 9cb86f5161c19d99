"""The inspector function's work: fetch an uploaded model file, prove it loads and runs, and store it immutably.

The verified local copy is what gets stored (under its sha256), so a second PUT to the upload's
still-valid URL cannot swap the registered file. A model is refused when it keeps tensor data in
external files (it could read files beside it), when it does not load, and when it does not run once on a
generated example within the registration time limit (a model that spins forever is refused here, not
found out by every prediction).
"""

import tempfile
from pathlib import Path
from typing import Protocol

from shared.registry.inspector_contract import Accepted, InspectRequest, Rejected, TensorSpecWire
from shared.registry.text_archives import archive_format
from shared.runtimes.artifacts import sha256_of
from shared.runtimes.base import TIMEOUT, ModelFailure, settled
from shared.runtimes.external_data import UnreadableModelError, has_external_data
from shared.runtimes.onnx import NON_FINITE, OnnxRuntime, UnsupportedModelError
from shared.runtimes.text_checks import TextModelRefusedError, inspect_text_archive

ARTIFACT_CONTENT_TYPE = "application/octet-stream"
ARCHIVE_CONTENT_TYPES = {"tar.gz": "application/gzip", "zip": "application/zip"}
NOT_A_MODEL = "The file is not an ONNX model this runtime can load."
EXTERNAL_DATA = (
    "The model keeps tensor data in external files; save it with every tensor inside the .onnx file "
    "(onnx.save_model(model, path, save_as_external_data=False))."
)


class ArtifactObjects(Protocol):
    def download(self, key: str, destination: Path) -> None: ...

    def upload(self, source: Path, key: str, content_type: str) -> None: ...


def inspect_artifact(
    request: InspectRequest, objects: ArtifactObjects, scratch: Path, run_seconds: float
) -> Accepted | Rejected:
    """``run_seconds`` bounds the trial run on a generated example."""
    with tempfile.TemporaryDirectory(dir=scratch) as directory:
        local = Path(directory) / "model.onnx"
        objects.download(request.upload_key, local)
        size = local.stat().st_size
        if size != request.size:
            return Rejected(reason=f"the file is {size} bytes, but the upload declared {request.size}")
        if request.text is not None:
            return _inspect_text(request, local, objects, run_seconds)
        try:
            if has_external_data(local):
                return Rejected(reason=EXTERNAL_DATA)
            runtime = OnnxRuntime(local)
        except UnreadableModelError:
            return Rejected(reason=NOT_A_MODEL)
        except UnsupportedModelError as exc:
            return Rejected(reason=str(exc))
        trial = _trial_run(runtime, run_seconds)
        if trial is not None:
            return Rejected(reason=trial)
        sha256 = sha256_of(local)
        location = f"{request.destination_prefix}{sha256}.onnx"
        objects.upload(local, location, ARTIFACT_CONTENT_TYPE)
    return Accepted(
        sha256=sha256,
        size=size,
        location=location,
        inputs=[TensorSpecWire.of(spec) for spec in runtime.inputs],
        outputs=[TensorSpecWire.of(spec) for spec in runtime.outputs],
    )


def _inspect_text(
    request: InspectRequest, local: Path, objects: ArtifactObjects, run_seconds: float
) -> Accepted | Rejected:
    """A text model's archive: every check of ``shared.runtimes.text_checks``; stored as it was checked."""
    assert request.text is not None
    data = local.read_bytes()
    try:
        spec = inspect_text_archive(data, request.text, run_seconds)
    except TextModelRefusedError as refused:
        return Rejected(reason=str(refused))
    found = archive_format(data[:4])
    assert found is not None  # the archive was read
    sha256 = sha256_of(local)
    location = f"{request.destination_prefix}{sha256}.{found}"
    objects.upload(local, location, ARCHIVE_CONTENT_TYPES[found])
    return Accepted(sha256=sha256, size=len(data), location=location, inputs=[], outputs=[], text=spec)


def _trial_run(runtime: OnnxRuntime, seconds: float) -> str | None:
    """Why the model cannot be served, judged by one run on a generated example; None if it ran.

    A non-finite output is the example's matter, not the model's, and passes."""
    [outcome] = runtime.predict([runtime.example()], timeout=seconds)
    result = settled(outcome)  # its only input: a stop is its own timeout
    if not isinstance(result, ModelFailure) or result == NON_FINITE:
        return None
    what = "a generated example (ones, every dynamic dimension of size 1)"
    if result.code == TIMEOUT:
        return f"it did not finish a run on {what} within {seconds:g} s"
    return f"it failed to run on {what}"
