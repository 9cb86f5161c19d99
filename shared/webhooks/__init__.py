"""Webhooks: Standard Webhooks signing, per-tenant secrets, durable SSRF-safe delivery."""
