"""What the emulated IAM decided: every refusal, and (for the least-privilege report) what each role used.

Decisions are kept in memory for the process that judged them (the tests' in-process emulator) and,
when ``INFERGATE_IAM_AUDIT_DIR`` names folders (separated like ``PATH``), appended to
``<folder>/<pid>.jsonl`` in each, so other processes can read them: the end-to-end tests read their
local stack's refusals, ``make iam-report`` reads every call a function made across the suite. An
allowed call is written once per process and set of folders; a refusal every time.
"""

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

AUDIT_DIR_VARIABLE = "INFERGATE_IAM_AUDIT_DIR"


@dataclass(frozen=True)
class Decision:
    principal: str  # a function's logical id (its role's session name), or the operator's user name
    action: str
    resource: str
    allowed: bool
    reason: str = ""  # a refusal that is not IAM's: an expired or altered presigned URL

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "AccessDenied:"
        because = f" ({self.reason})" if self.reason else ""
        return f"{verdict} {self.principal} {self.action} on {self.resource}{because}"


_lock = threading.Lock()
_refusals: list[Decision] = []
_written: set[tuple[Decision | Path, ...]] = set()  # (an allowed decision, the folders it was written to)


def record(decision: Decision) -> None:
    folders = [Path(folder) for folder in os.environ.get(AUDIT_DIR_VARIABLE, "").split(os.pathsep) if folder]
    with _lock:
        if not decision.allowed:
            _refusals.append(decision)
        elif (decision, *folders) in _written:
            return
        else:
            _written.add((decision, *folders))
        for folder in folders:
            with (folder / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
                out.write(json.dumps(asdict(decision)) + "\n")


def take_refusals() -> list[Decision]:
    """The refusals recorded in this process since the last call, forgotten."""
    with _lock:
        taken = list(_refusals)
        _refusals.clear()
    return taken


def read_folder(folder: Path) -> Iterator[Decision]:
    """Every decision written to ``folder`` by any process."""
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield Decision(**json.loads(line))


def refusal_report(refusals: list[Decision]) -> str:
    return "IAM refused what AWS would refuse:\n" + "\n".join(f"  {refusal}" for refusal in refusals)
