// Board glue: drag and drop (SortableJS) and the keyboard path for the same moves.
// Every move is a POST to the card's move URL; the server answers with the whole board as
// stored, so a refused move snaps back and counters are always the server's.
(function () {
  "use strict";
  let focusAfterSwap = null;

  function board() { return document.getElementById("board"); }
  function canEdit() { const b = board(); return b && b.dataset.canEdit === "1"; }

  function moveCard(card, values) {
    focusAfterSwap = card.dataset.key;
    board().dataset.ready = "0";  // until the server's board replaces this one
    values.version = card.dataset.version;
    htmx.ajax("POST", card.dataset.moveUrl, { target: "#board", swap: "outerHTML", values: values });
  }

  function initSortables() {
    if (!board()) return;
    board().dataset.ready = "1";  // lets tests (and people) know drags are live
    if (!canEdit() || typeof Sortable === "undefined") return;
    board().querySelectorAll(".cell:not([data-sortable])").forEach((cell) => {
      cell.dataset.sortable = "1";
      Sortable.create(cell, {
        group: "cards",
        draggable: ".card",
        filter: ".no-drag",
        preventOnFilter: false,
        sort: cell.dataset.manual === "1",
        forceFallback: true,   // the HTML5 drag API is unreliable under automation and on touch
        fallbackTolerance: 4,  // a click is not a drag
        animation: 120,
        ghostClass: "card-ghost",
        chosenClass: "card-chosen",
        onEnd(event) {
          if (event.from === event.to && event.oldIndex === event.newIndex) return;
          moveCard(event.item, {
            column: event.to.dataset.column,
            lane: event.to.dataset.lane,
            position: event.newIndex,
          });
        },
      });
    });
  }

  function neighbour(list, current, step) {
    const index = list.indexOf(current) + step;
    return index >= 0 && index < list.length ? list[index] : null;
  }

  function onKey(event) {
    const tag = (event.target.tagName || "").toLowerCase();
    const typing = tag === "input" || tag === "textarea" || tag === "select";
    if (document.querySelector("dialog[open]")) return;
    if (!typing && event.key === "/") { event.preventDefault(); document.getElementById("filter-q").focus(); return; }
    if (!typing && event.key === "n" && document.getElementById("quick-add")) { event.preventDefault(); document.getElementById("quick-add").focus(); return; }
    if (!typing && event.key === "?") { document.getElementById("shortcuts").showModal(); return; }

    const card = event.target.closest && event.target.closest(".card");
    if (!card || typing) return;
    if (event.key === "Enter") { card.querySelector(".card-title").click(); event.preventDefault(); return; }
    if (!canEdit()) return;
    if (event.key === "m") { const b = card.querySelector(".card-move"); if (b) b.click(); event.preventDefault(); return; }
    if (!event.shiftKey) return;

    const cell = card.closest(".cell");
    const columns = board().dataset.columns.split(",");
    const lanes = board().dataset.lanes.split(",");
    const cards = Array.from(cell.querySelectorAll(".card"));
    let values = null;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const column = neighbour(columns, cell.dataset.column, event.key === "ArrowRight" ? 1 : -1);
      if (column) values = { column: column, lane: cell.dataset.lane };
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const index = cards.indexOf(card) + (event.key === "ArrowUp" ? -1 : 1);
      if (cell.dataset.manual === "1" && index >= 0 && index < cards.length) {
        values = { column: cell.dataset.column, lane: cell.dataset.lane, position: index };
      }
    } else if (event.key === "PageUp" || event.key === "PageDown") {
      const lane = neighbour(lanes, cell.dataset.lane, event.key === "PageUp" ? -1 : 1);
      if (lane) values = { column: cell.dataset.column, lane: lane };
    }
    if (values) { event.preventDefault(); moveCard(card, values); }
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("htmx:afterSettle", () => {
    if (!board()) return;
    initSortables();
    if (focusAfterSwap) {
      const card = document.getElementById("card-" + focusAfterSwap);
      if (card) card.focus();
      focusAfterSwap = null;
    }
  });
  document.addEventListener("DOMContentLoaded", initSortables);
})();
