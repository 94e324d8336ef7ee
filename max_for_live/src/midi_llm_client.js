// MIDI-LLM for Max for Live: talking to the daemon, shared by the device and the MIDI Tools.
//
// ES5 only (Max's classic [js] object). A Client is the request/reply state machine: the ping
// and its protocol check, the request's messages built (every one with the secret), finish and
// close; midi_llm_client_job.js adds a job (its messages sent in bursts, its replies, cancel,
// resend, the watchdog), midi_llm_daemon_start.js bringing the daemon up. The
// device (midi_llm_device.js) and the tools (midi_llm_tool.js) inherit from it and supply what
// differs:
//
//   options: {settings (the script's settings: daemonPort, replyPort, secret), deviceId, idPrefix,
//             send(message) (outlet 0, to [udpsend]), say(text) (the status line), log(text),
//             ports(daemonPort, replyPort) (to [udpsend] and [udpreceive]), timer(callback)
//             (a reschedulable Task, see MidiLLMClient.timer), cancelStates ({state: true}: the
//             states before a job in which Cancel stops the ping), toLauncher(message) (to
//             [node.script midi-llm-launcher.js]), daemonButton(label) (Start daemon / Reload
//             model), showInstallation(path) (the Daemon path field), showSecret(text) (the
//             Secret field), deviceFile() (the device's .amxd, where the launcher looks for the
//             checkout)}
//   methods the host defines: busy(), setButton(busy), request() (the request under way, to send
//             again), complete(result), finished() (more to reset in finish(), optional),
//             canCheck() (optional; default: not busy).
//
// States: idle, checking, connecting, starting (the daemon starts or loads: see
// midi_llm_daemon_start.js), sending, waiting, queued, running, cancelling, and the host's own
// after a complete result (the device's writing, a tool's ready).

var MidiLLMClient = (function (core) {
    "use strict";

    var PONG_TIMEOUT = 1500;

    // The states in which a job is with the daemon.
    var ACTIVE = {sending: true, waiting: true, queued: true, running: true, cancelling: true};

    // A Task that can be rescheduled: a later schedule() replaces a pending one.
    function timer(owner) {
        return function (callback) {
            var task = new Task(callback, owner);
            return {
                schedule: function (delay) {
                    task.cancel();
                    task.schedule(delay);
                },
                cancel: function () {
                    task.cancel();
                }
            };
        };
    }

    function pick(list, index) {
        var i = Math.round(Number(index));
        return i >= 0 && i < list.length ? list[i] : list[0];
    }

    // The UI's parameters ([varname, message] pairs): read back the stored values at init, in
    // case they were output before the script listened.
    function readInterface(patcher, table, handlers, log) {
        if (!patcher || !patcher.getnamed) {
            return;
        }
        for (var i = 0; i < table.length; i++) {
            try {
                var box = patcher.getnamed(table[i][0]);
                if (box) {
                    handlers[table[i][1]](box.getvalueof());
                }
            } catch (error) {
                log("cannot read " + table[i][0] + ": " + error.message);
            }
        }
    }

    // A message into the script's inlet 0 that is no function of it: a reply of the daemon
    // ("/midi-llm/..."), for client (null while the script loads), or a mistake.
    function dispatch(address, args, client, log) {
        if (address.charAt(0) === "/") {
            if (client) {
                client.onReply(address, args);
            }
            return;
        }
        log("unknown message " + address);
    }

    function Client(options) {
        this.settings = options.settings;
        this.deviceId = options.deviceId;
        this.idPrefix = options.idPrefix;
        this.send = options.send;
        this.say = options.say;
        this.log = options.log;
        this.ports = options.ports;
        this.cancelStates = options.cancelStates;
        this.toLauncher = options.toLauncher;
        this.daemonButton = options.daemonButton;
        this.showInstallation = options.showInstallation;
        this.showSecret = options.showSecret;
        this.deviceFile = options.deviceFile;
        this.counter = 1 + Math.floor(Math.random() * 50000);
        this.state = "idle";
        this.job = null;
        this.pong = null;
        this.pongWaiter = null;
        this.lastHeard = 0;
        this.retried = false;
        this.outbox = [];
        this.maxDatagramBytes = 0;
        this.replyPort = 0;
        this.lastPong = null;      // the daemon's last pong
        this.launcherReady = false; // the launcher said hello: it can start the daemon
        this.launchOpen = false;   // a start was asked for and the daemon has not answered yet
        this.launchFailed = false;
        this.daemonAbsent = false; // the last check found no daemon
        this.startAsked = false;   // Start daemon was pressed
        this.pending = null;       // what goes on when the daemon is ready
        this.connectThen = null;
        this.startedAt = 0;
        this.exitedAt = 0;
        var self = this, timer = options.timer;
        this.pongTimer = timer(function () { self.onPongTimeout(); });
        this.acceptTimer = timer(function () { self.onAcceptTimeout(); });
        this.cancelTimer = timer(function () { self.finish("cancelled"); });
        this.resendTimer = timer(function () { self.onResendTimer(); });
        this.watchdog = timer(function () { self.onWatchdog(); });
        this.sender = timer(function () { self.flush(); });
        this.poller = timer(function () { self.pollStartup(); });
        this.watch = timer(function () { self.onWatch(); });
    }

    // Request ids are text ("<prefix><device id>-<n>"): unique per device, echoed back as text, so
    // no float conversion on the way through Max can change them.
    Client.prototype.nextId = function () {
        this.counter = (this.counter + 1) % 100000;
        return this.idPrefix + this.deviceId + "-" + this.counter;
    };

    // Auto reply port: 9124 + the device's id folded into 9124..9999, never the daemon's port.
    Client.prototype.applyPorts = function () {
        var port = this.settings.replyPort;
        if (!port) {
            port = 9124 + (this.deviceId % 876);
            if (port === this.settings.daemonPort) {
                port += 1;
            }
        }
        this.replyPort = port;
        this.ports(this.settings.daemonPort, port);
    };

    // The daemon's osc.secret as typed into Secret (or remembered by the launcher); "" = none. Every
    // message builder takes it (core.signed adds it), so every request carries it.
    Client.prototype.secret = function () {
        var secret = this.settings.secret;
        return secret === undefined || secret === null ? "" : String(secret);
    };

    // A job is with the daemon (not yet complete, not finished).
    Client.prototype.active = function () {
        return this.job !== null && ACTIVE[this.state] === true;
    };

    Client.prototype.canCheck = function () {
        return !this.busy();
    };

    // Ping the daemon (or send another message it answers with a pong: build(id, replyPort, secret),
    // e.g. core.reloadMessage); then(pong) when it answers, daemonDown() when it does not,
    // onUnauthorized() when it refuses the secret.
    Client.prototype.ping = function (then, build) {
        var id = this.nextId();
        this.pongWaiter = {id: id, then: then};
        this.send((build || core.pingMessage)(id, this.replyPort, this.secret()));
        this.pongTimer.schedule(PONG_TIMEOUT);
    };

    // The daemon answered a ping, a status or a request with unauthorized: it has a secret and this
    // device's Secret is not it. The daemon is there (nothing to start): say what to type.
    Client.prototype.onUnauthorized = function () {
        this.pongWaiter = null;
        this.pongTimer.cancel();
        this.log("the daemon on port " + this.settings.daemonPort + " refused the request: unauthorized");
        this.finish(core.TEXT.unauthorized(this.settings.daemonPort, this.secret() !== ""));
    };


    Client.prototype.onPong = function (args) {
        var pong = core.parsePong(args);
        if (!this.pongWaiter || String(pong.id) !== String(this.pongWaiter.id)) {
            return;
        }
        var then = this.pongWaiter.then;
        this.pongWaiter = null;
        this.pongTimer.cancel();
        this.pong = pong;
        this.lastPong = pong;
        this.launchOpen = false;
        if (pong.protocol !== core.PROTOCOL_VERSION) {
            this.log(core.TEXT.protocolMismatch(pong.protocol));
            this.finish(core.TEXT.protocolMismatch(pong.protocol));
            return;
        }
        if (then) {
            then.call(this, pong);
        }
    };

    Client.prototype.onPongTimeout = function () {
        if (!this.pongWaiter) {
            return;
        }
        this.pongWaiter = null;
        if (this.job) {
            this.finish(core.TEXT.stoppedAnswering(this.settings.daemonPort));
            return;
        }
        this.daemonDown();
    };

    Client.prototype.check = function () {
        if (!this.canCheck()) {
            return;
        }
        this.state = "checking";
        this.ping(function (pong) {
            this.state = "idle";
            this.showDaemon(pong);
        });
    };

    // Ping the daemon, then, if nothing cancelled in between, go on once it is ready (starting it
    // first if none answers and that is allowed; see midi_llm_daemon_start.js).
    Client.prototype.connect = function (then) {
        this.connectThen = then;
        this.ping(function (pong) {
            if (this.state === "connecting") {
                this.whenReady(pong, then);
            }
        });
    };

    // The request's messages from prepare() (which returns {request, ...}), or null after saying
    // what went wrong.
    Client.prototype.build = function (prepare) {
        var prepared, messages;
        try {
            prepared = prepare.call(this);
            prepared.request.secret = this.secret();
            messages = core.buildRequest(prepared.request);
        } catch (error) {
            this.finish(error instanceof core.UserError ? error.message : "error: " + error.message);
            if (!(error instanceof core.UserError)) {
                this.log(error.stack || error.message);
            }
            return null;
        }
        return {prepared: prepared, messages: messages};
    };

    Client.prototype.finish = function (text) {
        this.state = "idle";
        this.job = null;
        this.outbox = [];
        this.acceptTimer.cancel();
        this.cancelTimer.cancel();
        this.resendTimer.cancel();
        this.watchdog.cancel();
        this.sender.cancel();
        this.poller.cancel();
        this.pending = null;
        if (this.finished) {
            this.finished();
        }
        this.setButton(false);
        if (text) {
            this.say(text);
        }
    };

    // The device or tool is deleted: cancel its job with the daemon, stop every timer.
    Client.prototype.close = function () {
        if (this.active()) {
            this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id, this.secret()));
        }
        this.pongTimer.cancel();
        this.watch.cancel();
        this.finish(null);
    };

    return {
        Client: Client,
        timer: timer,
        pick: pick,
        readInterface: readInterface,
        dispatch: dispatch,
        ACTIVE: ACTIVE
    };
}(MidiLLM));
