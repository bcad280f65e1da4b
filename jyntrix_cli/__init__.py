"""The `jyntrix` command line: serve, token, import, mcp (stdio), reindex, model; over the composition root
(jyntrix_bootstrap) and the API (jyntrix_http), which know nothing of it."""
