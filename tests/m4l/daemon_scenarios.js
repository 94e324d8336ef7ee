// Scenarios of the device and the MIDI Tools bringing the daemon up (tests/test_m4l_daemon.py):
// the real launcher in its own process (tests/m4l/fake_node_script.js, as node.script runs it)
// starting the real `midi-llm-bridge serve`, and a scripted daemon on UDP for the states of a load.
//
//   node tests/m4l/daemon_scenarios.js <scenario>     (see --list)
//
// The launcher's folder (log, lock, remembered path) is MIDI_LLM_BRIDGE_STATE_DIR; the daemon it
// starts reads its model from MIDI_LLM_BRIDGE__MODEL__ID (set by the Python test).
"use strict";

const assert = require("assert");
const dgram = require("dgram");
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const {FakeLive} = require("./fake_live");
const {FakeMidiTool} = require("./fake_miditool");
const {MaxDevice, ROOT, decodeOsc, encodeOsc, freePort, sourceList} = require("./harness");
const {same, scenarioMain, sleep} = require("./testkit");

const START_TIMEOUT = 150000; // the real daemon imports torch and loads the tiny checkpoint
const MODEL = "slseanwu/MIDI-LLM_Llama-3.2-1B";

// ----- processes ----------------------------------------------------------------------------------

// /proc/<pid>/stat: {state, ppid, pgrp, session}, or null when the process is gone.
function procStat(pid) {
    try {
        const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
        return {state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3])};
    } catch (error) {
        return null;
    }
}

// The live (not zombie) processes whose command line is `... serve --port <port>`.
function daemonsOn(port) {
    const found = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        let words;
        try {
            words = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
        } catch (error) {
            continue;
        }
        const at = words.indexOf("--port");
        const stat = procStat(entry);
        if (words.includes("serve") && at > 0 && words[at + 1] === String(port) && stat && stat.state !== "Z") {
            found.push(Number(entry));
        }
    }
    return found;
}

// A ping from outside, as another DAW would send it: the pong's state, or null without an answer.
async function pingState(port) {
    const answer = await pingAnswer(port);
    return answer && answer[0] === "/midi-llm/pong" ? answer[1][3] : null;
}

// The [address, args] a ping (with `extra` atoms, e.g. a secret) gets, or null without an answer.
async function pingAnswer(port, extra = []) {
    const socket = dgram.createSocket("udp4");
    try {
        await new Promise((resolve) => socket.bind(0, "127.0.0.1", resolve));
        const answer = new Promise((resolve) => {
            socket.on("message", (data) => resolve(decodeOsc(data)[0]));
            setTimeout(() => resolve(null), 2000);
        });
        socket.send(encodeOsc("/midi-llm/ping", [7, socket.address().port, ...extra]), port, "127.0.0.1");
        return await answer;
    } finally {
        socket.close();
    }
}

async function stopDaemons(port) {
    for (const pid of daemonsOn(port)) {
        process.kill(pid, "SIGTERM");
    }
    const deadline = Date.now() + 20000;
    while (daemonsOn(port).length && Date.now() < deadline) {
        await sleep(100);
    }
    for (const pid of daemonsOn(port)) {
        process.kill(pid, "SIGKILL");
    }
}

function started(device) {
    return device.launcherReplies.filter((r) => r[0] === "launcher" && r[1] === "started");
}

// The statuses in the order they were shown, repeats left out.
function shown(device) {
    return device.statuses.filter((s, i) => s !== device.statuses[i - 1]);
}

function assertInOrder(statuses, expected) {
    let at = 0;
    for (const status of statuses) {
        if (at < expected.length && status.includes(expected[at])) {
            at += 1;
        }
    }
    assert.strictEqual(at, expected.length, `the status line showed ${JSON.stringify(expected)} in that order; it ` +
        `showed ${JSON.stringify(statuses)}`);
}

// ----- a scripted daemon ----------------------------------------------------------------------------

const PONG = ["id", "protocol", "version", "state", "model", "device", "waiting", "running", "message", "bytes_done",
    "bytes_total"];
const INFO_EXTRA = {dtype: "float32", profile: "midi-llm", running_id: "", max_notes_in: 4096, max_notes_out: 4096,
    max_bars: 64, max_variations: 8, queue_length: 16, max_datagram_bytes: 8192, load_seconds: 0.5};
const INFO = ["id", "protocol", "version", "state", "model", "device", "dtype", "profile", "waiting", "running_id",
    "max_notes_in", "max_notes_out", "max_bars", "max_variations", "queue_length", "max_datagram_bytes",
    "load_seconds", "message", "bytes_done", "bytes_total"];

// A daemon on UDP whose pings walk through `script` ([{state, message, done, total}]), each step
// answered `repeat` times (so that a pong a client no longer waits for skips no state); /reload
// jumps to `afterReload`. Requests are answered with an error after they are logged.
async function scriptedDaemon(script, {repeat = 2, afterReload = null} = {}) {
    const socket = dgram.createSocket("udp4");
    await new Promise((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const log = [];
    let steps = script.slice();
    let served = 0;
    function current() {
        return steps[Math.min(steps.length - 1, Math.floor(served / repeat))];
    }
    socket.on("message", (data, from) => {
        for (const [address, args] of decodeOsc(data)) {
            const replyTo = [args[1] || from.port, from.address];
            if (address === "/midi-llm/reload" && afterReload) {
                steps = afterReload.slice();
                served = 0;
            }
            if (address === "/midi-llm/ping" || address === "/midi-llm/reload" || address === "/midi-llm/status") {
                const step = current();
                served += 1;
                log.push(`${address} -> ${step.state}`);
                const values = {id: args[0], protocol: 1, version: "0.0.0", state: step.state, model: MODEL,
                    device: "cpu", waiting: 0, running: 0, message: step.message || "", bytes_done: step.done || 0,
                    bytes_total: step.total || 0, ...INFO_EXTRA};
                const reply = address === "/midi-llm/status" ? "/midi-llm/info" : "/midi-llm/pong";
                const names = reply === "/midi-llm/info" ? INFO : PONG;
                socket.send(encodeOsc(reply, names.map((n) => values[n])), ...replyTo);
            } else if (["/midi-llm/generate", "/midi-llm/infill", "/midi-llm/continue",
                "/midi-llm/accompany"].includes(address)) {
                log.push(`${address} after ${current().state}`);
                socket.send(encodeOsc("/midi-llm/error", [args[0], "bad_request", "scripted daemon: the request came"]),
                    ...replyTo);
            }
        }
    });
    return {port: socket.address().port, log, close: () => socket.close()};
}

const LOAD = [
    {state: "downloading", message: `downloading ${MODEL}: 0.5 of 2.5 GB`, done: 5e8, total: 2.5e9},
    {state: "downloading", message: `downloading ${MODEL}: 1.2 of 2.5 GB`, done: 1.2e9, total: 2.5e9},
    {state: "loading"},
    {state: "warming_up"},
    {state: "ready"},
];
const LOAD_TEXTS = ["downloading MIDI-LLM: 0.5 of 2.5 GB", "downloading MIDI-LLM: 1.2 of 2.5 GB",
    "loading the model MIDI-LLM", "warming up the model MIDI-LLM"];

function launcherEnv() {
    return {MIDI_LLM_BRIDGE_STATE_DIR: process.env.MIDI_LLM_BRIDGE_STATE_DIR};
}

function oneClipSet() {
    return new FakeLive({tracks: [{name: "Bass", slots: [null]}]});
}

// ----- the scenarios ----------------------------------------------------------------------------------

const scenarios = {
    // Daemon down: the device has the launcher start the configured installation (this checkout's
    // .venv), detached, and Generate's request waits for it, then succeeds. Closing Live leaves the daemon running, not a
    // zombie, in a session of its own.
    async start_then_generate() {
        const port = await freePort();
        const live = oneClipSet();
        const device = new MaxDevice({live, launcher: {env: launcherEnv()}});
        try {
            device.message("installation", ROOT);
            await device.init({daemon_port: port, bars: 1}); // "start automatically" is on by default
            device.message("go");
            await device.waitForStatus(["done:", "error"], START_TIMEOUT);
            assert.ok(device.status.startsWith("done:"), device.status);
            assert.ok(live.tracks[0].slots[0].clip && live.tracks[0].slots[0].clip.notes.length, "a clip with notes");
            assertInOrder(shown(device), ["starting the daemon on port", "done:"]);
            const [start] = started(device);
            assert.ok(start && started(device).length === 1, JSON.stringify(device.launcherReplies));
            const pid = start[2];
            assert.strictEqual(start[3], path.join(ROOT, ".venv", "bin", "midi-llm-bridge"));
            assert.deepStrictEqual(daemonsOn(port), [pid]);
            const daemon = procStat(pid), launcher = procStat(device.nodeScript.pid);
            assert.strictEqual(daemon.session, pid, "the daemon leads a session of its own (detached)");
            assert.notStrictEqual(daemon.pgrp, launcher.pgrp);
            await device.quit("SIGKILL"); // Live goes away without a word
            assert.strictEqual(await pingState(port), "ready", "the daemon outlives Live and still answers");
            const after = procStat(pid);
            assert.ok(after && after.state !== "Z", `the daemon is running, not a zombie: ${JSON.stringify(after)}`);
            assert.notStrictEqual(after.ppid, device.nodeScript.pid);
            return {pid, statuses: shown(device).slice(0, 6)};
        } finally {
            await device.quit();
            await stopDaemons(port);
        }
    },

    // The Secret field: the launcher remembers the secret, starts the daemon with it (so that daemon
    // refuses a ping without it), and every message of the device carries it; a device loaded later
    // gets it from its launcher's hello and talks to that daemon at once.
    async start_with_the_secret_then_generate() {
        const port = await freePort();
        const secret = "launcher secret";
        const live = oneClipSet();
        const device = new MaxDevice({live, launcher: {env: launcherEnv()}, name: "first"});
        let later = null; // loaded once the secret is remembered: its own launcher starts with it, as in Live
        try {
            device.message("installation", ROOT);
            device.message("secret", ...secret.split(" "));
            await device.init({daemon_port: port, bars: 1});
            device.message("go");
            await device.waitForStatus(["done:", "error", "secret"], START_TIMEOUT);
            assert.ok(device.status.startsWith("done:"), device.status);
            assert.strictEqual(started(device).length, 1, JSON.stringify(device.launcherReplies));
            const stored = JSON.parse(fs.readFileSync(path.join(process.env.MIDI_LLM_BRIDGE_STATE_DIR,
                "max-for-live.json"), "utf8"));
            assert.deepStrictEqual(stored, {installation: ROOT, secret});
            for (const message of device.sent.filter((m) => m[0] !== "/midi-llm/notes")) {
                assert.deepStrictEqual(message.slice(-2), ["secret", secret], `${message[0]} carries the secret`);
            }
            const bare = await pingAnswer(port);
            assert.ok(bare && bare[0] === "/midi-llm/error" && bare[1][1] === "unauthorized",
                `the started daemon has the secret: ${JSON.stringify(bare)}`);
            assert.strictEqual((await pingAnswer(port, ["secret", secret]))[1][3], "ready");

            later = new MaxDevice({live: oneClipSet(), launcher: {env: launcherEnv()}, name: "later"});
            await later.init({daemon_port: port, reply_port: device.replyPort + 1});
            await later.waitFor(() => later.status.startsWith("ready"), 8000, "the later device to see the daemon");
            assert.deepStrictEqual(later.secrets, [secret], "the Secret field shows the remembered secret");
            assert.deepStrictEqual(started(later), [], "no second daemon");
            assert.deepStrictEqual(device.errors.concat(later.errors), []);
            return {status: device.status, later: later.status};
        } finally {
            await device.quit();
            if (later) {
                await later.quit();
            }
            await stopDaemons(port);
        }
    },

    // Two clients (a device and a Generator tool, each with its own launcher process) press Generate
    // at once with no daemon: one daemon starts, both requests succeed.
    async two_clients_one_daemon() {
        const port = await freePort();
        const live = oneClipSet();
        const device = new MaxDevice({live, launcher: {env: launcherEnv()}, name: "device"});
        const toolLive = new FakeLive({tracks: [{name: "Bass", devices: [], slots: [{length: 4, looping: 1,
            loopStart: 0, loopEnd: 4, notes: [{note_id: 1, pitch: 40, start_time: 0, duration: 1, velocity: 90}]}]}],
        detail: {track: 0, scene: 0}});
        const tool = new FakeMidiTool({live: toolLive, kind: "generator", selection: {start: 0, end: 4}});
        const toolDevice = tool.makeDevice({launcher: {env: launcherEnv()}});
        try {
            device.message("installation", ROOT);
            await device.init({daemon_port: port, bars: 1, autostart: 1});
            await toolDevice.init({daemon_port: port, reply_port: device.replyPort + 1, autostart: 1});
            await sleep(300);
            device.message("go");
            tool.apply();
            await device.waitForStatus(["done:", "error"], START_TIMEOUT);
            await toolDevice.waitForStatus(["done:", "error", "daemon not running"], START_TIMEOUT);
            assert.ok(device.status.startsWith("done:"), device.status);
            assert.ok(toolDevice.status.startsWith("done:"), toolDevice.status);
            const starts = started(device).concat(started(toolDevice));
            assert.strictEqual(starts.length, 1, `one daemon started: ${JSON.stringify(starts)}`);
            assert.deepStrictEqual(daemonsOn(port), [starts[0][2]], "one daemon on the port");
            return {starts: starts.length, device: device.status, tool: toolDevice.status};
        } finally {
            await device.quit();
            await toolDevice.quit();
            await stopDaemons(port);
        }
    },

    // Nothing to start: the status says where it looked and what to do; nothing is sent.
    async nothing_to_start() {
        const port = await freePort();
        const device = new MaxDevice({live: oneClipSet(), launcher: {env: {...launcherEnv(), PATH: "/nonexistent"}},
            filepath: "/nowhere/max_for_live/MIDI-LLM.amxd"});
        try {
            device.message("installation");
            await device.init({daemon_port: port});
            await device.waitFor(() => device.status.includes("no midi-llm-bridge found"), 8000, "the launcher's answer");
            assert.match(device.status, new RegExp(`^daemon not running on port ${port}: no midi-llm-bridge found to ` +
                "start \\(looked in /nowhere/max_for_live/\\.venv/bin/midi-llm-bridge, /nowhere/\\.venv/bin/"));
            assert.ok(device.status.includes("set Daemon path"), device.status);
            assert.deepStrictEqual(device.errors, []);
            return {status: device.status};
        } finally {
            await device.quit();
        }
    },

    // The states of a load, in order, in the device's status line while Generate waits; the request
    // goes only once the daemon says ready.
    async device_shows_the_load() {
        const fake = await scriptedDaemon(LOAD);
        const device = new MaxDevice({live: oneClipSet()});
        try {
            await device.init({daemon_port: fake.port});
            await device.waitFor(() => device.status.includes("downloading"), 4000, "the first state");
            device.message("go");
            await device.waitForStatus(["scripted daemon: the request came"], 30000);
            assertInOrder(shown(device), LOAD_TEXTS);
            assert.ok(shown(device).some((s) => s.startsWith("waiting for the daemon: ")), "Generate said it waits");
            const requests = fake.log.filter((line) => line.startsWith("/midi-llm/generate"));
            assert.deepStrictEqual(requests, ["/midi-llm/generate after ready"], fake.log.join("; "));
            return {statuses: shown(device)};
        } finally {
            device.close();
            fake.close();
        }
    },

    // The same in a MIDI Tool (the Generator), and Apply while the daemon loads waits too.
    async tool_shows_the_load() {
        const fake = await scriptedDaemon(LOAD);
        const live = new FakeLive({tracks: [{name: "Bass", devices: [], slots: [{length: 4, looping: 1, loopStart: 0,
            loopEnd: 4, notes: [{note_id: 1, pitch: 40, start_time: 0, duration: 1, velocity: 90}]}]}],
        detail: {track: 0, scene: 0}});
        const tool = new FakeMidiTool({live, kind: "generator", selection: {start: 0, end: 4}});
        const device = tool.makeDevice();
        try {
            await device.init({daemon_port: fake.port});
            await device.waitFor(() => device.status.includes("downloading"), 4000, "the first state");
            await sleep(300);
            tool.apply();
            await device.waitFor(() => device.status.includes("scripted daemon: the request came"), 30000, "the request");
            assertInOrder(shown(device), LOAD_TEXTS);
            const requests = fake.log.filter((line) => line.startsWith("/midi-llm/infill"));
            assert.deepStrictEqual(requests, ["/midi-llm/infill after ready"], fake.log.join("; "));
            return {statuses: shown(device)};
        } finally {
            device.close();
            fake.close();
        }
    },

    // State error: the daemon's sentence, Reload model on the button, Generate says so and sends
    // nothing; Reload model sends /midi-llm/reload and the load then shows until ready.
    async error_then_reload() {
        const sentence = "cannot load model slseanwu/MIDI-LLM_Llama-3.2-1B: offline mode is on and it is not in " +
            "the cache; download it with `hf download slseanwu/MIDI-LLM_Llama-3.2-1B`";
        const fake = await scriptedDaemon([{state: "error", message: sentence}],
            {afterReload: [{state: "loading"}, {state: "ready"}]});
        const device = new MaxDevice({live: oneClipSet()});
        try {
            await device.init({daemon_port: fake.port});
            await device.waitFor(() => device.status.startsWith("error: "), 4000, "the error state");
            assert.strictEqual(device.status, `error: ${sentence}; press Reload model to try again`);
            assert.strictEqual(device.daemonLabels[device.daemonLabels.length - 1], "Reload model");
            device.message("go");
            await device.waitForStatus([`error: ${sentence}`], 4000);
            assert.ok(!fake.log.some((line) => line.startsWith("/midi-llm/generate")), "no request was sent");
            device.message("launch");
            await device.waitFor(() => device.status.startsWith("ready: "), 10000, "ready after the reload");
            assert.ok(fake.log.some((line) => line.startsWith("/midi-llm/reload")), fake.log.join("; "));
            assertInOrder(shown(device), ["error: ", "reloading the model", "loading the model MIDI-LLM", "ready: "]);
            assert.strictEqual(device.daemonLabels[device.daemonLabels.length - 1], "Start daemon");
            return {statuses: shown(device)};
        } finally {
            device.close();
            fake.close();
        }
    },

    // Where the launcher looks, on each OS (pure: no disk).
    async launcher_paths() {
        const context = vm.createContext({require, process});
        for (const file of sourceList("midi-llm-launcher.js").slice(0, 2)) {
            vm.runInContext(fs.readFileSync(file, "utf8"), context, {filename: file});
        }
        const P = vm.runInContext("LauncherPaths", context);
        const mac = P.candidates({platform: "darwin", env: {PATH: "/usr/bin:/bin"}, home: "/Users/me",
            configured: "/Users/me/code/midi-llm-bridge", deviceFile: "/Users/me/code/midi-llm-bridge/max_for_live/MIDI-LLM.amxd"});
        same(mac.slice(0, 5), ["/Users/me/code/midi-llm-bridge",
            "/Users/me/code/midi-llm-bridge/bin/midi-llm-bridge", "/Users/me/code/midi-llm-bridge/.venv/bin/midi-llm-bridge",
            "/Users/me/code/midi-llm-bridge/max_for_live/.venv/bin/midi-llm-bridge", "/Users/me/code/.venv/bin/midi-llm-bridge"]);
        assert.ok(mac.includes("/usr/bin/midi-llm-bridge") && mac.includes("/opt/homebrew/bin/midi-llm-bridge") &&
            mac.includes("/Users/me/.local/bin/midi-llm-bridge"), mac.join(", "));
        const win = P.candidates({platform: "win32", env: {Path: "C:\\Python\\Scripts"}, home: "C:\\Users\\me",
            configured: "", deviceFile: "C:\\Users\\me\\midi-llm-bridge\\max_for_live\\MIDI Tools\\Max Generators\\MIDI-LLM.amxd"});
        assert.ok(win.includes("C:\\Users\\me\\midi-llm-bridge\\.venv\\Scripts\\midi-llm-bridge.exe"), win.join(", "));
        assert.ok(win.includes("C:\\Python\\Scripts\\midi-llm-bridge.exe"), win.join(", "));
        assert.strictEqual(P.stateDir("win32", {LOCALAPPDATA: "C:\\Users\\me\\AppData\\Local"}, "C:\\Users\\me"),
            "C:\\Users\\me\\AppData\\Local\\midi-llm-bridge");
        assert.strictEqual(P.stateDir("darwin", {}, "/Users/me"), "/Users/me/Library/Application Support/midi-llm-bridge");
        assert.strictEqual(P.stateDir("linux", {}, "/home/me"), "/home/me/.local/state/midi-llm-bridge");
        const linux = P.candidates({platform: "linux", env: {PATH: "/usr/local/bin"}, home: "/home/me", configured: "",
            deviceFile: ""});
        same(linux, ["/usr/local/bin/midi-llm-bridge", "/home/me/.local/bin/midi-llm-bridge"]);
        // The lock: a stale one (its daemon gone) is taken over; a live holder is respected.
        const L = vm.runInContext("LauncherLock", context);
        const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "midi-llm-lock-"));
        const lock = path.join(dir, "daemon-1.lock");
        fs.writeFileSync(lock, JSON.stringify({launcher: 999999999, daemon: 999999998, at: 0}));
        same(L.claim(lock, Date.now()), {owner: true}, "a stale lock is taken over");
        fs.writeFileSync(lock, JSON.stringify({launcher: 1, daemon: process.pid, at: 0}));
        assert.strictEqual(L.claim(lock, Date.now()).owner, false, "a running daemon's lock is respected");
        return {mac: mac.length, win: win.length};
    },
};

scenarioMain(scenarios);
