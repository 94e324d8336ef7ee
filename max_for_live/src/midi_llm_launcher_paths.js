// MIDI-LLM launcher (Node for Max): where to look for the daemon's program, and where to keep the
// daemon's log, the start lock and the remembered installation, on macOS, Windows and Linux.
//
// Node (the node.script object runs it in its own Node process), not Max's classic [js]. Pure:
// every function takes the platform, the environment and the home folder, so that the tests can
// ask for any OS; only isProgram() looks at the disk.

var LauncherPaths = (function () {
    "use strict";

    const fs = require("fs");
    const path = require("path");

    const PROGRAM = "midi-llm-bridge";
    const DEVICE_LEVELS = 5; // a tool lies 3 folders below the checkout (max_for_live/MIDI Tools/Max Generators)

    function pathsFor(platform) {
        return platform === "win32" ? path.win32 : path.posix;
    }

    function programName(platform) {
        return platform === "win32" ? PROGRAM + ".exe" : PROGRAM;
    }

    // The program inside a virtual environment: bin/ on macOS and Linux, Scripts\ on Windows.
    function inVenv(platform, venv) {
        const p = pathsFor(platform);
        return platform === "win32" ? p.join(venv, "Scripts", programName(platform)) : p.join(venv, "bin", PROGRAM);
    }

    // The folder for the daemon's log, the start lock and the remembered installation (per user;
    // MIDI_LLM_BRIDGE_STATE_DIR overrides it).
    function stateDir(platform, env, home) {
        const p = pathsFor(platform);
        if (env.MIDI_LLM_BRIDGE_STATE_DIR) {
            return env.MIDI_LLM_BRIDGE_STATE_DIR;
        }
        if (platform === "darwin") {
            return p.join(home, "Library", "Application Support", PROGRAM);
        }
        if (platform === "win32") {
            return p.join(env.LOCALAPPDATA || p.join(home, "AppData", "Local"), PROGRAM);
        }
        return p.join(env.XDG_STATE_HOME || p.join(home, ".local", "state"), PROGRAM);
    }

    function logFile(dir, port) {
        return path.join(dir, "daemon-" + port + ".log");
    }

    function lockFile(dir, port) {
        return path.join(dir, "daemon-" + port + ".lock");
    }

    function settingsFile(dir) {
        return path.join(dir, "max-for-live.json");
    }

    // A configured installation may name the program itself, a virtual environment, or a checkout
    // of the project (its .venv).
    function fromConfigured(platform, configured) {
        const p = pathsFor(platform);
        return [configured, inVenv(platform, configured), inVenv(platform, p.join(configured, ".venv"))];
    }

    // The checkout the device's file lies in: the .venv of each folder above it.
    function fromDeviceFile(platform, deviceFile) {
        const p = pathsFor(platform);
        const found = [];
        let folder = p.dirname(deviceFile);
        for (let level = 0; level < DEVICE_LEVELS; level++) {
            found.push(inVenv(platform, p.join(folder, ".venv")));
            const parent = p.dirname(folder);
            if (parent === folder) {
                break;
            }
            folder = parent;
        }
        return found;
    }

    // The PATH, then the folders a program started from the Finder or the Start menu does not
    // have on its PATH: pipx's ~/.local/bin and, on macOS, Homebrew's.
    function fromPath(platform, env, home) {
        const p = pathsFor(platform);
        const separator = platform === "win32" ? ";" : ":";
        const folders = String(env.PATH || env.Path || "").split(separator).filter(Boolean);
        folders.push(p.join(home, ".local", "bin"));
        if (platform === "darwin") {
            folders.push("/opt/homebrew/bin", "/usr/local/bin");
        }
        return folders.map((folder) => p.join(folder, programName(platform)));
    }

    // Every place to look, in order: the configured installation, the checkout the device is in,
    // the PATH. where: {platform, env, home, configured, deviceFile}.
    function candidates(where) {
        const found = [];
        if (where.configured) {
            found.push(...fromConfigured(where.platform, where.configured));
        }
        if (where.deviceFile) {
            found.push(...fromDeviceFile(where.platform, where.deviceFile));
        }
        found.push(...fromPath(where.platform, where.env, where.home));
        return found.filter((file, index) => found.indexOf(file) === index);
    }

    // A file that can be run (on Windows, any file: the .exe was asked for by name).
    function isProgram(file, platform) {
        try {
            const stat = fs.statSync(file);
            return stat.isFile() && (platform === "win32" || (stat.mode & 0o111) !== 0);
        } catch (error) {
            return false;
        }
    }

    // {program (or null), looked (where it looked, for the message when nothing is found)}.
    function findProgram(where, test) {
        const looked = candidates(where);
        const check = test || ((file) => isProgram(file, where.platform));
        return {program: looked.find(check) || null, looked: looked};
    }

    return {
        PROGRAM: PROGRAM, inVenv: inVenv, stateDir: stateDir, logFile: logFile, lockFile: lockFile,
        settingsFile: settingsFile, fromConfigured: fromConfigured, candidates: candidates, isProgram: isProgram, findProgram: findProgram
    };
}());
