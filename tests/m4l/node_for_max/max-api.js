// A scripted fake of Node for Max's "max-api" module, for the launcher under node.
//
// As documented (docs.cycling74.com/nodeformax/api): a script in [node.script] runs in its own
// Node process and talks to Max only through this module: addHandler(selector, handler) and
// addHandlers({selector: handler}) receive the messages sent into node.script's inlet (the first
// atom is the selector, the others the handler's arguments; MESSAGE_TYPES.ALL takes any, with the
// selector first), outlet(...values) sends a message out of the left outlet, post() writes to the
// Max window; outlet and post return Promises. Here the "Max" side is the test's process, over
// the IPC channel of child_process.fork (tests/m4l/fake_node_script.js).
"use strict";

const MESSAGE_TYPES = {ALL: "all", BANG: "bang", DICT: "dict", LIST: "list", NUMBER: "number"};
const POST_LEVELS = {ERROR: "error", INFO: "info", WARN: "warn"};
const MAX_ENV = {MAX: "max", MAX_FOR_LIVE: "maxforlive", STANDALONE: "standalone"};
const handlers = new Map();

function send(message) {
    return new Promise((resolve, reject) => {
        if (!process.send) {
            reject(new Error("not running inside node.script"));
            return;
        }
        process.send(message, (error) => (error ? reject(error) : resolve()));
    });
}

function post(...values) {
    return send({post: values.map(String).join(" ")});
}

process.on("message", (message) => {
    const own = handlers.get(message.selector) || [];
    const any = handlers.get(MESSAGE_TYPES.ALL) || [];
    if (!own.length && !any.length) {
        post(`node.script: no handler for the message ${message.selector}`);
        return;
    }
    for (const handler of own) {
        handler(...message.args);
    }
    for (const handler of any) {
        handler(message.selector, ...message.args);
    }
});

module.exports = {
    MESSAGE_TYPES, POST_LEVELS, MAX_ENV,
    addHandler(selector, handler) {
        handlers.set(selector, (handlers.get(selector) || []).concat([handler]));
    },
    addHandlers(table) {
        for (const [selector, handler] of Object.entries(table)) {
            module.exports.addHandler(selector, handler);
        }
    },
    removeHandler(selector, handler) {
        handlers.set(selector, (handlers.get(selector) || []).filter((h) => h !== handler));
    },
    removeHandlers(selector) {
        handlers.delete(selector);
    },
    outlet(...values) {
        return send({outlet: values});
    },
    outletBang() {
        return send({outlet: ["bang"]});
    },
    post,
};
