"""Jyntrix domain: the memory model, its ports and the services built on them."""
