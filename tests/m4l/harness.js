// Runs the device's JavaScript under node as Max's classic [js] object would run it.
//
// The ES5 sources (max_for_live/src) are evaluated in a vm context whose ES2015+ library
// functions are removed, with fakes of what Max provides: post, outlet, messagename, Task,
// and LiveAPI (tests/m4l/fake_live.js). Outlet 0 goes to a real UDP socket as OSC, like
// [udpsend 127.0.0.1 <port>]; a UDP socket bound to the device's reply port feeds the
// decoded replies back into the script's anything(), deferred like [udpreceive] ->
// [deferlow]. Outlet 1 (the UI) is recorded: the status line, the button label, the ports.
"use strict";

const dgram = require("dgram");
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const {NodeScript, buildLauncher} = require("./fake_node_script");

const ROOT = path.resolve(__dirname, "..", "..");
const SRC = path.join(ROOT, "max_for_live", "src");

// A built script's sources in load order, from src/sources.json (as build_amxd.py reads it):
// "@group" stands for that group's files.
function sourceList(name) {
    const table = JSON.parse(fs.readFileSync(path.join(SRC, "sources.json"), "utf8"));
    return table[name].flatMap((entry) => (entry.startsWith("@") ? table[entry.slice(1)] : [entry]))
        .map((file) => path.join(SRC, file));
}

// The sources, or (MIDI_LLM_JS=FILE) the built midi-llm.js the device ships (the tests take it out
// of the built MIDI-LLM.amxd).
const SOURCES = process.env.MIDI_LLM_JS ? [path.resolve(process.env.MIDI_LLM_JS)] : sourceList("midi-llm.js");
// The MIDI Tools' sources, or (MIDI_LLM_TOOL_JS=FILE) the built midi-llm-tool.js.
const TOOL_SOURCES = process.env.MIDI_LLM_TOOL_JS
    ? [path.resolve(process.env.MIDI_LLM_TOOL_JS)]
    : sourceList("midi-llm-tool.js");
// The modules without Max or Live (for the unit tests), or the built script, which defines them too.
const PURE_SOURCES = process.env.MIDI_LLM_JS ? SOURCES : sourceList("pure");
const TOOL_PURE_SOURCES = process.env.MIDI_LLM_TOOL_JS
    ? TOOL_SOURCES
    : sourceList("pure").concat(sourceList("tool_pure"));

// What Max's JavaScript (ES5) does not have: removed from the sandbox so that a call to one
// of them fails in the tests as it would in Live.
const ES2015_PLUS = `
(function () {
    var gone = {
        "String.prototype": ["startsWith", "endsWith", "includes", "repeat", "padStart", "padEnd",
                             "trimStart", "trimEnd", "codePointAt", "normalize", "at", "replaceAll"],
        "Array.prototype": ["includes", "find", "findIndex", "findLast", "findLastIndex", "fill",
                            "copyWithin", "entries", "keys", "values", "flat", "flatMap", "at"],
        "Array": ["from", "of"],
        "Object": ["assign", "entries", "values", "fromEntries", "is", "getOwnPropertySymbols"],
        "Number": ["isFinite", "isInteger", "isNaN", "isSafeInteger", "parseFloat", "parseInt", "EPSILON"],
        "Math": ["trunc", "sign", "log10", "log2", "cbrt", "hypot", "fround", "clz32", "imul", "expm1", "log1p"]
    };
    for (var owner in gone) {
        var target = owner.split(".").reduce(function (o, k) { return o[k]; }, this);
        for (var i = 0; i < gone[owner].length; i++) {
            delete target[gone[owner][i]];
        }
    }
    var globals = ["Promise", "Map", "Set", "WeakMap", "WeakSet", "Proxy", "Reflect", "BigInt",
                   "globalThis", "queueMicrotask", "structuredClone"];
    for (var g = 0; g < globals.length; g++) {
        delete this[globals[g]];
    }
}).call(this);
`;

// ----- a small OSC 1.0 codec ----------------------------------------------------------------

function padded(buffer) {
    const size = Math.ceil((buffer.length + 1) / 4) * 4;
    const out = Buffer.alloc(size);
    buffer.copy(out);
    return out;
}

// Max's types: an integral number is an int ('i'), any other number a float ('f'), text 's'.
function encodeOsc(address, args) {
    let tags = ",";
    const parts = [];
    for (const value of args) {
        if (typeof value === "number") {
            if (Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) {
                tags += "i";
                const b = Buffer.alloc(4);
                b.writeInt32BE(value);
                parts.push(b);
            } else {
                tags += "f";
                const b = Buffer.alloc(4);
                b.writeFloatBE(value);
                parts.push(b);
            }
        } else if (typeof value === "string") {
            tags += "s";
            parts.push(padded(Buffer.from(value, "utf8")));
        } else {
            throw new Error(`a Max message cannot carry ${typeof value} ${JSON.stringify(value)}`);
        }
    }
    return Buffer.concat([padded(Buffer.from(address, "utf8")), padded(Buffer.from(tags, "ascii")), ...parts]);
}

function readString(buffer, offset) {
    let end = offset;
    while (end < buffer.length && buffer[end] !== 0) {
        end++;
    }
    return [buffer.toString("utf8", offset, end), Math.ceil((end + 1) / 4) * 4];
}

function decodeMessage(buffer) {
    let [address, offset] = readString(buffer, 0);
    let tags;
    [tags, offset] = readString(buffer, offset);
    const args = [];
    for (const tag of tags.slice(1)) {
        switch (tag) {
        case "i": args.push(buffer.readInt32BE(offset)); offset += 4; break;
        case "f": args.push(buffer.readFloatBE(offset)); offset += 4; break;
        case "d": args.push(buffer.readDoubleBE(offset)); offset += 8; break;
        case "h": args.push(Number(buffer.readBigInt64BE(offset))); offset += 8; break;
        case "s": { let s; [s, offset] = readString(buffer, offset); args.push(s); break; }
        case "T": args.push(1); break;
        case "F": args.push(0); break;
        case "N": args.push(null); break;
        default: throw new Error(`OSC type tag ${tag} not handled`);
        }
    }
    return [address, args];
}

function decodeOsc(buffer) {
    if (buffer.toString("ascii", 0, 8) === "#bundle\0") {
        const found = [];
        let offset = 16;
        while (offset < buffer.length) {
            const size = buffer.readInt32BE(offset);
            found.push(...decodeOsc(buffer.subarray(offset + 4, offset + 4 + size)));
            offset += 4 + size;
        }
        return found;
    }
    return [decodeMessage(buffer)];
}

// ----- one device ------------------------------------------------------------------------------

class MaxDevice {
    /**
     * options: {live: FakeLive, name, sources (default: the src files), dropIncoming(address, args):
     *           true to lose that datagram (a lost UDP packet), onIncoming(address, args): called as
     *           each reply arrives, before the script sees it (the user editing Live meanwhile),
     *           jsarguments (the [js] box's words),
     *           globals (more of Max's globals, e.g. Dict), onOutlet(index, values): true when it
     *           took a message of another outlet than OSC (0) and UI (1), launcherOutlet (the [js]
     *           outlet wired to [node.script midi-llm-launcher.js]: 2, a tool's 4), launcher ({env}:
     *           run the real launcher in its own process, as node.script does; without it, no
     *           node.script answers, as where Node for Max is missing), filepath (the .amxd's path,
     *           this.patcher.filepath)}
     */
    constructor(options) {
        this.live = options.live;
        this.name = options.name || "device";
        this.sources = options.sources || SOURCES;
        this.dropIncoming = options.dropIncoming || null;
        this.onIncoming = options.onIncoming || null;
        this.jsarguments = options.jsarguments || ["midi-llm.js"];
        this.globals = options.globals || {};
        this.onOutlet = options.onOutlet || null;
        this.launcherOutlet = options.launcherOutlet === undefined ? 2 : options.launcherOutlet;
        this.toLauncher = [];  // every message the script sent to node.script
        this.daemonLabels = [];
        this.installations = [];
        this.secrets = [];     // what the script showed in the Secret field
        this.launcherReplies = [];
        this.nodeScript = null;
        if (options.launcher) {
            this.nodeScript = new NodeScript({
                script: buildLauncher(sourceList), env: options.launcher.env || {},
                onMessage: (values) => {
                    this.launcherReplies.push(values);
                    this.message(String(values[0]), ...values.slice(1));
                },
            });
        }
        this.filepath = options.filepath || "";
        this.inlet = 0;
        this.daemonPort = 9123;
        this.replyPort = null;
        this.statuses = [];
        this.buttons = [];
        this.sent = [];        // every OSC message the device sent: [address, ...args]
        this.received = [];    // every reply that reached the device
        this.posts = [];
        this.errors = [];
        this.taskCounter = 0;
        this.timers = new Set();
        this.sendSocket = dgram.createSocket("udp4");
        this.receiveSocket = null;
        this.closed = false;
        this.context = this.makeContext();
    }

    makeContext() {
        const self = this;
        const live = this.live;
        function Task(callback, owner) {
            this.callback = callback;
            this.owner = owner;
            this.handle = null;
        }
        Task.prototype.schedule = function (delay) {
            this.cancel();
            const task = this;
            task.handle = setTimeout(() => {
                self.timers.delete(task.handle);
                task.handle = null;
                self.runTask(() => task.callback.call(task.owner));
            }, Math.max(0, delay || 0));
            self.timers.add(task.handle);
        };
        Task.prototype.cancel = function () {
            if (this.handle) {
                clearTimeout(this.handle);
                self.timers.delete(this.handle);
                this.handle = null;
            }
        };
        const sandbox = {
            post: (...parts) => { self.posts.push(parts.join(" ")); },
            error: (...parts) => { self.errors.push(parts.join(" ")); },
            outlet: (index, ...values) => self.outlet(index, values.length === 1 && Array.isArray(values[0]) ? values[0] : values),
            Task,
            LiveAPI: live.liveAPI(),
            messagename: "",
            inlet: 0,
            jsarguments: this.jsarguments,
            patcher: {filepath: this.filepath},
            ...this.globals,
        };
        const context = vm.createContext(sandbox);
        vm.runInContext(ES2015_PLUS, context, {filename: "es5-sandbox.js"});
        live.loading = true;
        try {
            for (const file of this.sources) {
                vm.runInContext(fs.readFileSync(file, "utf8"), context, {filename: file});
            }
        } finally {
            live.loading = false;
        }
        return context;
    }

    runTask(callback) {
        if (this.closed) {
            return;
        }
        this.taskCounter += 1;
        this.live.currentTask = `${this.name}:${this.taskCounter}`;
        try {
            callback();
        } catch (error) {
            this.errors.push(`in a Task: ${error.stack || error}`);
        } finally {
            this.live.currentTask = null;
        }
    }

    // What Max does with a message into the [js] inlet: call the function of that name, or
    // anything() with messagename set.
    message(selector, ...args) {
        if (this.closed) {
            return;
        }
        const context = this.context;
        context.messagename = selector;
        context.inlet = this.inlet;
        try {
            if (typeof context[selector] === "function" && selector.charAt(0) !== "/") {
                context[selector](...args);
            } else {
                context.anything(...args);
            }
        } catch (error) {
            this.errors.push(`in ${selector}: ${error.stack || error}`);
        }
    }

    // A message into another inlet than the first (Max sets the script's global `inlet`).
    messageTo(inlet, selector, ...args) {
        this.inlet = inlet;
        try {
            this.message(selector, ...args);
        } finally {
            this.inlet = 0;
        }
    }

    outlet(index, values) {
        if (this.onOutlet && this.onOutlet(index, values)) {
            return;
        }
        if (index === this.launcherOutlet) {
            this.toLauncher.push(values);
            if (this.nodeScript) {
                this.nodeScript.send(values);
            }
            return;
        }
        if (index === 0) {
            const [address, ...args] = values;
            this.sent.push([address, ...args]);
            this.sendSocket.send(encodeOsc(address, args), this.daemonPort, "127.0.0.1");
            return;
        }
        const [selector, ...args] = values;
        switch (selector) {
        case "status": this.statuses.push(String(args.join(" "))); break;
        case "button": this.buttons.push(String(args[0])); break;
        case "daemonport": this.daemonPort = args[0]; break;
        case "replyport": this.bindReplyPort(args[0]); break;
        case "daemon": this.daemonLabels.push(String(args[0])); break;
        case "installation": this.installations.push(String(args.join(" "))); break;
        case "secret": this.secrets.push(String(args.join(" "))); break;
        default: this.errors.push(`unknown UI message ${values.join(" ")}`);
        }
    }

    bindReplyPort(port) {
        if (this.replyPort === port && this.receiveSocket) {
            return;
        }
        if (this.receiveSocket) {
            this.receiveSocket.close();
        }
        this.replyPort = port;
        const socket = dgram.createSocket("udp4");
        this.receiveSocket = socket;
        this.bound = new Promise((resolve, reject) => {
            socket.once("error", reject);
            socket.bind(port, "127.0.0.1", () => resolve());
        });
        socket.on("message", (data) => {
            for (const [address, args] of decodeOsc(data)) {
                if (this.dropIncoming && this.dropIncoming(address, args)) {
                    continue;
                }
                this.received.push([address, ...args]);
                if (this.onIncoming) {
                    this.onIncoming(address, args);
                }
                setImmediate(() => this.message(address, ...args)); // [deferlow]
            }
        });
    }

    // live.thisdevice has banged.
    async init(settings = {}) {
        for (const [selector, value] of Object.entries(settings)) {
            if (Array.isArray(value)) {
                this.message(selector, ...value);
            } else {
                this.message(selector, value);
            }
        }
        this.message("init");
        await this.bound;
    }

    get status() {
        return this.statuses.length ? this.statuses[this.statuses.length - 1] : "";
    }

    get button() {
        return this.buttons.length ? this.buttons[this.buttons.length - 1] : "";
    }

    async waitFor(predicate, timeout, what) {
        const deadline = Date.now() + timeout;
        while (Date.now() < deadline) {
            if (predicate()) {
                return;
            }
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
        throw new Error(`timed out after ${timeout} ms waiting for ${what}; status: ${JSON.stringify(this.status)}; ` +
            `statuses: ${JSON.stringify(this.statuses.slice(-8))}; errors: ${JSON.stringify(this.errors)}; ` +
            `posts: ${JSON.stringify(this.posts.slice(-8))}`);
    }

    // Waits until the status line says one of the words (and the button is back to Generate).
    async waitForStatus(words, timeout) {
        await this.waitFor(() => words.some((w) => this.status.includes(w)) && this.button === "Generate",
            timeout, `a status with ${JSON.stringify(words)}`);
        return this.status;
    }

    close() {
        if (this.closed) {
            return;
        }
        this.message("notifydeleted");
        this.closed = true;
        for (const handle of this.timers) {
            clearTimeout(handle);
        }
        this.timers.clear();
        if (this.receiveSocket) {
            this.receiveSocket.close();
        }
        this.sendSocket.close();
    }

    // Live closes: the device goes, and Max ends the node.script process (signal: how).
    async quit(signal = "SIGTERM") {
        this.close();
        if (this.nodeScript) {
            await this.nodeScript.kill(signal);
        }
    }
}

// A UDP port on loopback that nothing listens on (for "daemon down").
function freePort() {
    return new Promise((resolve) => {
        const socket = dgram.createSocket("udp4");
        socket.bind(0, "127.0.0.1", () => {
            const port = socket.address().port;
            socket.close(() => resolve(port));
        });
    });
}

module.exports = {MaxDevice, encodeOsc, decodeOsc, freePort, sourceList, SOURCES, TOOL_SOURCES, PURE_SOURCES,
    TOOL_PURE_SOURCES, ROOT};
