"""related(article, options) -> a ranked answer: source, filters, selection, fill, explain, live."""
