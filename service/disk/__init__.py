"""Durable writes on the local disk: atomic files, the one file lock, crash points for tests."""
