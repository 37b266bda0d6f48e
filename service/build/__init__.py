"""Building the index: the builder, full and incremental builds, their state, rebuilds, engines."""
