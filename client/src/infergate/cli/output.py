"""What commands write: records (``key: value``), aligned tables, JSON documents and JSON lines.

With ``--json`` stdout carries exactly one JSON document per command, or one JSON document a line for
lists and result streams; messages for people always go to stderr.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from pydantic import BaseModel


def to_data(value: Any) -> Any:
    """A response model (or anything holding them) as plain JSON data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_data(value), ensure_ascii=False, separators=(",", ":"))


def text(value: Any) -> str:
    """One value as a table cell or record value."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(to_data(value), ensure_ascii=False, separators=(",", ":"))


def unix_time(value: Any) -> str:
    """Unix seconds (batch times) as UTC time."""
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return text(value)


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Mapping[str, Any]], Any]

    @classmethod
    def key(cls, name: str, header: str | None = None, show: Callable[[Any], str] = text) -> "Column":
        return cls(header or name.upper(), lambda row: show(row.get(name)))


class Output:
    def __init__(self, stdout: TextIO, stderr: TextIO, *, json_mode: bool) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.json_mode = json_mode

    def document(self, value: Any) -> None:
        """A value: compact JSON with ``--json``, indented JSON for people."""
        data = to_data(value)
        if self.json_mode:
            self.stdout.write(dumps(data) + "\n")
        else:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def record(self, value: Any, show: Mapping[str, Callable[[Any], str]] | None = None) -> None:
        """One object: its JSON with ``--json``, else aligned ``key: value`` lines."""
        data = to_data(value)
        if self.json_mode or not isinstance(data, Mapping):
            self.document(data)
            return
        width = max((len(k) for k in data), default=0) + 1
        for key, item in data.items():
            shown = (show or {}).get(key, text)(item)
            self.stdout.write(f"{key + ':':<{width}} {shown}\n")

    def rows(self, items: Iterable[Any], columns: Sequence[Column]) -> int:
        """A list: JSON lines (written as they come) with ``--json``, else an aligned table. Returns the count."""
        count = 0
        if self.json_mode:
            for item in items:
                self.stdout.write(dumps(item) + "\n")
                self.stdout.flush()
                count += 1
            return count
        cells = [[column.header for column in columns]]
        for item in items:
            data = to_data(item)
            cells.append([column.value(data) for column in columns])
            count += 1
        widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
        for row in cells:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            self.stdout.write("\n")
        return count

    def note(self, message: str) -> None:
        """A message for people, on stderr (never on stdout, so ``--json`` output stays parseable)."""
        self.stderr.write(message + "\n")
        self.stderr.flush()
