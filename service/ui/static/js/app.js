// The editors' workspace: pick the view the address names and draw it into <main>.

import { renderArticle } from "./article.js";
import { renderCollection } from "./collection.js";
import { h, set } from "./dom.js";
import { renderDraft } from "./draft.js";
import { renderFind } from "./find.js";
import { fail, initToken } from "./messages.js";

const VIEWS = {
  find: renderFind,
  article: renderArticle,
  draft: renderDraft,
  collection: renderCollection,
};

async function start() {
  initToken();
  const view = document.body.dataset.view;
  for (const link of document.querySelectorAll("nav a[data-view]")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
  }
  const main = document.getElementById("main");
  try {
    await VIEWS[view](main);
  } catch (error) {
    set(main, h("h1", {}, "Something went wrong"), h("p", { class: "empty" }, error.message));
    fail(error, "load this page");
  }
}

start();
