"""The dramatiq worker process: its actors and its command line (wired by jyntrix_bootstrap.worker)."""
