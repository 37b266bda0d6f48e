"""Beyond one machine: publishing to a shared location, following it, serving as a replica."""
