// MIDI-LLM for Max for Live: a job with the daemon, shared by the device and the MIDI Tools.
//
// ES5 only (Max's classic [js] object). Adds to MidiLLMClient.Client (midi_llm_client.js, loaded
// first) what happens once a request is built: its messages sent in bursts, the daemon's replies
// in order (accepted, started, progress, warnings, errors; a lost chunk of the clip sent again
// under a new id; lost result chunks asked for again with /resend), an unauthorized answer (a
// secret missing or wrong), cancel, and the watchdog that pings a silent daemon.

(function (core, client) {
    "use strict";

    var Client = client.Client;
    var ACCEPT_TIMEOUT = 3000;
    var CANCEL_TIMEOUT = 3000;
    var RESEND_INTERVAL = 1000;
    var RESEND_ATTEMPTS = 3;
    var SILENCE_PING = 10000;
    var SEND_BURST = 16;

    Client.prototype.submit = function (request, messages, noteCount) {
        this.job = new core.Job(request.id, request.mode);
        this.state = "sending";
        this.lastHeard = Date.now();
        this.say("sending " + noteCount + " notes...");
        this.queue(messages);
    };

    // Messages go out in bursts of SEND_BURST per scheduler tick, so that a large clip's
    // chunks do not overflow a socket buffer.
    Client.prototype.queue = function (messages) {
        this.outbox = this.outbox.concat(messages);
        this.flush();
    };

    Client.prototype.flush = function () {
        var count = Math.min(SEND_BURST, this.outbox.length);
        for (var i = 0; i < count; i++) {
            this.send(this.outbox.shift());
        }
        if (this.outbox.length) {
            this.sender.schedule(2);
        } else if (this.state === "sending") {
            this.state = "waiting";
            this.acceptTimer.schedule(ACCEPT_TIMEOUT);
        }
    };

    Client.prototype.onAcceptTimeout = function () {
        if (this.state === "waiting") {
            this.finish("no answer from the daemon on port " + this.settings.daemonPort + " (the request may have " +
                "been lost): try again");
        }
    };

    Client.prototype.cancel = function () {
        if (this.cancelStates[this.state] === true) {
            this.pongWaiter = null;
            this.pongTimer.cancel();
            this.finish("cancelled");
            return;
        }
        if (!this.active() || this.state === "cancelling") {
            return;
        }
        this.outbox = [];
        this.state = "cancelling";
        this.say("cancelling...");
        this.send(core.cancelMessage(this.nextId(), this.replyPort, this.job.id, this.secret()));
        this.cancelTimer.schedule(CANCEL_TIMEOUT);
    };

    Client.prototype.onReply = function (address, args) {
        if (address === core.PREFIX + "/pong") {
            this.lastHeard = Date.now();
            this.onPong(args);
            return;
        }
        if (address === core.PREFIX + "/info") {
            var info = core.parseInfo(args);
            if (info.protocol === core.PROTOCOL_VERSION) {
                this.maxDatagramBytes = info.maxDatagramBytes;
            }
            return;
        }
        if (address === core.PREFIX + "/error" && args && String(args[1]) === "unauthorized") {
            // The daemon has a secret this client did not send: for the ping under way, the job (its
            // request or a resend) or a cancel. An answer to a message sent before the secret changed
            // is old news.
            var ping = this.pongWaiter && core.sameId(args[0], this.pongWaiter.id);
            if (ping || (this.job && core.sameId(args[0], this.job.id)) || this.state === "cancelling") {
                this.onUnauthorized();
            }
            return;
        }
        if (!this.job) {
            return;
        }
        var event = this.job.handle(address, args);
        if (!event) {
            return;
        }
        this.lastHeard = Date.now();
        switch (event.type) {
        case "accepted":
            this.acceptTimer.cancel();
            if (this.state !== "cancelling") {
                this.state = "queued";
                this.say(core.TEXT.queued(event.position));
            }
            this.watchdog.schedule(1000);
            break;
        case "started":
            if (this.state !== "cancelling") {
                this.state = "running";
                this.say(core.TEXT.progress(0, 0));
            }
            break;
        case "progress":
            if (this.state !== "cancelling") {
                this.say(core.TEXT.progress(event.fraction, event.notes));
            }
            break;
        case "warning":
            this.log("warning: " + event.text);
            break;
        case "error":
            if (event.code === "missing_chunk" && !this.retried && this.state !== "cancelling") {
                // Chunks of the clip were lost on the way: send the whole request again, new id.
                this.retried = true;
                this.log("the daemon missed part of the clip; sending it again");
                var request = this.request();
                request.id = this.nextId();
                this.job = new core.Job(request.id, request.mode);
                this.state = "sending";
                this.queue(core.buildRequest(request));
                return;
            }
            this.finish(core.TEXT.error(event.code, event.message));
            break;
        case "incomplete":
            this.askResend(event.missing);
            break;
        case "complete":
            this.resendTimer.cancel();
            if (this.state === "cancelling") {
                // The result overtook the cancel: the musician asked for nothing, so nothing is written.
                this.finish("cancelled");
                return;
            }
            this.complete(event.result);
            break;
        }
    };

    // Lost /result chunks: ask again, up to RESEND_ATTEMPTS times, then say which never came.
    Client.prototype.askResend = function (missing) {
        if (this.job.resends >= RESEND_ATTEMPTS) {
            this.finish(core.TEXT.lostChunks(missing));
            return;
        }
        this.job.resends += 1;
        this.log("asking again for " + core.describeMissing(missing));
        var messages = core.resendMessages(this.job.id, this.replyPort, missing, this.secret());
        for (var i = 0; i < messages.length; i++) {
            this.send(messages[i]);
        }
        this.resendTimer.schedule(RESEND_INTERVAL);
    };

    Client.prototype.onResendTimer = function () {
        if (!this.active()) {
            return;
        }
        var missing = this.job.missing();
        if (missing.length) {
            this.askResend(missing);
        }
    };

    // While a job is queued or running, the daemon may stay silent (a long queue): after
    // SILENCE_PING of silence, ping it; no pong means it is gone.
    Client.prototype.onWatchdog = function () {
        if (!this.active()) {
            return;
        }
        if (Date.now() - this.lastHeard > SILENCE_PING && !this.pongWaiter) {
            this.ping(function () {
                if (this.job && this.job.done === null && this.job.variations[0] !== undefined) {
                    this.finish("error: the daemon's last reply never arrived; try again");
                }
            });
        }
        this.watchdog.schedule(1000);
    };
}(MidiLLM, MidiLLMClient));
