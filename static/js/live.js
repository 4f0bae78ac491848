// Live board: apply pushed fragments in sequence order, catch up after gaps and reconnects,
// poll when no socket can connect, and show who is here and who is editing what.
(function () {
  "use strict";
  const POLL_MS = 5000;
  let socket = null;
  let pollTimer = null;
  let catchingUp = false;
  let seqBeforeSwap = null;

  const board = () => document.getElementById("board");
  const applied = () => parseInt(board().dataset.seq, 10) || 0;
  const setApplied = (seq) => { board().dataset.seq = String(seq); };
  const boardKey = () => board().dataset.key;

  function refreshBoard() {
    htmx.ajax("GET", board().getAttribute("hx-get"), { target: "#board", swap: "outerHTML" });
  }

  function applyUpdate(seq, html, refresh) {
    if (refresh || board().dataset.filtered === "1") {
      refreshBoard();  // the server knows what a filter shows; ask it
      return;
    }
    if (html) htmx.swap("#board", html, { swapStyle: "none" });
    setApplied(seq);
  }

  function onBoardEvent(message) {
    if (!board() || message.board !== boardKey()) return;
    const have = applied();
    if (message.seq <= have) return;              // our own echo, or a replay: nothing to do
    if (message.seq > have + 1) { catchUp(); return; }
    if (message.catch_up) { catchUp(); return; }   // sent unrendered: fetch what it changed
    if (message.html || message.refresh) applyUpdate(message.seq, message.html, message.refresh);
    else setApplied(message.seq);                  // the commit's last message brings the HTML
  }

  async function catchUp() {
    if (catchingUp || !board()) return;
    catchingUp = true;
    try {
      const response = await fetch(`${board().dataset.liveUrl}?since=${applied()}`,
                                   { headers: { Accept: "application/json" } });
      if (response.status === 401 || response.redirected) { window.location.reload(); return; }
      if (response.status === 403 || response.status === 404) { lostAccess(); return; }
      if (!response.ok) return;
      const update = await response.json();
      if (update.refresh) refreshBoard();
      else if (update.seq > applied()) applyUpdate(update.seq, update.html, false);
      setConnectionState(socket && socket.connected ? "live" : "polling");
    } catch (error) {
      setConnectionState("offline");
    } finally {
      catchingUp = false;
    }
  }

  // Removed from the board: stop asking, and say why the board no longer changes.
  function lostAccess() {
    stopPolling();
    if (socket) socket.disconnect();
    setConnectionState("offline");
    const badge = document.getElementById("live-state");
    if (badge) badge.title = "You no longer have access to this board";
    const flash = document.getElementById("flash");
    if (flash) flash.innerHTML = '<div class="flash flash-error" role="alert">You no longer have access to this board.</div>';
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(catchUp, POLL_MS);
  }
  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function setConnectionState(state) {
    const badge = document.getElementById("live-state");
    if (!badge) return;
    badge.dataset.state = state;
    badge.textContent = { live: "Live", polling: "Polling", offline: "Offline", connecting: "Connecting" }[state];
    badge.title = {
      live: "Changes appear as they happen",
      polling: "No live connection; checking for changes every few seconds",
      offline: "The server cannot be reached; retrying",
      connecting: "Connecting",
    }[state];
  }

  function showPresence(message) {
    if (!board() || message.board !== boardKey()) return;
    const list = document.getElementById("presence");
    if (!list) return;
    list.replaceChildren(...message.viewers.map((viewer) => {
      const avatar = document.createElement("span");
      avatar.className = "avatar";
      avatar.textContent = viewer.initials;
      avatar.title = `${viewer.name} is looking at this board`;
      return avatar;
    }));
  }

  function showEditing(message) {
    const card = document.getElementById("card-" + message.card);
    if (!card) return;
    if (message.editing) {
      card.dataset.editing = message.initials;
      card.title = `${message.name} is editing this card`;
    } else {
      delete card.dataset.editing;
      card.removeAttribute("title");
    }
  }

  function connect() {
    if (typeof io === "undefined") { startPolling(); setConnectionState("polling"); return; }
    setConnectionState("connecting");
    socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
    socket.on("connect", () => {
      socket.emit("join", { board: boardKey() }, (ack) => {
        if (!ack || !ack.ok) { setConnectionState("polling"); startPolling(); return; }
        stopPolling();
        setConnectionState("live");
        if (ack.seq > applied()) catchUp();
      });
    });
    socket.on("board_event", onBoardEvent);
    socket.on("presence", showPresence);
    socket.on("editing", showEditing);
    socket.on("disconnect", () => { setConnectionState("polling"); startPolling(); });
    socket.on("connect_error", () => { setConnectionState("polling"); startPolling(); });
  }

  // A request answered with the board brings our own change; the server leaves this socket out
  // of its push, so the echo cannot land first and steal focus or undo the answer's form reset.
  document.addEventListener("htmx:configRequest", (event) => {
    const target = event.detail.target;
    if (socket && socket.connected && target && target.id === "board") {
      event.detail.headers["X-Socket-Id"] = socket.id;
    }
  });
  // That answer never came: ask for what we missed.
  document.addEventListener("htmx:sendError", () => { if (board()) catchUp(); });

  // A board swapped in by our own request may be older than what pushes already showed.
  document.addEventListener("htmx:beforeSwap", () => { if (board()) seqBeforeSwap = applied(); });
  document.addEventListener("htmx:afterSettle", () => {
    if (board() && seqBeforeSwap !== null && applied() < seqBeforeSwap) catchUp();
    seqBeforeSwap = null;
    const detail = document.querySelector("#modal #card-detail");
    if (socket && detail && !detail.dataset.announced) {
      detail.dataset.announced = "1";
      socket.emit("editing", { card: detail.dataset.key, editing: true });
      detail.closest("dialog").addEventListener("close", () => {
        socket.emit("editing", { card: detail.dataset.key, editing: false });
      }, { once: true });
    }
  });

  document.addEventListener("DOMContentLoaded", () => { if (board()) connect(); });
})();
