"""`homelab check`: the live hops of the request path and their probes (no mocks, no credentials)."""
