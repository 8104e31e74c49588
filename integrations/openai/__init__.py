"""The openai integration (in progress)."""
