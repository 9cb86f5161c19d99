"""Find a CPython 3.12 (Lambda's python3.12 runtime) on this machine: the one lookup of the project.

    python3 -m tools.python312    # prints its path, or nothing (exit 0 either way)

Tried in order: ``$LAMBDA_PYTHON``, ``python3.12`` on PATH, then pyenv's 3.12 installations, newest
first. Each candidate is run (``-c``) and kept only if it really is 3.12: a pyenv shim for a version
that is installed but not selected is on PATH yet does not run. Used by the layers Makefile (build-time
bytecode), the built-artifact tests and the built cold-start benchmark. Standard library only: the
Makefile runs it with whatever ``python3`` drives the build.
"""

import glob
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path


def version_of(executable: str) -> tuple[int, int] | None:
    """``(major, minor)`` of the interpreter, or None when it does not run."""
    try:
        completed = subprocess.run(
            [executable, "-I", "-S", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    major, minor = completed.stdout.split()
    return int(major), int(minor)


@cache
def python312() -> str | None:
    """The path of a CPython 3.12, or None when this machine has none."""
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates = [
        os.environ.get("LAMBDA_PYTHON"),
        shutil.which("python3.12"),
        *sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.12*", "bin", "python3.12")), reverse=True),
    ]
    for candidate in candidates:
        if candidate and version_of(candidate) == (3, 12):
            return candidate
    return None


if __name__ == "__main__":
    sys.stdout.write(python312() or "")
