// The swarm room: join its Socket.IO room, apply pushed fragments, re-fetch the room when it
// changed shape or after a reconnect, Enter sends a message, and a draft survives re-renders.
(function () {
  "use strict";
  let socket = null;
  let draft = "";

  const room = () => document.getElementById("room");
  const swarmId = () => parseInt(room().dataset.swarm, 10);
  const applied = () => parseInt(room().dataset.seq, 10) || 0;
  const messages = () => document.getElementById("swarm-messages");

  function nearBottom() {
    const list = messages();
    return !list || list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }
  function scrollDown() {
    const list = messages();
    if (list) list.scrollTop = list.scrollHeight;
  }

  function refresh() {
    htmx.ajax("GET", room().dataset.url, { target: "#room", swap: "outerHTML" });
  }

  function onSwarmEvent(message) {
    if (!room() || message.swarm !== swarmId() || message.seq <= applied()) return;
    if (message.refresh) { refresh(); return; }
    const follow = nearBottom();
    if (message.html) htmx.swap("#room", message.html, { swapStyle: "none" });
    room().dataset.seq = String(message.seq);
    if (follow) scrollDown();
  }

  function join() {
    if (!room()) return;
    socket.timeout(5000).emit("swarm_join", { swarm: swarmId() }, (error, ack) => {
      if (error || !ack || !ack.ok) return;
      if (ack.seq > applied()) refresh();  // something happened before we were listening
    });
  }

  document.addEventListener("user-socket", (event) => {
    socket = event.detail;
    socket.on("swarm_event", onSwarmEvent);
    socket.on("connect", join);
    if (socket.connected) join();
  });

  // Our own change comes back as the answer: the server leaves this socket out of its push.
  document.addEventListener("htmx:configRequest", (event) => {
    if (socket && socket.connected && room() && room().contains(event.detail.elt)) {
      event.detail.headers["X-Socket-Id"] = socket.id;
    }
  });

  // Enter sends; Shift+Enter is a new line.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!box.matches || !box.matches("#composer textarea")) return;
    event.preventDefault();
    if (box.value.trim()) box.form.requestSubmit();
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (form.id !== "composer" || !event.detail.successful) return;
    form.reset();
    draft = "";
    scrollDown();
    form.querySelector("textarea").focus();
  });

  // A re-rendered room keeps what was being typed.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const box = document.querySelector("#composer textarea");
    if (event.detail.target && event.detail.target.id === "room" && box) draft = box.value;
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (!event.detail.target || event.detail.target.id !== "room") return;
    const box = document.querySelector("#composer textarea");
    if (box && draft && !box.value) box.value = draft;
    scrollDown();
    const dialog = document.querySelector("#room dialog[open]");
    if (dialog) dialog.close();
  });

  document.addEventListener("DOMContentLoaded", scrollDown);
})();
