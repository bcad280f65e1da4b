"""The ranking signals every search result reports, as the README documents them (written out, not derived)."""

SIGNALS = {"keyword", "vector", "graph", "reliability", "recency", "frequency", "time"}
