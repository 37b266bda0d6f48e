"""What editors decide: pins and blocks, curated links and their files."""
