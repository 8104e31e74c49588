"""The llama_index integration (in progress)."""
