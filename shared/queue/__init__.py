"""SQS adapters: the only place that builds queue messages."""
