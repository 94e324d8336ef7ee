// MIDI-LLM launcher (Node for Max): the start lock, so that several devices and tools (each with its
// own Node process) start one daemon per port, not one each.
//
// The lock is a file that exactly one process can create: its content is written to a file of the
// launcher's own, then hard-linked to the lock's name, which fails when the name exists (so no
// other launcher ever reads a lock half written); updates replace it by a rename. It names the
// launcher that holds it and, once started, the daemon's process id. A
// lock whose daemon (or, before the start, whose launcher) is no longer alive is stale and taken
// over. The daemon's own port bind is the final arbiter: a second daemon on a port in use exits at
// once (so a REAPER action starting one at the same moment does no harm either).

var LauncherLock = (function () {
    "use strict";

    const fs = require("fs");

    const CLAIM_GRACE = 15000; // a launcher that claimed the lock has this long to start the daemon

    function alive(pid) {
        if (!pid) {
            return false;
        }
        try {
            process.kill(pid, 0);
            return true;
        } catch (error) {
            return error.code === "EPERM"; // alive, someone else's
        }
    }

    function read(file) {
        try {
            return JSON.parse(fs.readFileSync(file, "utf8"));
        } catch (error) {
            return null;
        }
    }

    function age(file, now) {
        try {
            return now - fs.statSync(file).mtimeMs;
        } catch (error) {
            return Infinity;
        }
    }

    function held(file, holder, now) {
        if (!holder) {
            return age(file, now) < CLAIM_GRACE; // unreadable: stale only once old
        }
        if (holder.daemon) {
            return alive(holder.daemon);
        }
        return alive(holder.launcher) && now - holder.at < CLAIM_GRACE;
    }

    // {owner: true} when this process may start the daemon, else {owner: false, holder: {launcher,
    // daemon, at}} (the daemon being started or running).
    function claim(file, now) {
        const mine = file + "." + process.pid;
        for (let attempt = 0; attempt < 3; attempt++) {
            fs.writeFileSync(mine, JSON.stringify({launcher: process.pid, daemon: 0, at: now}));
            try {
                fs.linkSync(mine, file);
                return {owner: true};
            } catch (error) {
                if (error.code !== "EEXIST") {
                    throw error;
                }
            } finally {
                fs.unlinkSync(mine);
            }
            const holder = read(file);
            if (held(file, holder, now)) {
                return {owner: false, holder: holder};
            }
            try {
                fs.unlinkSync(file); // stale: its daemon is gone
            } catch (error) {
                // another launcher removed it first: try to create it again
            }
        }
        return {owner: false, holder: read(file) || {launcher: 0, daemon: 0, at: now}};
    }

    // The daemon is started: the lock now names it.
    function started(file, daemon, now) {
        const mine = file + "." + process.pid;
        fs.writeFileSync(mine, JSON.stringify({launcher: process.pid, daemon: daemon, at: now}));
        fs.renameSync(mine, file);
    }

    // The daemon this process started is gone (or never started): free the lock, if it is still ours.
    function release(file, daemon) {
        const holder = read(file);
        if (holder && holder.launcher === process.pid && (!daemon || holder.daemon === daemon || !holder.daemon)) {
            try {
                fs.unlinkSync(file);
            } catch (error) {
                // already gone
            }
        }
    }

    return {claim: claim, started: started, release: release, alive: alive, read: read};
}());
