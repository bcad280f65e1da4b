"""HTTP shell: Litestar app, routes, auth, middleware, wiring."""
