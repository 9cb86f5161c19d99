"""The rules of files and uploads that need no storage: names, lifetimes, an upload's status in time."""

from dataclasses import replace
from datetime import timedelta

import pytest

from shared.files.models import InvalidFileError, filename_problem
from shared.files.service import file_expiry
from shared.uploads.models import Purpose, Upload, UploadStatus
from shared.uploads.service import file_id_of

WEEK = timedelta(days=7)


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("batch.jsonl", False),
        ("Données 2026 (v2).jsonl", False),
        ("x" * 255, False),
        ("x" * 256, True),
        ("", True),
        ("   ", True),
        ("a\tb", True),
        ("a\x00b", True),
        ("a\u200db", True),
        ("../a", True),
        ("a\\b", True),
    ],
)
def test_a_file_name_is_printable_bounded_and_no_path(name: str, refused: bool) -> None:
    assert (filename_problem(name) is not None) is refused


def test_a_file_lives_for_the_retention_or_less_if_asked_within_openai_s_bounds() -> None:
    assert file_expiry(1000, WEEK, None) == 1000 + 7 * 86_400
    assert file_expiry(1000, WEEK, 3600) == 1000 + 3600
    assert file_expiry(1000, WEEK, 30 * 86_400) == 1000 + 7 * 86_400  # capped
    for seconds in (3599, 30 * 86_400 + 1, 0, -1):
        with pytest.raises(InvalidFileError):
            file_expiry(1000, WEEK, seconds)


def test_a_pending_upload_is_expired_from_its_expires_at_and_a_finished_one_stays_as_it_is() -> None:
    upload = Upload("upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", "t", Purpose.BATCH_INPUT, "application/jsonl", 1, "k", 0, 3600)

    assert upload.status_at(3599) is UploadStatus.PENDING
    assert upload.status_at(3600) is UploadStatus.EXPIRED
    assert replace(upload, status=UploadStatus.COMPLETED).status_at(99_999) is UploadStatus.COMPLETED


def test_a_completed_upload_s_file_id_is_its_own_ulid() -> None:
    assert file_id_of("upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XK") == "file_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"
