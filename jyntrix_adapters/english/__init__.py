"""English: the rules extractor (`fact_rules`) with its word lists, the grammar of person (`person`) and the
offline responder's phrasing (`offline`). The domain holds what is true in any language; what reads or writes
English sentences is here."""
