// Every logged-in page: one socket for the person (the board's own socket where the page has
// one), which the server puts in the person's room; swarm invitations arrive on it as toasts,
// with the header's count, and the inbox's unread count for the bell; and the end of the
// session when an admin deactivates the person or logs them out everywhere.
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

  // The bell: the server pushes the person's unread count after each change that concerns them.
  function onInbox(message) {
    const count = document.querySelector("#inbox-bell .bell-count");
    if (!count || typeof message.unread !== "number") return;
    const bell = document.getElementById("inbox-bell");
    count.textContent = message.unread < 100 ? String(message.unread) : "99+";
    count.dataset.unread = String(message.unread);
    count.hidden = message.unread === 0;
    bell.classList.toggle("has-unread", message.unread > 0);
    bell.title = "Inbox: " + message.unread + " unread";
    bell.setAttribute("aria-label", "Inbox, " + message.unread + " unread");
  }

  // Deactivated, or logged out everywhere: the server ends the socket; this page goes to the
  // login rather than keep showing (and reconnecting for) what the person may no longer see.
  function onSessionEnded() {
    socket.io.opts.reconnection = false;
    window.location.assign("/login?ended=1");
  }

  function adopt(live) {
    if (socket) return;
    socket = live;
    socket.on("invitation", onInvitation);
    socket.on("inbox", onInbox);
    socket.on("session_ended", onSessionEnded);
    document.dispatchEvent(new CustomEvent("user-socket", { detail: socket }));
  }

  // The board page's live.js opens its socket first and announces it: share it.
  document.addEventListener("live-socket", (event) => adopt(event.detail));
  document.addEventListener("DOMContentLoaded", () => {
    if (socket || typeof io === "undefined") return;
    adopt(io({ transports: ["websocket", "polling"], tryAllTransports: true }));
  });
})();
