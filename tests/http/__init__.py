"""HTTP tests: every route on the in_process deployment through Litestar's AsyncTestClient."""
