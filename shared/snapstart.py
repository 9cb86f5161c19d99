"""Lambda SnapStart runtime hooks: prime the container before its snapshot, refresh what must not be
shared after each restore.

One snapshot is restored into many containers, so after a restore: the ``random`` module is re-seeded
(webhook retry jitter must differ between containers; ids and secrets come from ``os.urandom`` and
are fresh anyway), and AWS clients and the services holding them are rebuilt (their connections and
credentials belong to the container that was snapshotted). Before the snapshot the AWS clients are
created once, so botocore's service models and endpoint rules are loaded into the snapshot and the
clients rebuilt after restore come from that cache.

``snapshot_restore_py`` exists only in Lambda's python3.12+ runtimes; elsewhere (tests, the local stack)
:func:`register` does nothing.
"""

import random
from types import ModuleType


def register() -> bool:
    """Register the hooks with Lambda's runtime; False where there is no SnapStart runtime."""
    runtime = _snapshot_runtime()
    if runtime is None:
        return False
    runtime.register_before_snapshot(prime)
    runtime.register_after_restore(refresh)
    return True


def prime() -> None:
    from shared.adapters.clients import dynamodb_client, s3_client, sqs_client  # boto3 only where SnapStart runs

    for make_client in (dynamodb_client, sqs_client, s3_client):
        make_client()


def refresh() -> None:
    from shared.wiring import reset

    random.seed()
    reset()


def _snapshot_runtime() -> ModuleType | None:
    try:
        import snapshot_restore_py  # type: ignore[import-not-found]  # only inside Lambda's runtime
    except ImportError:
        return None
    runtime: ModuleType = snapshot_restore_py
    return runtime
