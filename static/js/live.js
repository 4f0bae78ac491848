// Live board: apply pushed fragments in sequence order, catch up after gaps and reconnects,
// poll (HTMX polling of the same catch-up endpoint) when no socket is live, and show who is
// here and who is editing what.
(function () {
  "use strict";
  const POLL = "every 5s";
  const LIVE_WITHIN_MS = 3000;  // a socket not live by then (say, a websocket that opens and
                                // hangs) has the page poll meanwhile, not wait for its timeout
  let socket = null;
  let catchingUp = false;
  let seqBeforeSwap = null;
  let liveTimer = null;
  let gone = false;  // removed from the board: nothing to connect to or poll any more

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

  // Fragments for the events after `since` up to `seq` fit a board at any point between.
  const fits = (since, seq) => since <= applied() && applied() <= seq;

  async function catchUp() {
    if (catchingUp || !board()) return;
    catchingUp = true;
    const since = applied();
    let again = false;
    try {
      const response = await fetch(`${board().dataset.liveUrl}?since=${since}`,
                                   { headers: { Accept: "application/json" } });
      if (response.status === 401 || response.redirected) { window.location.reload(); return; }
      if (response.status === 403 || response.status === 404) { lostAccess(); return; }
      if (!response.ok) return;
      const update = await response.json();
      if (update.refresh) refreshBoard();
      else if (update.seq > applied() && fits(since, update.seq)) {
        applyUpdate(update.seq, update.html, false);
      } else if (applied() < since) {
        again = true;  // an older board was swapped in meanwhile: ask from there
      }
      setConnectionState(socket && socket.connected ? "live" : "polling");
    } catch (error) {
      setConnectionState("offline");
    } finally {
      catchingUp = false;
    }
    if (again) catchUp();
  }

  // Removed from the board: stop asking, and say why the board no longer changes.
  function lostAccess() {
    gone = true;
    clearTimeout(liveTimer);
    stopPolling();
    if (socket) socket.disconnect();
    setConnectionState("offline");
    document.dispatchEvent(new CustomEvent("board-lost-access"));  // a wall says why
    const badge = document.getElementById("live-state");
    if (badge) badge.title = "You no longer have access to this board";
    const flash = document.getElementById("flash");
    if (flash) flash.innerHTML = '<div class="flash flash-error" role="alert">You no longer have access to this board.</div>';
  }

  // Polling is htmx's own: an element polling the catch-up endpoint, whose answer is the
  // out-of-band fragments themselves. Removing the element stops it.
  function startPolling() {
    if (gone || document.getElementById("live-poll") || !board()) return;
    const poller = document.createElement("div");
    poller.id = "live-poll";
    poller.hidden = true;
    poller.setAttribute("hx-get", board().dataset.liveUrl);
    poller.setAttribute("hx-trigger", POLL);
    poller.setAttribute("hx-swap", "none");
    document.body.appendChild(poller);
    htmx.process(poller);
  }
  function stopPolling() {
    const poller = document.getElementById("live-poll");
    if (poller) poller.remove();
  }
  const isPoll = (event) => event.detail.elt && event.detail.elt.id === "live-poll";

  document.addEventListener("htmx:configRequest", (event) => {
    if (!isPoll(event) || !board()) return;
    event.detail.parameters.since = applied();
    event.detail.path = board().dataset.liveUrl;  // a wall rotating boards polls the one shown
  });
  // Fragments from `since` to `seq` bring any board between the two to `seq` (each touched
  // card is re-placed, next to cards they did not touch); a board outside that range waits for
  // the next poll. A filtered view re-fetches itself instead.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (!isPoll(event)) return;
    const caughtUp = pollAnswer(event.detail.xhr);
    const asked = parseInt(event.detail.requestConfig.parameters.since, 10);
    if (!caughtUp || !board()) { event.detail.shouldSwap = false; return; }
    if (board().dataset.filtered === "1") {
      event.detail.shouldSwap = false;
      if (caughtUp.refresh || caughtUp.seq > applied()) refreshBoard();
    } else if (!fits(asked, caughtUp.seq)) {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("board-caught-up", (event) => {
    if (event.detail.refresh) refreshBoard();
    else if (event.detail.seq > applied()) setApplied(event.detail.seq);
    setConnectionState("polling");
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (!isPoll(event)) return;
    const xhr = event.detail.xhr;
    if (xhr.status === 401 || (xhr.responseURL && !xhr.responseURL.includes("/live"))) {
      window.location.reload();  // logged out: the login page answers instead
    } else if (xhr.status === 403 || xhr.status === 404) {
      lostAccess();
    } else if (!event.detail.successful) {
      setConnectionState("offline");
    }
  });
  function pollAnswer(xhr) {
    try {
      return JSON.parse(xhr.getResponseHeader("HX-Trigger-After-Swap"))["board-caught-up"];
    } catch (error) {
      return null;
    }
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

  function fallBack() {
    clearTimeout(liveTimer);
    if (gone) return;
    setConnectionState("polling");
    startPolling();
  }
  // Poll unless the socket is live soon: connecting keeps trying meanwhile.
  function expectLive() {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(fallBack, LIVE_WITHIN_MS);
  }

  function connect() {
    if (typeof io === "undefined") { fallBack(); return; }
    setConnectionState("connecting");
    expectLive();
    // A wall display has no login: its link's token opens the socket instead.
    const wall = document.body.dataset.wallToken;
    socket = io({ transports: ["websocket", "polling"], tryAllTransports: true,
                  ...(wall ? { auth: { wall } } : {}) });
    document.dispatchEvent(new CustomEvent("live-socket", { detail: socket }));
    socket.on("connect", () => {
      expectLive();
      socket.timeout(LIVE_WITHIN_MS).emit("join", { board: boardKey() }, (error, ack) => {
        if (error || !ack || !ack.ok) { fallBack(); return; }
        clearTimeout(liveTimer);
        stopPolling();
        setConnectionState("live");
        if (ack.seq > applied()) catchUp();
      });
    });
    socket.on("board_event", onBoardEvent);
    socket.on("presence", showPresence);
    socket.on("editing", showEditing);
    socket.on("disconnect", fallBack);
    socket.on("connect_error", fallBack);
    socket.io.on("reconnect_attempt", expectLive);
  }

  // A view showing some lanes and columns only (a wall) ignores cards placed elsewhere.
  function shows(cell) {
    const [column, lane] = (cell || "").split("-");
    return board().dataset.columns.split(",").includes(column) &&
           board().dataset.lanes.split(",").includes(lane);
  }

  // A pushed card placed before a card (or into a cell) this view does not have: the view has
  // drifted from the board, so it asks for the board as it is.
  document.addEventListener("htmx:oobErrorNoTarget", (event) => {
    const content = event.detail.content;
    if (!board() || !content || !content.dataset.placement) return;
    if (board().dataset.partial === "1" && !shows(content.dataset.cell)) return;  // hidden here
    refreshBoard();
  });

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
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (board() && !isPoll(event)) seqBeforeSwap = applied();
  });
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
