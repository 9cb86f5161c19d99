"""The moto stack an in-process benchmark runs its functions on."""

import os

from tools.enforcement import enforce_in_process, stop_enforcing_in_process
from tools.provision import Stack, function_environment, provision
from tools.template import load_template

MODEL_DIR = "/tmp/infergate-bench-models"  # noqa: S108 - a cache of downloaded model files, as in Lambda


def provision_stack(prefix: str, **environment: str) -> Stack:
    """Provision template.yaml on moto (call inside ``mock_aws()``), give this process the functions'
    environment (plus ``environment``), and drop settings, clients and services made before.

    Each function then runs as its own role, enforced (``tools.enforcement``), as in the tests; every role
    is created up front so the benchmarks' call counts hold only the functions' own calls."""
    from shared.wiring import reset

    stop_enforcing_in_process()  # a previous stack's, in this process
    template = load_template()
    stack = provision(template, prefix=prefix)
    enforce_in_process(template, stack).create_all()
    os.environ.update(function_environment(template, stack))
    os.environ.update({"MODEL_DIR": MODEL_DIR, **environment})
    reset()
    return stack
