"""Support code that several adapter packages share and the domain never uses: retrying a model call with
backoff, the lifecycle of an index's background work, the rules every index applies to what it stores,
whether a process a pid file names still runs.
It imports the domain only, and no adapter package (import-linter checks both)."""
