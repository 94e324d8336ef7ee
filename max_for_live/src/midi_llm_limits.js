// MIDI-LLM for Max for Live: the bridge's fixed limits, the one place the device and the MIDI Tools
// take them from.
//
// The same names and values as bridge/protocol/limits.py (the Python side's one place); a test
// (tests/test_max_for_live.py) checks every entry here against it, so a limit changed there fails
// until it is changed here too. Limits a user may set (limits.* in config.yaml: variations, bars,
// notes) are the daemon's to enforce: it answers too_large and names the setting.
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds MidiLLM.LIMITS to the
// namespace of midi_llm_core.js, which is loaded first; the modules after it read core.LIMITS.

MidiLLM.LIMITS = {
    MAX_PROMPT_CHARACTERS: 2000,   // MIDI-LLM's text prompt
    MAX_SEED: 2147483647,          // 2^31-1: seeds travel as a 32-bit OSC int
    MIN_TEMPERATURE: 0.01,
    MAX_TEMPERATURE: 5.0,
    MIN_TOP_P: 0.01,
    MAX_TOP_P: 1.0,
    MAX_ID_CHARACTERS: 64,         // a request id given as text
    MIN_BPM: 1.0,
    MAX_BPM: 1000.0
};
