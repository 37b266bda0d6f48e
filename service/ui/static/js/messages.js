// What the page tells the editor: a status line (with Undo after a change), failures, and the
// API token form in the header.

import { setToken, token } from "./api.js";
import { h, set } from "./dom.js";

const notice = () => document.getElementById("notice");
const alertBox = () => document.getElementById("alert");
const panel = () => document.getElementById("token-panel");
const toggle = () => document.getElementById("token-toggle");

/** Say what happened; with `undo`, offer to take it back. */
export function notify(text, { undo = null } = {}) {
  const box = notice();
  set(box, h("span", {}, text));
  if (undo) {
    box.append(
      " ",
      h(
        "button",
        {
          type: "button",
          class: "undo",
          onclick: async (event) => {
            event.currentTarget.disabled = true;
            await undo();
          },
        },
        "Undo",
      ),
    );
  }
}

export function clearAlert() {
  const box = alertBox();
  box.hidden = true;
  set(box);
}

/** Show a failure. A refused write (401/403) opens the token form. */
export function fail(error, doing = "") {
  const box = alertBox();
  const prefix = doing ? `Could not ${doing}: ` : "";
  const status = error.status ? ` (${error.status} ${error.code})` : "";
  set(box, h("strong", {}, prefix), `${error.message}${status}`);
  if (error.refused) {
    box.append(
      " ",
      token()
        ? "The server did not accept the API token: enter the right one."
        : "The server needs an API token for changes: enter it above.",
    );
    openToken();
  }
  box.hidden = false;
}

function showTokenState() {
  const set = Boolean(token());
  toggle().textContent = set ? "API token: set" : "API token: not set";
  toggle().classList.toggle("on", set);
}

export function openToken() {
  panel().hidden = false;
  toggle().setAttribute("aria-expanded", "true");
  document.getElementById("token-input").focus();
}

function closeToken() {
  panel().hidden = true;
  toggle().setAttribute("aria-expanded", "false");
}

export function initToken() {
  showTokenState();
  toggle().addEventListener("click", () => (panel().hidden ? openToken() : closeToken()));
  panel().addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("token-input");
    setToken(input.value.trim());
    input.value = "";
    showTokenState();
    closeToken();
    clearAlert();
    notify("API token set for this browser session.");
    toggle().focus();
  });
  document.getElementById("token-forget").addEventListener("click", () => {
    setToken("");
    showTokenState();
    closeToken();
    notify("API token forgotten.");
    toggle().focus();
  });
  panel().addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      closeToken();
      toggle().focus();
    }
  });
}
