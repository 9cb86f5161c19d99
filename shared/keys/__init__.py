"""API keys: scoped, tenant-bound bearer secrets of which only a hash is stored."""
