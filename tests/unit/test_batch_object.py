"""The public batch object: OpenAI's times in Unix seconds, the one final time named after the final status,
file ids only for final files with lines, errors as a list object."""

import pytest

from shared.batches.models import BatchStatus, LineProblem, RequestCounts
from shared.representations import BatchOut
from tests.support.resources import a_batch

CREATED = "2026-11-21T10:00:00.750Z"  # 1795255200.75
ENDED = "2026-11-21T11:00:00.999Z"
ENDED_AT = {"completed_at", "failed_at", "expired_at", "cancelled_at"}


def _presign(key: str) -> str:
    return f"https://bucket.example/{key}?X-Amz-Signature=x"


@pytest.mark.parametrize(
    ("status", "named"),
    [
        (BatchStatus.COMPLETED, "completed_at"),
        (BatchStatus.FAILED, "failed_at"),
        (BatchStatus.EXPIRED, "expired_at"),
        (BatchStatus.CANCELED, "cancelled_at"),
    ],
)
def test_a_final_batch_shows_its_end_under_its_status_s_name_in_unix_seconds(status: BatchStatus, named: str) -> None:
    batch = a_batch(status=status, created_at=CREATED, completed_at=ENDED)

    wire = BatchOut.of(batch, _presign).model_dump(mode="json")

    assert (wire["object"], wire["status"], wire["created_at"]) == ("batch", status.value, 1795255200)
    assert {name: wire[name] for name in ENDED_AT} == {name: 1795258800 if name == named else None for name in ENDED_AT}


def test_the_file_ids_are_shown_once_final_and_only_for_files_with_lines() -> None:
    files = {"output_file_id": "file_out", "error_file_id": "file_err", "output_key": "o", "errors_key": "e"}
    running = a_batch(status=BatchStatus.FINALIZING, counts=RequestCounts(3, 3, 0), **files)
    done = a_batch(status=BatchStatus.COMPLETED, counts=RequestCounts(3, 3, 0), **files)

    before = BatchOut.of(running, _presign)
    after = BatchOut.of(done, _presign)

    assert (before.output_file_id, before.error_file_id) == (None, None)
    assert (after.output_file_id, after.error_file_id) == ("file_out", None)


def test_errors_are_openai_s_list_object_with_null_line_for_the_whole_file() -> None:
    problems = (LineProblem(0, "timeout", "Too slow."), LineProblem(7, "invalid_url", "Wrong url.", param="url"))

    wire = BatchOut.of(a_batch(status=BatchStatus.FAILED, errors=problems), _presign).model_dump(mode="json")
    clean = BatchOut.of(a_batch(), _presign)

    assert wire["errors"] == {
        "object": "list",
        "data": [
            {"code": "timeout", "message": "Too slow.", "param": None, "line": None},
            {"code": "invalid_url", "message": "Wrong url.", "param": "url", "line": 7},
        ],
    }
    assert clean.errors is None
