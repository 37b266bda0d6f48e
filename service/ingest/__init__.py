"""Articles in: what a record is, strict JSON, the readers of each source, the transaction into the store."""
