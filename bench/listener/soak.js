// A soak listener for bench/soak.py: `count` socket.io-client sockets on one board, each one a
// view that keeps itself current as the board page does: it reconnects on its own, and on every
// (re)connect joins and catches up from the last event it applied; a push with the next sequence
// number is applied, an older one is skipped (received again), a newer one means a gap, filled
// by catching up.
//
//   node soak.js URL TOKEN BOARD COUNT
//
// Prints `ready` once every socket has joined. On a stdin line `report SEQ` (the board's last
// sequence number, read from the database), every view catches up once more, then one line:
// `report <views> <lost> <received-again> <reconnects> <gaps>`, lost being the events up to SEQ
// that a view never applied (a view applies each once, in order). Leaves when stdin closes.
"use strict";

const readline = require("node:readline");
const { io } = require("socket.io-client");

const [url, token, board, countArg] = process.argv.slice(2);
const count = Number.parseInt(countArg, 10);
if (!url || !token || !board || !(count > 0)) {
  process.stderr.write("usage: node soak.js URL TOKEN BOARD COUNT\n");
  process.exit(2);
}

const views = [];
let joined = 0;
let announced = false;

function makeView() {
  const view = { last: null, again: 0, reconnects: 0, gaps: 0, busy: false };
  const socket = io(url, {
    transports: ["websocket"],
    auth: { token },
    forceNew: true,
    reconnection: true,
    reconnectionDelay: 200,
    reconnectionDelayMax: 2000,
    timeout: 20000,
  });
  view.socket = socket;

  // Applies events in order: the next one moves the view on; one it has (received again) is
  // skipped, so a view never applies an event twice.
  function apply(seq) {
    if (seq <= view.last) view.again += 1;
    else if (seq === view.last + 1) view.last = seq;
  }

  async function catchUp() {
    if (view.busy || view.last === null) return;
    view.busy = true;
    try {
      for (;;) {
        const answer = await socket.timeout(10000).emitWithAck("catch_up", { board, since: view.last });
        if (!answer || !answer.ok) break;
        for (const event of answer.events) apply(event.seq);
        if (!answer.more) break;
      }
    } catch (error) {
      // no answer (the server went away): the next connect catches up again
    } finally {
      view.busy = false;
    }
  }

  socket.on("connect", async () => {
    try {
      const ack = await socket.timeout(20000).emitWithAck("join", { board });
      if (!ack || !ack.ok) return;
      if (view.last === null) {
        view.last = Number(ack.seq) || 0;
        joined += 1;
        if (joined === count && !announced) {
          announced = true;
          process.stdout.write("ready\n");
        }
      } else {
        view.reconnects += 1;
        await catchUp();
      }
    } catch (error) {
      // the join went unanswered: socket.io reconnects and this runs again
    }
  });
  socket.on("board_event", (message) => {
    if (view.last === null || !message || typeof message.seq !== "number") return;
    if (message.seq > view.last + 1) {
      view.gaps += 1;
      catchUp();
    } else apply(message.seq);
  });
  view.apply = apply;
  return view;
}

for (let i = 0; i < count; i += 1) views.push(makeView());

async function report(finalSeq) {
  await Promise.all(views.map(async (view) => {
    for (let tries = 0; tries < 20 && view.last < finalSeq; tries += 1) {
      if (!view.busy && view.socket.connected) {
        const answer = await view.socket.timeout(10000).emitWithAck("catch_up", { board, since: view.last })
          .catch(() => null);
        if (answer && answer.ok) for (const event of answer.events) view.apply(event.seq);
      }
      if (view.last < finalSeq) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }));
  const sum = (key) => views.reduce((total, view) => total + view[key], 0);
  const lost = views.reduce((total, view) => total + Math.max(0, finalSeq - view.last), 0);
  process.stdout.write(
    `report ${views.length} ${lost} ${sum("again")} ${sum("reconnects")} ${sum("gaps")}\n`,
  );
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const [word, seq] = line.trim().split(/\s+/);
  if (word === "report") report(Number(seq));
});
lines.on("close", () => {
  for (const view of views) view.socket.disconnect();
  process.exit(0);
});
process.on("SIGTERM", () => process.exit(0));
