"""Prometheus metrics: the process registry, a span observer, an embedder decorator, scrape-time gauges."""
