// A retrospective live: join its Socket.IO room, fetch the session again when a push says it
// changed (each person's view differs, so pushes carry no HTML), keep what is being typed
// across those re-renders, and group notes by dragging one onto another.
(function () {
  "use strict";
  let socket = null;
  const drafts = {};

  const retro = () => document.getElementById("retro");
  const retroId = () => parseInt(retro().dataset.retro, 10);
  const applied = () => parseInt(retro().dataset.seq, 10) || 0;

  function refresh() {
    htmx.ajax("GET", retro().dataset.url, { target: "#retro", swap: "outerHTML" });
  }

  function onRetroEvent(message) {
    if (!retro() || message.retro !== retroId() || message.seq <= applied()) return;
    refresh();
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

  // Our own change comes back as the answer: the server leaves this socket out of its push.
  document.addEventListener("htmx:configRequest", (event) => {
    if (socket && socket.connected && retro() && retro().contains(event.detail.elt)) {
      event.detail.headers["X-Socket-Id"] = socket.id;
    }
  });

  // What is typed survives a re-render; the field whose form was just sent starts empty.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (!event.detail.target || event.detail.target.id !== "retro") return;
    // A push's fetch targets #retro itself: only a form that was sent empties its fields.
    const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    const sent = elt && elt.tagName === "FORM" ? elt : null;
    document.querySelectorAll("#retro [data-draft]").forEach((field) => {
      if (sent && sent.contains(field)) delete drafts[field.id];
      else if (field.value !== field.defaultValue || document.activeElement === field) {
        drafts[field.id] = { value: field.value, dirty: field.value !== field.defaultValue,
                             focused: document.activeElement === field };
      }
    });
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (!event.detail.target || event.detail.target.id !== "retro") return;
    Object.entries(drafts).forEach(([id, kept]) => {
      const field = document.getElementById(id);
      if (!field) { delete drafts[id]; return; }
      if (kept.dirty) field.value = kept.value;
      if (kept.focused) field.focus();
      delete drafts[id];
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
    return event.target.closest && event.target.closest("#retro .note[data-note], #retro .group-box[data-with]");
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
