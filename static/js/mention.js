// @mention suggestions: in a field with data-mention-board="KEY", typing @ and the start of a
// name lists the board's members (GET /boards/KEY/people?q=…); arrows choose, Enter or Tab
// (or a click) puts @username in, Escape closes. The server finds the mentions when it saves.
(function () {
  "use strict";
  const TYPING = /(^|[^\w@/.])@([A-Za-z0-9_.-]{0,40})$/;
  let menu = null;
  let field = null;
  let people = [];
  let chosen = 0;
  let asked = 0;
  let timer = null;

  function typedWord(el) {
    const match = TYPING.exec(el.value.slice(0, el.selectionStart));
    return match ? match[2] : null;
  }

  function close() {
    if (menu) menu.remove();
    menu = null;
    people = [];
  }

  function pick(index) {
    const person = people[index];
    const typed = typedWord(field);
    if (!person || typed === null) return close();
    const end = field.selectionStart;
    const start = end - typed.length;
    const insert = person.username + " ";
    field.value = field.value.slice(0, start) + insert + field.value.slice(end);
    field.selectionStart = field.selectionEnd = start + insert.length;
    close();
    field.focus();
  }

  function highlight() {
    menu.querySelectorAll("li").forEach((item, i) => item.setAttribute("aria-selected", i === chosen ? "true" : "false"));
  }

  function show() {
    if (menu) menu.remove();
    menu = document.createElement("ul");
    menu.className = "mention-menu";
    menu.setAttribute("role", "listbox");
    menu.setAttribute("aria-label", "People to mention");
    people.forEach((person, i) => {
      const item = document.createElement("li");
      item.setAttribute("role", "option");
      const avatar = document.createElement("span");
      avatar.className = "avatar";
      avatar.textContent = person.initials;
      const name = document.createElement("strong");
      name.textContent = "@" + person.username;
      const full = document.createElement("span");
      full.className = "muted";
      full.textContent = person.name;
      item.append(avatar, name, full);
      item.addEventListener("mousedown", (event) => { event.preventDefault(); pick(i); });
      menu.append(item);
    });
    const box = field.getBoundingClientRect();
    menu.style.left = window.scrollX + box.left + "px";
    menu.style.top = window.scrollY + box.bottom + 2 + "px";
    document.body.append(menu);
    chosen = 0;
    highlight();
  }

  async function suggest(el) {
    const typed = typedWord(el);
    if (typed === null) return close();
    const ticket = ++asked;
    const url = "/boards/" + encodeURIComponent(el.dataset.mentionBoard) + "/people?q=" + encodeURIComponent(typed);
    let answer;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return close();
      answer = await response.json();
    } catch (error) {
      return close();
    }
    if (ticket !== asked || document.activeElement !== el) return;
    field = el;
    people = answer.people || [];
    if (people.length) show(); else close();
  }

  document.addEventListener("input", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLElement) || !el.dataset.mentionBoard) return;
    clearTimeout(timer);
    timer = setTimeout(() => suggest(el), 100);
  });

  // Capturing on the document runs before the field's own keys (Enter sends a room message).
  document.addEventListener("keydown", (event) => {
    if (!menu || event.target !== field) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      chosen = (chosen + (event.key === "ArrowDown" ? 1 : people.length - 1)) % people.length;
      highlight();
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick(chosen);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }, true);

  document.addEventListener("focusout", (event) => {
    if (event.target === field) setTimeout(close, 150);
  });
})();
