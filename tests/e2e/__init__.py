"""End-to-end: the real server process on the embedded deployment, over real HTTP."""
