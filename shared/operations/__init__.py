"""Operator commands: what needs an operator's AWS credentials rather than an API key (the first key of a
tenant, the dead-letter queues). They run in ``RunAdminCommandFunction``, invoked with ``lambda:Invoke``."""
