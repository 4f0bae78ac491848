// Stand-up glue: who sees which controls, the count-up timers (server time, corrected for this
// clock's offset), the facilitator's keys, scrolling the card in focus into view, and the aging
// overlay. The strip itself is server-rendered and arrives through htmx like any push.
(function () {
  "use strict";
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  let offset = 0;  // server clock minus this clock, in ms
  let lastFocus = null;

  function bar() { return document.getElementById("standup-bar"); }

  function clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
  }

  function tick() {
    const b = bar();
    if (!b || b.hidden) return;
    const now = Date.now() + offset;
    const started = Date.parse(b.dataset.started);
    const meeting = b.querySelector('[data-timer="meeting"]');
    if (meeting && started) {
      meeting.textContent = clock(now - started);
      const norm = Number(b.dataset.normMinutes || 15) * 60000;
      b.classList.toggle("over-norm", now - started > norm);
    }
    const item = b.querySelector('[data-timer="item"]');
    const since = Date.parse(b.dataset.focusSince);
    if (item && since) item.textContent = clock(now - since);
  }

  function setup() {
    const b = bar();
    const start = document.querySelector(".standup-start");
    const running = b && !b.hidden;
    document.body.classList.toggle("standup-on", !!running);
    if (start) start.hidden = !!running;
    if (!running) { lastFocus = null; return; }
    offset = Date.parse(b.dataset.serverNow) - Date.now();
    const me = meta("sb-user"), role = meta("sb-role");
    const attendees = (b.dataset.attendees || "").split(" ");
    b.classList.toggle("is-facilitator", !!me && me === b.dataset.facilitator);
    b.classList.toggle("can-join", !!me && !attendees.includes(me));
    b.classList.toggle("is-member", role === "member" || role === "owner");
    const focus = b.dataset.focusCard;
    if (focus && focus !== lastFocus) {
      const card = document.getElementById("card-" + focus);
      if (card) card.scrollIntoView({ behavior: "smooth", block: "nearest", inline: "center" });
    }
    lastFocus = focus;
    const aging = b.querySelector(".standup-aging");
    if (aging) aging.setAttribute("aria-pressed", String(document.body.classList.contains("aging-overlay")));
    tick();
  }

  function markAges() {
    const b = bar();
    const sle = Number(b && b.dataset.sle);
    document.querySelectorAll(".card[data-age]").forEach((card) => {
      const age = Number(card.dataset.age);
      card.classList.remove("age-band-fresh", "age-band-mid", "age-band-past");
      if (!sle || Number.isNaN(age)) return;
      card.classList.add(age > sle ? "age-band-past" : age > sle / 2 ? "age-band-mid" : "age-band-fresh");
    });
  }

  document.addEventListener("click", (event) => {
    const toggle = event.target.closest(".standup-aging");
    if (!toggle) return;
    const on = document.body.classList.toggle("aging-overlay");
    toggle.setAttribute("aria-pressed", String(on));
    if (on) markAges();
  });

  document.addEventListener("keydown", (event) => {
    const b = bar();
    if (!b || b.hidden || !b.classList.contains("is-facilitator")) return;
    if (event.shiftKey || event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select", "button", "a"].includes(tag)) return;
    if (document.querySelector("dialog[open]")) return;
    const key = event.key === " " ? "ArrowRight" : event.key;
    const button = b.querySelector(`.standup-controls button[data-key="${key}"]`);
    if (button) { event.preventDefault(); button.click(); }
  });

  document.addEventListener("htmx:afterSettle", () => {
    setup();
    if (document.body.classList.contains("aging-overlay")) markAges();
  });
  document.addEventListener("htmx:oobAfterSwap", setup);
  document.addEventListener("DOMContentLoaded", setup);
  setInterval(tick, 1000);
})();
