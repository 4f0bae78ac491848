// A retrospective live: join its Socket.IO room, fetch the session again when a push says it
// changed (each person's view differs, so pushes carry no HTML), keep what is being typed
// across those re-renders, and group notes by dragging one onto another.
(function () {
  "use strict";
  const COALESCE_MS = 60;  // pushes close together make one fetch, not one each
  let socket = null;
  let pending = null;
  const drafts = {};

  const retro = () => document.getElementById("retro");
  const retroId = () => parseInt(retro().dataset.retro, 10);
  const applied = () => parseInt(retro().dataset.seq, 10) || 0;

  function refresh() {
    pending = null;
    if (retro()) htmx.ajax("GET", retro().dataset.url, { target: "#retro", swap: "outerHTML" });
  }
  function refreshSoon() {
    if (!pending) pending = setTimeout(refresh, COALESCE_MS);
  }

  function onRetroEvent(message) {
    if (!retro() || message.retro !== retroId() || message.seq <= applied()) return;
    refreshSoon();  // our own changes too (see app/retros/live.py)
  }

  function join() {
    if (!retro()) return;
    socket.timeout(5000).emit("retro_join", { retro: retroId() }, (error, ack) => {
      if (error || !ack || !ack.ok) return;
      if (ack.seq > applied()) refresh();  // something happened before we were listening
    });
  }

  document.addEventListener("user-socket", (event) => {
    socket = event.detail;
    socket.on("retro_event", onRetroEvent);
    socket.on("connect", join);
    if (socket.connected) join();
  });

  // Text a form sent is not kept as a draft when a re-render comes before its answer does.
  const sentText = {};
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt;
    if (form.tagName !== "FORM" || !form.closest("#retro")) return;
    form.querySelectorAll("[data-draft]").forEach((field) => { sentText[field.id] = field.value; });
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful || event.detail.elt.tagName !== "FORM") return;
    event.detail.elt.querySelectorAll("[data-draft]").forEach((field) => {
      delete sentText[field.id];  // refused: what was typed stays
    });
  });

  // Answers can cross: a fetch a push started may come back after the answer to our own
  // change, with the state from before it. The older of the two is not shown.
  // What is being typed survives a re-render (put back at once, with the focus the re-render
  // took), except in the form whose answer this is.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (!event.detail.target || event.detail.target.id !== "retro") return;
    const found = /data-seq="(\d+)"/.exec(event.detail.serverResponse || "");
    if (found && retro() && parseInt(found[1], 10) < applied()) {
      event.detail.shouldSwap = false;
      return;
    }
    const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    const sent = new Set(elt && elt.tagName === "FORM"
      ? Array.from(elt.querySelectorAll("[data-draft]"), (field) => field.id) : []);
    document.querySelectorAll("#retro [data-draft]").forEach((field) => {
      if (sent.has(field.id) || (field.value && field.value === sentText[field.id])) return;
      if (field.value !== field.defaultValue || document.activeElement === field) {
        drafts[field.id] = { value: field.value, dirty: field.value !== field.defaultValue,
                             focused: document.activeElement === field };
      }
    });
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (!event.detail.target || event.detail.target.id !== "retro") return;
    Object.entries(drafts).forEach(([id, kept]) => {
      const field = document.getElementById(id);
      delete drafts[id];
      if (!field) return;
      if (kept.dirty && field.value === field.defaultValue) field.value = kept.value;
      const idle = !document.activeElement || document.activeElement === document.body;
      if (kept.focused && idle) field.focus();
    });
  });

  // Enter adds the note; Shift+Enter is a new line.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!box.matches || !box.matches("#retro .note-form textarea")) return;
    event.preventDefault();
    if (box.value.trim()) box.form.requestSubmit();
  });

  // Drag a note onto another note or a group: the same request as "Group with…".
  document.addEventListener("dragstart", (event) => {
    const note = event.target.closest && event.target.closest("#retro .note[draggable]");
    if (!note) return;
    event.dataTransfer.setData("text/plain", note.dataset.note);
    event.dataTransfer.effectAllowed = "move";
    note.classList.add("dragging");
  });
  document.addEventListener("dragend", (event) => {
    const note = event.target.closest && event.target.closest("#retro .note");
    if (note) note.classList.remove("dragging");
  });
  function dropTarget(event) {
    return event.target.closest &&
      event.target.closest("#retro .note[data-note], #retro .group-box[data-with]");
  }
  document.addEventListener("dragover", (event) => {
    if (!retro() || !retro().classList.contains("phase-group")) return;
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    document.querySelectorAll("#retro .drop-here").forEach((el) => el.classList.remove("drop-here"));
    target.classList.add("drop-here");
  });
  document.addEventListener("drop", (event) => {
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    target.classList.remove("drop-here");
    const note = event.dataTransfer.getData("text/plain");
    const other = target.dataset.note || target.dataset.with;
    if (!note || !other || note === other) return;
    htmx.ajax("POST", `/retrospectives/${retroId()}/group`, {
      target: "#retro", swap: "outerHTML", values: { note: note, with: other },
    });
  });
})();
