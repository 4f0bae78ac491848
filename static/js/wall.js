// The wall: live.js keeps the board current (pushes, catch-up, polling); this adds what a TV
// needs besides: the ticking clock on the board's time zone, the strip's figures re-fetched
// when the board changes, cells cut to what fits the screen ("+ N more"), rotation between
// boards, the notice when the link is revoked, and a screen wake lock where allowed.
(function () {
  "use strict";
  const STRIP_EVERY_MS = 60000;   // "finished today" turns at midnight even if nothing moves
  const STRIP_AFTER_MS = 400;     // a burst of pushes re-fetches the strip once
  const body = document.body;
  const wallUrl = body.dataset.wallUrl;
  const boards = (body.dataset.boards || "").split(",").filter(Boolean);
  const rotateSeconds = parseInt(body.dataset.rotateSeconds, 10) || 0;
  let socket = null;
  let revoked = false;
  let clockOffset = 0;            // server clock minus this screen's
  let stripTimer = null;
  let rotateTimer = null;
  let shownSeq = null;
  let shownKey = null;

  const board = () => document.getElementById("board");
  const focusKey = () => {
    const standup = document.getElementById("standup-bar");
    return standup && !standup.hidden ? standup.dataset.focusCard : "";
  };

  // --- the clock ------------------------------------------------------------------------
  function tick() {
    const strip = document.getElementById("wall-strip");
    const zone = strip ? strip.dataset.timezone : undefined;
    const now = new Date(Date.now() + clockOffset);
    try {
      document.getElementById("wall-clock").textContent = now.toLocaleTimeString([], {
        timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      document.getElementById("wall-date").textContent = now.toLocaleDateString([], {
        timeZone: zone, weekday: "short", day: "numeric", month: "short" });
    } catch (error) {  // an unknown zone: the screen's own
      document.getElementById("wall-clock").textContent = now.toLocaleTimeString([], {
        hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    }
  }

  // --- the strip ------------------------------------------------------------------------
  async function refreshStrip() {
    clearTimeout(stripTimer);
    stripTimer = setTimeout(refreshStrip, STRIP_EVERY_MS);
    if (revoked || !board()) return;
    try {
      const response = await fetch(board().dataset.stripUrl, { headers: { "HX-Request": "true" } });
      if (response.status === 404) { checkLink(); return; }
      if (!response.ok) return;
      const date = Date.parse(response.headers.get("Date"));
      if (!Number.isNaN(date)) clockOffset = date - Date.now();
      const html = await response.text();
      const strip = document.getElementById("wall-strip");
      if (strip && !revoked) strip.outerHTML = html;
      tick();
    } catch (error) {
      // offline: live.js says so; the next change or minute tries again
    }
  }
  function stripSoon() {
    clearTimeout(stripTimer);
    stripTimer = setTimeout(refreshStrip, STRIP_AFTER_MS);
  }

  // --- fitting the screen: no scrollbars, so a full cell says how many it leaves out -----------
  // The grid first lays the lanes out from their cards (each lane no taller than its cards, the
  // rest shared); those row heights are then frozen, so hiding cards does not shrink the lanes.
  function fit() {
    const grid = board();
    if (!grid) return;
    grid.style.removeProperty("grid-template-rows");
    const cells = Array.from(grid.querySelectorAll(".cell"));
    for (const cell of cells) {
      cell.querySelectorAll(".wall-hidden").forEach((card) => card.classList.remove("wall-hidden"));
      delete cell.dataset.more;
    }
    grid.style.gridTemplateRows = getComputedStyle(grid).gridTemplateRows;
    const line = parseFloat(getComputedStyle(document.documentElement).fontSize) * 1.9;
    const cuts = [];
    for (const cell of cells) {  // measure everything first, then hide
      if (cell.scrollHeight <= cell.clientHeight + 1) continue;
      const room = cell.getBoundingClientRect().top + cell.clientHeight - line;
      const cards = Array.from(cell.querySelectorAll(":scope > .card"));
      const first = cards.findIndex((card) => card.getBoundingClientRect().bottom > room);
      if (first < 0) continue;
      // The stand-up's card in focus stays in sight: it takes the place of the last one shown.
      const focus = cards.findIndex((card) => card.dataset.key === focusKey());
      if (focus >= first && first > 0) {
        cuts.push([cell, cards.filter((card, index) => index >= first - 1 && index !== focus)]);
      } else {
        cuts.push([cell, cards.slice(first)]);
      }
    }
    for (const [cell, hidden] of cuts) {
      hidden.forEach((card) => card.classList.add("wall-hidden"));
      cell.dataset.more = `+ ${hidden.length} more`;
    }
  }
  let fitFrame = null;
  function fitSoon() {
    if (fitFrame) return;
    fitFrame = requestAnimationFrame(() => { fitFrame = null; fit(); });
  }

  // Any change to the board (a push, a catch-up, a re-fetch, the next board) refits it and,
  // once its sequence number moved, re-fetches the strip's figures.
  function watchBoard() {
    const main = document.querySelector(".wall-main");
    if (!main) return;
    new MutationObserver(() => {
      fitSoon();
      const now = board();
      if (!now) return;
      if (now.dataset.key !== shownKey || now.dataset.seq !== shownSeq) {
        const rotated = now.dataset.key !== shownKey;
        shownKey = now.dataset.key;
        shownSeq = now.dataset.seq;
        if (rotated) refreshStrip(); else stripSoon();
      }
    }).observe(main, { childList: true, subtree: true, attributes: true,
                       attributeFilter: ["data-seq"] });
    shownKey = board() && board().dataset.key;
    shownSeq = board() && board().dataset.seq;
  }

  // --- rotation -------------------------------------------------------------------------
  function rotate() {
    if (revoked || !board()) return;
    const standup = document.getElementById("standup-bar");
    if (standup && !standup.hidden) return;  // the team is walking this board: stay on it
    const next = boards[(boards.indexOf(board().dataset.key) + 1) % boards.length];
    htmx.ajax("GET", `${wallUrl}/board/${encodeURIComponent(next)}`,
              { target: "#board", swap: "outerHTML" }).then(() => {
      document.querySelectorAll(".wall-rotation li").forEach((item) => {
        item.classList.toggle("current", board() && item.dataset.board === board().dataset.key);
      });
    });
  }

  // --- the link ---------------------------------------------------------------------------
  function showRevoked() {
    if (revoked) return;
    revoked = true;
    clearTimeout(stripTimer);
    clearInterval(rotateTimer);
    if (socket) socket.disconnect();
    const poller = document.getElementById("live-poll");
    if (poller) poller.remove();
    if (board()) board().remove();  // live.js has nothing left to update or poll
    body.classList.add("is-revoked");
    document.getElementById("wall-revoked").hidden = false;
  }
  // The wall lost its board (a 404 while catching up or polling): revoked, or the link's
  // options changed. The page itself says which.
  async function checkLink() {
    if (revoked) return;
    try {
      const response = await fetch(wallUrl, { method: "HEAD", cache: "no-store" });
      if (response.status === 404) showRevoked();
      else if (response.ok) window.location.reload();
    } catch (error) {
      // offline: the next catch-up tries again
    }
  }

  document.addEventListener("live-socket", (event) => {
    socket = event.detail;
    socket.on("wall_revoked", showRevoked);
    socket.on("wall_changed", () => window.location.reload());
    // Rotated boards' rooms too, so each is current when its turn comes (live.js applies
    // only the board on show; the next board is fetched fresh).
    socket.on("connect", () => {
      for (const key of boards) {
        if (board() && key !== board().dataset.key) socket.emit("join", { board: key });
      }
    });
  });
  document.addEventListener("board-lost-access", checkLink);
  // The stand-up strip lives outside the board: a new focus may need another card in sight.
  let fittedFocus = "";
  document.addEventListener("htmx:oobAfterSwap", () => {
    if (focusKey() !== fittedFocus) { fittedFocus = focusKey(); fitSoon(); }
  });

  // Keep the screen awake where the browser allows it (HTTPS or localhost); asked again when
  // the page comes back into view, since the browser drops the lock when it is hidden.
  async function stayAwake() {
    if (!navigator.wakeLock || document.visibilityState !== "visible" || revoked) return;
    try {
      await navigator.wakeLock.request("screen");
    } catch (error) {
      // refused (battery saver, no secure context): the screen's own settings decide
    }
  }
  document.addEventListener("visibilitychange", stayAwake);

  document.addEventListener("DOMContentLoaded", () => {
    stayAwake();
    tick();
    setInterval(tick, 1000);
    stripTimer = setTimeout(refreshStrip, STRIP_EVERY_MS);
    watchBoard();
    fit();
    window.addEventListener("resize", fitSoon);
    if (rotateSeconds && boards.length > 1) rotateTimer = setInterval(rotate, rotateSeconds * 1000);
  });
})();
