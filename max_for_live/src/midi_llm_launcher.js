// MIDI-LLM launcher (Node for Max): starts the midi-llm-bridge daemon for the device and the tools.
//
// Max's classic [js] cannot start a program; [node.script midi-llm-launcher.js @autostart 1] runs
// this file in a Node process of its own. The [js] script sends it messages through its inlet, and
// it answers out of its left outlet with messages that begin with "launcher":
//
//   in:  launch <port> [device file]   start the daemon for <port>, unless a start is under way
//        installation [path]           remember where midi-llm-bridge is (empty: forget it)
//        secret [token]                remember the daemon's osc.secret (empty: none); a daemon it
//                                      starts gets it (MIDI_LLM_BRIDGE__OSC__SECRET)
//   out: launcher hello <path> <secret>  the launcher runs; the remembered installation and secret
//        launcher started <pid> <program> <log>  a daemon was started, detached, its output in <log>
//        launcher running <pid> <log>  another device or tool is starting one (or did): wait for it
//        launcher failed <sentence>    it could not start one; the sentence says what to do
//        launcher exited <pid> <code> <log> [last line]  a daemon it started has exited
//        launcher installation <path> <found|missing> [sentence]
//
// The daemon runs detached (its own session and process group), its output appended to a log
// file, and unreferenced: closing Live (which ends this process) leaves it running, shared by
// every device, tool and DAW; while this process lives it collects the exit of what it started,
// so no zombie is left. Whether a daemon already answers is the [js] script's ping; the lock
// (midi_llm_launcher_lock.js) keeps two launchers from starting two.

var LauncherMain = (function () {
    "use strict";

    const childProcess = require("child_process");
    const fs = require("fs");
    const os = require("os");
    const maxApi = require("max-api");

    const where = {platform: process.platform, env: process.env, home: os.homedir()};
    const dir = LauncherPaths.stateDir(where.platform, where.env, where.home);

    function reply(...values) {
        return maxApi.outlet("launcher", ...values.map((value) => (typeof value === "number" ? value : String(value))));
    }

    // max-for-live.json: {installation, secret}, for every MIDI-LLM device and tool of this user
    // (scripts/setup.py writes the installation of the checkout it set up).
    function rememberedAll() {
        try {
            const stored = JSON.parse(fs.readFileSync(LauncherPaths.settingsFile(dir), "utf8"));
            return stored && typeof stored === "object" ? stored : {};
        } catch (error) {
            return {};
        }
    }

    function remembered(key = "installation") {
        return String(rememberedAll()[key] || "");
    }

    function remember(key, value) {
        const stored = rememberedAll();
        stored[key] = value;
        fs.mkdirSync(dir, {recursive: true});
        const file = LauncherPaths.settingsFile(dir);
        fs.writeFileSync(file + ".new", JSON.stringify(stored, null, 1) + "\n", {mode: 0o600});
        fs.renameSync(file + ".new", file);
    }

    // The daemon's environment: Live's, with the remembered secret when there is one.
    function daemonEnv() {
        const secret = remembered("secret");
        return secret ? Object.assign({}, process.env, {MIDI_LLM_BRIDGE__OSC__SECRET: secret}) : process.env;
    }

    function lastLine(file) {
        try {
            const lines = fs.readFileSync(file, "utf8").split(/\r?\n/).filter((line) => line.trim());
            return lines.length ? lines[lines.length - 1].slice(-300) : "";
        } catch (error) {
            return "";
        }
    }

    function notFound(looked) {
        const shown = looked.slice(0, 4).join(", ") + (looked.length > 4 ? " and " + (looked.length - 4) + " more" : "");
        return "no midi-llm-bridge found to start (looked in " + shown + "): set Daemon path to this project's " +
            "folder (or to its .venv), or start the daemon yourself with `make run`";
    }

    function start(port, deviceFile) {
        const number = Math.round(Number(port));
        if (!(number > 0 && number < 65536)) {
            return reply("failed", "the daemon port " + port + " is not a port number: set Daemon port (e.g. 9123)");
        }
        const found = LauncherPaths.findProgram(Object.assign({configured: remembered(),
            deviceFile: deviceFile ? String(deviceFile) : ""}, where));
        if (!found.program) {
            return reply("failed", notFound(found.looked));
        }
        fs.mkdirSync(dir, {recursive: true});
        const lock = LauncherPaths.lockFile(dir, number);
        const log = LauncherPaths.logFile(dir, number);
        const claim = LauncherLock.claim(lock, Date.now());
        if (!claim.owner) {
            return reply("running", claim.holder.daemon || claim.holder.launcher || 0, log);
        }
        let output;
        try {
            output = fs.openSync(log, "a");
            fs.writeSync(output, "----- " + new Date().toISOString() + ": " + found.program + " serve --port " +
                number + " (started by MIDI-LLM in Live)\n");
        } catch (error) {
            LauncherLock.release(lock, 0);
            return reply("failed", "cannot write the daemon's log " + log + ": " + error.message);
        }
        let child;
        try {
            child = childProcess.spawn(found.program, ["serve", "--port", String(number)], {
                detached: true, stdio: ["ignore", output, output], windowsHide: true, cwd: where.home, env: daemonEnv()
            });
        } catch (error) {
            fs.closeSync(output);
            LauncherLock.release(lock, 0);
            return reply("failed", "cannot start " + found.program + ": " + error.message);
        }
        fs.closeSync(output); // the daemon has its own copy
        child.on("error", (error) => {
            LauncherLock.release(lock, child.pid || 0);
            reply("failed", "cannot start " + found.program + ": " + error.message);
        });
        child.on("exit", (code, signal) => {
            LauncherLock.release(lock, child.pid);
            reply("exited", child.pid, code === null ? String(signal) : code, log, lastLine(log));
        });
        child.unref();
        if (!child.pid) {
            return undefined; // the "error" event says why
        }
        LauncherLock.started(lock, child.pid, Date.now());
        return reply("started", child.pid, found.program, log);
    }

    function setInstallation(...words) {
        const installation = words.join(" ").trim();
        remember("installation", installation);
        if (!installation) {
            return reply("installation", "", "missing", "no Daemon path: looking in the device's folder and on PATH");
        }
        const program = LauncherPaths.fromConfigured(where.platform, installation)
            .find((file) => LauncherPaths.isProgram(file, where.platform));
        if (program) {
            return reply("installation", installation, "found", program);
        }
        return reply("installation", installation, "missing", "no midi-llm-bridge in " + installation + ": give this " +
            "project's folder, its .venv, or the midi-llm-bridge program itself");
    }

    function setSecret(...words) {
        remember("secret", words.join(" "));
    }

    function hello() {
        return reply("hello", remembered("installation"), remembered("secret"));
    }

    maxApi.addHandler("launch", (port, deviceFile) => start(port, deviceFile));
    maxApi.addHandler("installation", setInstallation);
    maxApi.addHandler("secret", setSecret);
    maxApi.addHandler("hello", hello);
    hello();

    return {start: start, setInstallation: setInstallation, setSecret: setSecret};
}());
