"""The daemon behind ``midi-llm-bridge serve``: OSC server, job queue and model worker."""
