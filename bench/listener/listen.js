// A listener process for bench/live.py: `count` socket.io-client sockets on one board.
//
//   node listen.js URL TOKEN BOARD COUNT [ROOM]
//
// Every socket connects (websocket transport, API token in `auth`) and joins; once all have
// joined it prints `ready <highest seq among the join acks>`. Then, for each event, once every
// live socket has received it: `<seq> <ns>`, ns being the wall clock (nanoseconds since the Unix
// epoch, as Python's time.time_ns() reads it in other processes) at which the last one did. A
// socket that disconnects prints `dropped 0` and is no longer waited for.
//
// ROOM is `board` (the default: `join` {board: BOARD}, then `board_event`s) or `swarm` (BOARD is
// a swarm id: `swarm_join` {swarm: BOARD}, then `swarm_event`s). TOKEN may be a comma-separated
// list: socket i uses token i modulo its length (a swarm's members are one person each).
//
// It leaves when its stdin closes (the bench holds a pipe to it and never writes, so a listener
// never outlives the bench) or on SIGTERM / SIGINT; a refused join, a failed connection or not
// all joined within 60 s exits 1 with the reason on stderr.
"use strict";

const { performance } = require("node:perf_hooks");
const { io } = require("socket.io-client");

const JOIN_TIMEOUT_MS = 60_000;
const ROOMS = {
  board: { join: "join", payload: (id) => ({ board: id }), event: "board_event" },
  swarm: { join: "swarm_join", payload: (id) => ({ swarm: Number(id) }), event: "swarm_event" },
};

const [url, tokenList, roomId, countArg, roomKind = "board"] = process.argv.slice(2);
const count = Number.parseInt(countArg, 10);
const room = ROOMS[roomKind];
if (!url || tokenList === undefined || roomId === undefined || !(count > 0) || !room) {
  process.stderr.write("usage: node listen.js URL TOKEN BOARD COUNT [board|swarm]\n");
  process.exit(2);
}
const tokens = tokenList.split(",");

// Wall clock in ns: the process's start on the wall clock plus the monotonic time since, both
// at sub-microsecond resolution (Date.now() has only milliseconds). An integer (BigInt).
function wallNs() {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

let leaving = false;
function quit(code, message) {
  if (leaving) return;
  leaving = true;
  if (message) process.stderr.write(`listen.js: ${message}\n`);
  for (const socket of sockets) socket.io.opts.reconnection = false;
  for (const socket of sockets) socket.disconnect();
  // Writes to a pipe may still be queued: leave once everything written so far is out.
  process.stdout.write("", () => process.exit(code));
  setTimeout(() => process.exit(code), 2000).unref();
}

function say(line) {
  if (!leaving) process.stdout.write(`${line}\n`);
}

process.stdin.on("end", () => quit(0));
process.stdin.on("error", () => quit(0));
process.stdin.resume();
process.on("SIGTERM", () => quit(0));
process.on("SIGINT", () => quit(0));
process.stdout.on("error", () => process.exit(0)); // the bench is gone (EPIPE)

const sockets = [];
const arrivals = new Map(); // seq -> [sockets that received it, ns of the last one]
let expected = count;
let ready = false;

function report(seq, seen) {
  say(`${seq} ${seen[1]}`);
  arrivals.delete(seq);
}

function onEvent(message) {
  const now = wallNs();
  const seq = message && message.seq;
  if (seq === undefined) return;
  let seen = arrivals.get(seq);
  if (!seen) arrivals.set(seq, (seen = [0, now]));
  seen[0] += 1;
  if (now > seen[1]) seen[1] = now;
  if (seen[0] >= expected) report(seq, seen);
}

function onDrop() {
  if (leaving) return;
  if (!ready) {
    quit(1, "a socket disconnected before every socket had joined");
    return;
  }
  expected -= 1; // a dropped socket no longer counts; the bench reports the drop
  say("dropped 0");
  for (const [seq, seen] of arrivals) if (seen[0] >= expected) report(seq, seen);
}

function join(index) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ["websocket"],
      auth: { token: tokens[index % tokens.length] },
      reconnection: false,
      forceNew: true,
      timeout: JOIN_TIMEOUT_MS,
    });
    sockets.push(socket);
    socket.on(room.event, onEvent);
    socket.on("connect_error", (error) => reject(new Error(`cannot connect: ${error.message}`)));
    socket.once("connect", () => {
      socket.on("disconnect", onDrop);
      socket
        .timeout(JOIN_TIMEOUT_MS)
        .emitWithAck(room.join, room.payload(roomId))
        .then((ack) => {
          if (ack && ack.ok) resolve(Number(ack.seq) || 0);
          else reject(new Error(`${room.join} refused: ${JSON.stringify(ack)}`));
        }, (error) => reject(new Error(`no answer to ${room.join}: ${error.message}`)));
    });
  });
}

const deadline = setTimeout(
  () => quit(1, `not every socket joined within ${JOIN_TIMEOUT_MS / 1000} s`),
  JOIN_TIMEOUT_MS,
);
Promise.all(Array.from({ length: count }, (_, index) => join(index))).then(
  (seqs) => {
    clearTimeout(deadline);
    ready = true;
    say(`ready ${Math.max(...seqs)}`);
  },
  (error) => quit(1, error.message),
);
