// MIDI-LLM as a Live 12 MIDI Tool: what the status line says after a result, in one place (the
// daemon's and the request's texts are the device's, midi_llm_status_text.js).
//
// ES5 only (Max's classic [js] object; in the tests, node's vm). It adds to the MidiLLMTool
// namespace of midi_llm_tool_core.js, which is loaded first (after the device's pure modules).

(function (core, tool) {
    "use strict";

    // ----- what the status line says -------------------------------------------------------------

    var TEXT = {
        done: function (planned, done, result) {
            var notes = [];
            if (done.unplaced) {
                notes.push(done.unplaced + " kept their pitch (the model wrote no note on them)");
            }
            if (done.mismatch) {
                notes.push(done.mismatch);
            }
            if (planned.mode === "accompany") {
                notes.push(core.instrumentName(planned.instrument) + " in " + planned.low + "-" + planned.high);
            }
            if (result.warnings && result.warnings.length) {
                notes.push(result.warnings[0]);
            }
            return core.TEXT.done({
                notes: done.count, variations: 1, seconds: result.seconds, seed: result.seed, note: notes.join("; ")
            });
        },
        empty: "the model wrote no notes in the span: nothing changed; press Re-roll",
        waitingForLive: function (count) {
            return "done: " + count + " notes are ready: press Apply (or Generate) to write them";
        },
        clipChanged: "another clip is selected now: nothing was written; press Generate again",
        selectionChanged: "the selection changed while the model was writing: nothing was written; press Generate again",
        noCycle: "Live did not run the tool: press Apply (the tool must be open in the clip's Generate or " +
            "Transform panel)",
        settled: "settings changed: press Generate (or Apply) to write with them"
    };

    tool.TEXT = TEXT;
}(MidiLLM, MidiLLMTool));
