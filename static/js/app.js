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

  // Behaviour by attribute, not inline script (the Content-Security-Policy allows none):
  // data-open-dialog="id" opens that dialog; data-close-dialog closes the one it is in;
  // data-dismiss=".selector" removes the nearest such ancestor.
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) document.getElementById(opener.dataset.openDialog).showModal();
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
    const dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) dismiss.closest(dismiss.dataset.dismiss).remove();
  });

  // A plain form's button with data-confirm="question" submits only when the person agrees
  // (HTMX buttons use hx-confirm).
  document.addEventListener("submit", (event) => {
    const asking = event.submitter && event.submitter.closest("[data-confirm]");
    if (asking && !window.confirm(asking.dataset.confirm)) event.preventDefault();
  });

  // After an HTMX request, data-after-success="close-dialog | reset" (when the answer was a
  // success) or data-after-request="close-dialog" (whatever it was) on the requesting element.
  document.addEventListener("htmx:afterRequest", (event) => {
    const el = event.detail.elt;
    if (!(el instanceof Element)) return;
    const action = el.dataset.afterRequest || (event.detail.successful && el.dataset.afterSuccess);
    if (action === "close-dialog" && el.closest("dialog")) el.closest("dialog").close();
    if (action === "reset" && typeof el.reset === "function") el.reset();
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
