// Glue shared by every page: CSRF header on HTMX requests, dialogs loaded into #modal,
// and messages that clear themselves.
(function () {
  "use strict";
  const token = () => document.querySelector('meta[name="csrf-token"]').content;

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = token();
  });

  // A fragment swapped into #modal brings a <dialog>: open it.
  function openModal() {
    const dialog = document.querySelector("#modal dialog");
    if (!dialog || dialog.open) return;
    dialog.showModal();
    const first = dialog.querySelector("[autofocus], input, select, textarea");
    if (first) first.focus();
  }
  document.addEventListener("htmx:afterSettle", openModal);
  document.addEventListener("htmx:oobAfterSwap", openModal);
  // A closed dialog leaves #modal, so the next settle does not open it again.
  document.addEventListener("close", (event) => {
    if (event.target.parentElement && event.target.parentElement.id === "modal") event.target.remove();
  }, true);

  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });

  // Messages fade after a while; errors stay until the next one or a click.
  document.addEventListener("htmx:afterSettle", (event) => {
    if (!event.detail.target || event.detail.target.id !== "flash") return;
    event.detail.target.querySelectorAll(".flash-success, .flash-info").forEach((el) => {
      setTimeout(() => el.remove(), 5000);
    });
  });
  document.addEventListener("click", (event) => {
    const message = event.target.closest(".flash");
    if (message) message.remove();
  });
})();
