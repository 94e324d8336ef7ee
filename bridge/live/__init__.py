"""Live output: generated notes played to a MIDI port in time, with no stuck notes."""
