"""Scene layouts: the static places a clip plays in, and the registry of layout types."""
