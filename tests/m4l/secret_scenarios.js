// The device and the MIDI Tools against a real daemon that has a secret (osc.secret): with the
// daemon's secret in Secret, every message carries it and everything works (ping, status, a
// request, cancel, resend of a lost result chunk); without it, or with another one, the daemon
// answers unauthorized and the status line says what to type where (no daemon is started: one is
// there).
//
//   M4L_SECRET=S node tests/m4l/secret_scenarios.js <scenario> --daemon-port PORT
//
// Prints "ok <scenario>" and a JSON summary, or the failure, and exits non-zero on failure.
// Every wait is bounded.
"use strict";

const assert = require("assert");
const {FakeLive} = require("./fake_live");
const {FakeMidiTool} = require("./fake_miditool");
const {MaxDevice, freePort} = require("./harness");
const {notesEvery, scenarioMain, sleep} = require("./testkit");

const SECRET = process.env.M4L_SECRET || "";
const MODE = {generate: 0};
const DONE = ["done", "error", "daemon", "cancelled", "needs", "refused", "no "];

// Every message but a /notes chunk ends with "secret <token>"; the chunks carry none.
function assertSigned(device, secret) {
    assert.ok(device.sent.length > 0, "the device sent something");
    for (const message of device.sent) {
        if (message[0] === "/midi-llm/notes") {
            assert.ok(!message.includes("secret"), "a notes chunk carries no secret");
        } else {
            assert.deepStrictEqual(message.slice(-2), ["secret", secret], `${message[0]} ends with the secret`);
        }
    }
}

function unauthorizedReplies(device) {
    return device.received.filter((m) => m[0] === "/midi-llm/error" && m[2] === "unauthorized");
}

async function ready(device, settings) {
    await device.init({reply_port: await freePort(), ...settings});
    await device.waitFor(() => device.status.startsWith("ready"), 5000, "the daemon to be ready");
    await device.waitFor(() => device.received.some((m) => m[0] === "/midi-llm/info"), 3000, "the status reply");
}

// The other side of the secret rule: a device without the secret (or with another) gets
// unauthorized for its ping and for Generate; nothing is started, nothing is written.
async function refused(daemonPort, typed, words) {
    const live = new FakeLive({tracks: [{name: "Piano", slots: [null]}]});
    const device = new MaxDevice({live});
    try {
        await device.init({daemon_port: daemonPort, reply_port: await freePort(), mode: MODE.generate,
            ...(typed === null ? {} : {secret: typed})});
        await device.waitFor(() => device.status.includes(words), 5000, `a status saying ${words}`);
        assert.match(device.status, /type the daemon's osc\.secret into Secret/);
        const status = device.status;
        device.message("go");
        await device.waitFor(() => device.button === "Generate" && unauthorizedReplies(device).length >= 2, 5000,
            "Generate to be refused too");
        assert.strictEqual(device.status, status, "Generate says the same");
        assert.ok(!device.statuses.some((s) => s.includes("not running") || s.includes("starting")),
            `a daemon is there: none is started; statuses: ${JSON.stringify(device.statuses)}`);
        assert.deepStrictEqual(device.toLauncher.filter((m) => m[0] === "launch"), []);
        assert.strictEqual(live.tracks[0].slots[0].clip, null, "nothing was written");
        assert.deepStrictEqual(live.writes(), []);
        assert.deepStrictEqual(device.errors, []);
        return {status, refusals: unauthorizedReplies(device).length};
    } finally {
        device.close();
    }
}

const scenarios = {
    // Ping, status, a request whose first result chunk is lost (resend), then a cancelled request.
    async device_with_the_secret({daemonPort}) {
        let dropped = 0;
        const live = new FakeLive({tempo: 60, tracks: [{name: "Piano", slots: [null, null]}]});
        const device = new MaxDevice({
            live,
            dropIncoming: (address, args) => {
                if (address === "/midi-llm/result" && args[1] === 0 && args[2] === 0 && dropped === 0) {
                    dropped += 1;
                    return true;
                }
                return false;
            },
        });
        try {
            await ready(device, {daemon_port: daemonPort, mode: MODE.generate, bars: 2, seed: 4, secret: SECRET});
            device.message("go");
            const status = await device.waitForStatus(DONE, 40000);
            assert.match(status, /^done: \d+ notes/);
            assert.strictEqual(dropped, 1);
            assert.ok(device.sent.some((m) => m[0] === "/midi-llm/resend"), "the lost chunk was asked for again");
            const results = device.received.filter((m) => m[0] === "/midi-llm/result");
            assert.strictEqual(live.tracks[0].slots[0].clip.notes.length, results[results.length - 1][5],
                "the whole result was written, the resent chunk too");

            device.message("bars", 100);
            device.message("seed", 1);
            live.selectedScene = 1;
            const writesBefore = live.writes().length;
            device.message("go");
            await device.waitFor(() => device.status.startsWith("writing"), 20000, "the long job to start");
            device.message("go"); // Cancel
            await device.waitFor(() => device.received.some((m) => m[0] === "/midi-llm/cancelled"), 8000,
                "the daemon to confirm the cancel");
            const cancelled = await device.waitForStatus(["cancelled", "done", "error"], 8000);
            assert.strictEqual(cancelled, "cancelled");
            assert.strictEqual(live.writes().length, writesBefore, "the cancelled job wrote nothing");

            assertSigned(device, SECRET);
            assert.deepStrictEqual(unauthorizedReplies(device), []);
            assert.deepStrictEqual(device.errors, []);
            const addresses = [...new Set(device.sent.map((m) => m[0]))].sort();
            for (const address of ["/midi-llm/ping", "/midi-llm/status", "/midi-llm/generate", "/midi-llm/resend",
                "/midi-llm/cancel"]) {
                assert.ok(addresses.includes(address), `${address} was sent (and answered)`);
            }
            return {status, cancelled, addresses};
        } finally {
            device.close();
        }
    },

    // A Generator MIDI Tool with the secret: ping, status, its infill request.
    async tool_with_the_secret({daemonPort}) {
        const clip = {length: 16, notes: notesEvery(1, 0, 16)};
        const live = new FakeLive({tracks: [{name: "Bass", devices: [], slots: [clip]}], detail: {track: 0, scene: 0}});
        const tool = new FakeMidiTool({live, kind: "generator", generatorInput: "clip", selection: {start: 4, end: 8},
            grid: {interval: 0.25, enabled: 1}});
        const device = tool.makeDevice();
        try {
            await ready(device, {daemon_port: daemonPort, seed: 7, secret: SECRET});
            await sleep(200); // past the tool's settle time: the Apply is a request
            tool.apply();
            const status = await device.waitForStatus(["done", "error", "daemon", "cancelled", "needs", "refused"],
                40000);
            assert.match(status, /^done: \d+ notes/);
            assertSigned(device, SECRET);
            assert.deepStrictEqual(unauthorizedReplies(device), []);
            assert.deepStrictEqual(device.errors, []);
            return {status};
        } finally {
            device.close();
        }
    },

    async device_without_the_secret({daemonPort}) {
        return refused(daemonPort, null, "needs its secret");
    },

    async device_with_another_secret({daemonPort}) {
        return refused(daemonPort, "not-" + SECRET, "refused the secret");
    },
};

scenarioMain(scenarios);
