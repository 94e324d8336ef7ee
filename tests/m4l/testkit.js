// Helpers shared by the node tests of the device and the MIDI Tools (unit.js, miditool_unit.js,
// scenarios.js, miditool_scenarios.js): comparing sandbox values, the ES5 check, running the unit
// tests, notes, request options, a daemon of another protocol, and the scenarios' command line.
"use strict";

const assert = require("assert");
const dgram = require("dgram");
const fs = require("fs");
const {decodeOsc, encodeOsc} = require("./harness");

// Values made in the sandbox have the sandbox's Array and Object: compare them as JSON.
function same(actual, expected, message) {
    const plain = (value) => (value === undefined ? value : JSON.parse(JSON.stringify(value)));
    assert.deepStrictEqual(plain(actual), plain(expected), message);
}

// A unit test: the files parse as ES5 (node's own acorn, with --expose-internals).
function es5Test(files) {
    return () => {
        let acorn;
        try {
            acorn = require("internal/deps/acorn/acorn/dist/acorn");
        } catch (error) {
            return "skipped: run node with --expose-internals to check the syntax";
        }
        for (const file of files) {
            acorn.parse(fs.readFileSync(file, "utf8"), {ecmaVersion: 5, sourceType: "script"});
        }
        return undefined;
    };
}

// Run {name: test} (a test may return a remark), print each, return the exit code.
function runTests(tests) {
    let failed = 0;
    for (const [name, test] of Object.entries(tests)) {
        try {
            const remark = test();
            console.log(`ok ${name}${remark ? ` (${remark})` : ""}`);
        } catch (error) {
            failed += 1;
            console.log(`FAILED ${name}: ${error.stack || error}`);
        }
    }
    console.log(`${Object.keys(tests).length - failed} passed, ${failed} failed`);
    return failed ? 1 : 0;
}

function notesEvery(step, from, to, extra = {}) {
    const notes = [];
    for (let t = from, i = 0; t < to - 1e-9; t += step, i++) {
        notes.push({pitch: 48 + (i * 5) % 30, start_time: t, duration: step / 2, velocity: 90 + (i % 20), ...extra});
    }
    return notes;
}

function byId(notes) {
    return new Map(notes.map((n) => [n.note_id, n]));
}

// A request header's option (the first) and options (every one) by name.
function option(message, name) {
    const i = message.indexOf(name, 3);
    return i < 0 ? undefined : message[i + 1];
}

function options(message, name) {
    const found = [];
    for (let i = 3; i < message.length; i++) {
        if (message[i] === name) {
            found.push(message[i + 1]);
        }
    }
    return found;
}

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// A daemon from the future: it answers pings with protocol 2. Resolves to {port, heard (the
// addresses it got), close()}.
async function futureDaemon() {
    const fake = dgram.createSocket("udp4");
    await new Promise((resolve) => fake.bind(0, "127.0.0.1", resolve));
    const heard = [];
    fake.on("message", (data, from) => {
        for (const [address, args] of decodeOsc(data)) {
            heard.push(address);
            if (address === "/midi-llm/ping") {
                fake.send(encodeOsc("/midi-llm/pong", [args[0], 2, "9.0.0", "ready", "future-model", "cpu", 0, 0]),
                    args[1] || from.port, from.address);
            }
        }
    });
    return {port: fake.address().port, heard, close: () => fake.close()};
}

// node <script> <scenario> [--daemon-port PORT] | --list: run one of {name: async ({daemonPort})}.
function scenarioMain(scenarios) {
    async function main() {
        const [name, ...rest] = process.argv.slice(2);
        const portIndex = rest.indexOf("--daemon-port");
        const daemonPort = portIndex >= 0 ? Number(rest[portIndex + 1]) : 9123;
        if (name === "--list") {
            console.log(Object.keys(scenarios).join("\n"));
            return;
        }
        if (!scenarios[name]) {
            console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}`);
            process.exit(2);
        }
        const started = Date.now();
        const summary = await scenarios[name]({daemonPort});
        console.log(`ok ${name} (${((Date.now() - started) / 1000).toFixed(1)} s) ${JSON.stringify(summary)}`);
    }
    main().then(() => process.exit(0), (error) => {
        console.error(`FAILED ${process.argv[2]}: ${error.stack || error}`);
        process.exit(1);
    });
}

module.exports = {same, es5Test, runTests, notesEvery, byId, option, options, sleep, futureDaemon, scenarioMain};
