// Every logged-in page: one socket for the person (the board's own socket where the page has
// one), which the server puts in the person's room; swarm invitations arrive on it as toasts,
// with the header's count.
(function () {
  "use strict";
  let socket = null;

  function onInvitation(message) {
    if (message.status !== "pending") {
      ["invitation-", "pending-"].forEach((prefix) => {
        const shown = document.getElementById(prefix + message.invitation);
        if (shown) shown.remove();
      });
    }
    if (message.html) htmx.swap("#toasts", message.html, { swapStyle: "none" });
  }

  function adopt(live) {
    if (socket) return;
    socket = live;
    socket.on("invitation", onInvitation);
    document.dispatchEvent(new CustomEvent("user-socket", { detail: socket }));
  }

  // The board page's live.js opens its socket first and announces it: share it.
  document.addEventListener("live-socket", (event) => adopt(event.detail));
  document.addEventListener("DOMContentLoaded", () => {
    if (socket || typeof io === "undefined") return;
    adopt(io({ transports: ["websocket", "polling"], tryAllTransports: true }));
  });
})();
