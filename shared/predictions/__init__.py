"""Asynchronous predictions: the domain model, its forward-only state machine, and the service."""
