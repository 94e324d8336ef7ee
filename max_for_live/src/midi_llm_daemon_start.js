// MIDI-LLM for Max for Live: bringing the daemon up, shared by the device and the MIDI Tools.
//
// ES5 only (Max's classic [js] object). Adds to MidiLLMClient.Client (midi_llm_client.js) what
// happens when no daemon answers or it is not ready yet:
//   - no daemon answers on the port: with "start automatically" on (or on Start daemon), the
//     launcher ([node.script midi-llm-launcher.js], which can start programs; the classic js
//     cannot) starts one, detached; the client then pings it until it answers;
//   - the daemon answers but is not ready (downloading, loading, warming_up): the status line
//     shows its state and message, polled every second; a request pressed meanwhile waits and
//     goes when the daemon says ready (Cancel stops waiting);
//   - state error: the status line shows the daemon's sentence and Start daemon becomes Reload
//     model, which sends /midi-llm/reload.
// The launcher answers with "launcher <kind> ..." messages (see midi_llm_launcher.js), handled by
// onLauncher().

var MidiLLMDaemon = (function (core, client) {
    "use strict";

    var POLL = 1000;               // ping this often while the daemon starts or loads
    var STARTUP_TIMEOUT = 180000;  // how long a started daemon may take to answer (it imports torch first)
    var EXIT_GRACE = 5000;         // after the started daemon exited, how long another may still answer

    var Client = client.Client;

    // ready, error and shutting_down are final for a waiting request; any other state (downloading,
    // loading, warming_up, or one this client does not know yet) means "not yet".
    function notYet(state) {
        return state !== "ready" && state !== "error" && state !== "shutting_down";
    }

    function buttonFor(pong) {
        return pong && pong.state === "error" ? "Reload model" : "Start daemon";
    }

    // An idle check's pong: say what the daemon does; while it is not ready, look again.
    Client.prototype.showDaemon = function (pong) {
        this.say(core.TEXT.daemonState(pong));
        this.daemonButton(buttonFor(pong));
        if (pong.state === "ready") {
            this.send(core.statusMessage(this.nextId(), this.replyPort, this.secret()));
        } else if (notYet(pong.state)) {
            this.watch.schedule(POLL);
        }
    };

    Client.prototype.onWatch = function () {
        if (this.state === "idle") {
            this.check();
        }
    };

    // A request's pong: go on (then) when the daemon is ready, wait while it is not yet, stop on
    // error or shutting down.
    Client.prototype.whenReady = function (pong, then) {
        this.daemonButton(buttonFor(pong));
        if (pong.state === "ready") {
            this.state = "connecting";
            this.pending = null;
            then.call(this);
        } else if (notYet(pong.state)) {
            this.state = "starting";
            this.pending = then;
            this.say(core.TEXT.waiting(core.TEXT.daemonState(pong)));
            this.poller.schedule(POLL);
        } else {
            this.finish(core.TEXT.daemonState(pong));
        }
    };

    // The daemon is starting (or loading) and nothing waits on it: Generate may still be pressed.
    Client.prototype.waitingAlone = function () {
        return this.state === "starting" && !this.pending;
    };

    Client.prototype.pollStartup = function () {
        if (this.state !== "starting") {
            return;
        }
        this.ping(function (pong) {
            if (this.state !== "starting") {
                return;
            }
            if (this.pending) {
                this.whenReady(pong, this.pending);
            } else if (notYet(pong.state)) {
                this.say(core.TEXT.daemonState(pong));
                this.poller.schedule(POLL);
            } else {
                this.state = "idle";
                this.showDaemon(pong);
            }
        });
    };

    // No daemon answered a ping (not during a job: see onPongTimeout).
    Client.prototype.daemonDown = function () {
        if (this.state === "starting") {
            this.onStartupSilence();
            return;
        }
        var asked = this.startAsked;
        this.startAsked = false;
        if (this.launcherReady && (asked || (this.settings.autostart && !this.launchFailed))) {
            this.launch(this.state === "connecting" ? this.connectThen : null);
            return;
        }
        this.daemonAbsent = true;
        this.finish(core.TEXT.notRunning(this.settings.daemonPort, this.launcherReady));
    };

    // Ask the launcher to start the daemon (unless this client asked already and the daemon may still
    // come up), then ping until it answers.
    Client.prototype.launch = function (then) {
        var port = this.settings.daemonPort;
        var now = Date.now();
        this.state = "starting";
        this.pending = then || null;
        this.daemonAbsent = false;
        if (!(this.launchOpen && this.launchPort === port && now - this.startedAt < STARTUP_TIMEOUT)) {
            this.launchOpen = true;
            this.launchPort = port;
            this.startedAt = now;
            this.exitedAt = 0;
            var message = ["launch", port];
            var file = this.deviceFile();
            if (file) {
                message.push(file);
            }
            this.toLauncher(message);
        }
        this.say(this.pending ? core.TEXT.waiting(core.TEXT.starting(port)) : core.TEXT.starting(port));
        this.poller.schedule(POLL);
    };

    // While the started daemon has not answered yet: wait, unless it exited or took too long.
    Client.prototype.onStartupSilence = function () {
        var now = Date.now();
        if (this.exitedAt && now - this.exitedAt > EXIT_GRACE) {
            this.launchOpen = false;
            this.finish(core.TEXT.exited(this.exit.code, this.exit.line, this.exit.log));
        } else if (now - this.startedAt > STARTUP_TIMEOUT) {
            this.launchOpen = false;
            this.finish(core.TEXT.neverAnswered(this.settings.daemonPort, this.logPath || "(see the Max window)"));
        } else {
            this.poller.schedule(POLL);
        }
    };

    // Start daemon / Reload model: reload when the daemon is in state error, start it when none
    // answers (whether or not "start automatically" is on), else say what it does.
    Client.prototype.startOrReload = function () {
        if (!this.canCheck()) {
            return;
        }
        this.startAsked = true;
        this.launchFailed = false;
        this.state = "checking";
        this.ping(function (pong) {
            this.startAsked = false;
            if (pong.state === "error") {
                this.say(core.TEXT.reloading);
                this.ping(function (again) {
                    this.state = "idle";
                    this.showDaemon(again);
                }, core.reloadMessage);
                return;
            }
            this.state = "idle";
            this.showDaemon(pong);
        });
    };

    // "launcher <kind> args...": the launcher's answers.
    Client.prototype.onLauncher = function (kind, args) {
        var port = this.settings.daemonPort;
        switch (kind) {
        case "hello":
            var first = !this.launcherReady;
            this.launcherReady = true;
            this.showInstallation(args.length ? String(args[0]) : "");
            if (args.length > 1 && String(args[1]) !== "" && this.secret() === "") {
                // The secret the launcher remembers for this user (typed into any MIDI-LLM's Secret);
                // one typed here already wins (the launcher may say hello before it heard of it).
                this.settings.secret = String(args[1]);
                this.showSecret(this.secret());
                if (this.state === "checking") {
                    this.pongWaiter = null; // asked without the secret: ask again with it
                    this.pongTimer.cancel();
                    this.state = "idle";
                }
                if (this.state === "idle") {
                    this.check();
                }
            }
            if (first && this.daemonAbsent && this.settings.autostart && this.state === "idle") {
                this.launch(null);
            }
            break;
        case "started":
            this.logPath = String(args[2]);
            this.log("started " + args[1] + " serve --port " + port + " (process " + args[0] + "), detached from " +
                "Live; its log: " + args[2]);
            break;
        case "running":
            this.logPath = String(args[1]);
            if (this.state === "starting") {
                this.say(this.pending ? core.TEXT.waiting(core.TEXT.startedElsewhere(port)) :
                    core.TEXT.startedElsewhere(port));
            }
            break;
        case "failed":
            this.launchFailed = true;
            this.launchOpen = false;
            this.log(String(args[0]));
            if (this.state === "starting") {
                this.finish("daemon not running on port " + port + ": " + args[0]);
            }
            break;
        case "exited":
            this.exitedAt = Date.now();
            this.exit = {code: args[1], log: String(args[2]), line: args.length > 3 ? String(args[3]) : ""};
            this.log("the daemon (process " + args[0] + ") exited with " + args[1] + "; its log: " + args[2]);
            break;
        case "installation":
            this.launchFailed = false;
            this.showInstallation(String(args[0] || ""));
            this.say(args[1] === "found" ? "Daemon path: starts " + args[2] : String(args[2]));
            break;
        default:
            this.log("unknown launcher message " + kind);
        }
    };

    return {POLL: POLL, STARTUP_TIMEOUT: STARTUP_TIMEOUT, EXIT_GRACE: EXIT_GRACE, notYet: notYet};
}(MidiLLM, MidiLLMClient));
