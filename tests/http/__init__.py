"""HTTP tests: every route on the in_process profile through Litestar's AsyncTestClient."""
