"""The anthropic integration (in progress)."""
