"""``midi-llm-bridge doctor``: find what stops the set-up from working, with a fix for each."""
