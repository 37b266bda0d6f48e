"""A generation on disk: its parts, manifest and checksums, the atomic pointer, loading."""
