"""End-to-end: the real server process on the embedded profile, over real HTTP."""
