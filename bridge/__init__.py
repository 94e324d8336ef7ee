"""midi-llm-bridge: the MIDI-LLM text-to-MIDI model, served to DAWs over OSC."""

__version__ = "0.1.0"
