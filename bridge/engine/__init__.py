"""The model side: loading a checkpoint and decoding requests into notes."""
