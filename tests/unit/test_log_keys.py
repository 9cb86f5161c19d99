"""Log keys are set per invocation (Powertools' thread-safe keys), never in the logger's process-wide keys,
which every function of the local stack shares (tests/integration/test_local_logs.py shows the effect)."""

import re

from tools.template import ROOT

# The Logger's methods that write its process-wide keys.
PROCESS_WIDE = re.compile(
    r"\blogger\.(inject_lambda_context|append_keys|set_correlation_id|structure_logs|append_context_keys)\b"
)


def test_no_code_writes_the_loggers_process_wide_keys() -> None:
    sources = [*(ROOT / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PROCESS_WIDE.search(line)
    ]
    assert found == [], "use shared.kernel.observability: logged_invocation, append_log_keys, set_correlation_id"
