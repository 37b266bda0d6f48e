"""Settings and the options of a related list: their declarations, groups and value parsers."""
