// [node.script midi-llm-launcher.js @autostart 1] for the tests: the launcher, built from its
// sources as build_amxd.py builds it, run the way Node for Max runs a script.
//
// What it models (Node for Max's documentation): the script runs in a Node process of its own,
// started when the patcher loads (@autostart 1), with the "max-api" module available without
// installing it (here tests/m4l/node_for_max on NODE_PATH); messages into the object's inlet go to
// the script's handlers; what the script sends with outlet() comes out of the left outlet, here into
// the [js] script's inlet 0 through [deferlow]; console output and post() go to the Max window.
// Closing Live (or deleting the device) ends that process: kill().
"use strict";

const childProcess = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

// The launcher as one file, as the build writes midi-llm-launcher.js (a fresh copy per process).
function buildLauncher(sourceList) {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "midi-llm-launcher-")), "midi-llm-launcher.js");
    fs.writeFileSync(file, sourceList("midi-llm-launcher.js").map((f) => fs.readFileSync(f, "utf8")).join("\n"));
    return file;
}

class NodeScript {
    /** onMessage(values): a message out of the left outlet; env: the process's environment. */
    constructor({script, env, onMessage}) {
        this.posts = [];
        this.sent = [];
        this.exited = null;
        this.process = childProcess.fork(script, [], {
            env: {...process.env, ...env, NODE_PATH: path.join(__dirname, "node_for_max"), MAX_ENV: "maxforlive"},
            stdio: ["ignore", "pipe", "pipe", "ipc"],
        });
        for (const stream of [this.process.stdout, this.process.stderr]) {
            stream.on("data", (data) => this.posts.push(String(data).trimEnd()));
        }
        this.process.on("message", (message) => {
            if (message.post !== undefined) {
                this.posts.push(message.post);
            } else if (message.outlet) {
                setImmediate(() => onMessage(message.outlet)); // [deferlow]
            }
        });
        this.process.on("exit", (code, signal) => { this.exited = {code, signal}; });
    }

    get pid() {
        return this.process.pid;
    }

    // A message into the inlet: values[0] is the selector.
    send(values) {
        this.sent.push(values);
        if (this.exited === null && this.process.connected) {
            this.process.send({selector: String(values[0]), args: values.slice(1)});
        }
    }

    kill(signal = "SIGTERM") {
        if (this.exited === null) {
            this.process.kill(signal);
        }
        return new Promise((resolve) => {
            if (this.exited !== null) {
                resolve();
            } else {
                this.process.once("exit", () => resolve());
            }
        });
    }
}

module.exports = {NodeScript, buildLauncher};
