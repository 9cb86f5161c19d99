"""HTTP glue: one app factory for every route function, error mapping, request ids, auth."""
