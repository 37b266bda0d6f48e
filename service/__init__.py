"""The related-articles service: composes `embeddings` with the article store, HTTP and the CLI."""
