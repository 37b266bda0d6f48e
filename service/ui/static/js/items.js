// A related list as the site would render it (title, section, date, score), each item with its
// explanation on demand: shared tags and section, shared terms, and the parts of the score.

import { articlePage } from "./api.js";
import { day, dotted, fixed, h } from "./dom.js";

const SIGNALS = {
  dense: "Meaning (embeddings)",
  lexical: "Shared words",
  labels: "Tags and section",
  title: "Similar titles",
  age: "Close in time",
  popularity: "Often linked by editors",
};

function parts(explanation) {
  // Signals with no weight take no part in the score: leave them out.
  const rows = Object.entries(explanation.parts || {}).filter(([, part]) => part.weight);
  if (!rows.length) return null;
  const body = rows.map(([name, part]) => {
    const adds = part.points;
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, SIGNALS[name] || name),
      h("td", {}, fixed(part.similarity)),
      h("td", {}, fixed(part.z, 2)),
      h("td", {}, String(part.weight)),
      h("td", {}, fixed(adds, 2)),
    );
  });
  const table = h(
    "table",
    { class: "parts" },
    h("caption", {}, "Parts of the score"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Signal"),
        h("th", { scope: "col" }, "Similarity"),
        h("th", { scope: "col", title: "standard deviations above a typical article" }, "z-score"),
        h("th", { scope: "col" }, "Weight"),
        h("th", { scope: "col" }, "Adds"),
      ),
    ),
    h("tbody", {}, body),
    h(
      "tfoot",
      {},
      h("tr", {}, h("th", { scope: "row", colspan: "4" }, "Sum of the parts"), h("td", {}, fixed(explanation.fused, 2))),
      h("tr", {}, h("th", { scope: "row", colspan: "4" }, "× recency"), h("td", {}, fixed(explanation.recency, 2))),
      h("tr", {}, h("th", { scope: "row", colspan: "4" }, "Score"), h("td", {}, fixed(explanation.score, 2))),
    ),
  );
  return h("div", { class: "scroll" }, table);
}

export function explanationOf(item) {
  const ex = item.explanation;
  if (!ex) return h("p", { class: "hint" }, "No explanation was given for this item.");
  const terms = ex.shared_terms;
  return h(
    "div",
    { class: "explanation" },
    h(
      "dl",
      {},
      h("dt", {}, "Shared tags"),
      h("dd", {}, ex.shared_tags && ex.shared_tags.length ? ex.shared_tags.join(", ") : "none"),
      h("dt", {}, "Same section"),
      h("dd", {}, ex.same_section ? "yes" : "no"),
      terms ? [h("dt", {}, "Strongest shared terms"), h("dd", {}, terms.length ? terms.join(", ") : "none")] : null,
    ),
    parts(ex),
    item.pinned ? h("p", { class: "hint" }, "Pinned by an editor: shown whatever its score.") : null,
  );
}

/** One item: `marks` are badges (strings), `actions` a list of buttons. */
export function relatedItem(item, place, { marks = [], actions = [] } = {}) {
  const score = item.score === null || item.score === undefined ? null : `score ${fixed(item.score, 2)}`;
  return h(
    "li",
    { class: "item", "data-id": item.id },
    h("span", { class: "place", "aria-hidden": "true" }, String(place)),
    h(
      "div",
      { class: "item-body" },
      h("a", { class: "title", href: articlePage(item.id) }, item.title),
      h("p", { class: "meta" }, dotted(item.section, day(item.published), score)),
      marks.length ? h("p", { class: "marks" }, marks.map((m) => h("span", { class: `badge ${m.kind}` }, m.text))) : null,
      h("details", { class: "why" }, h("summary", {}, "Why this article?"), explanationOf(item)),
      actions.length ? h("div", { class: "actions" }, actions) : null,
    ),
  );
}

export function relatedList(items, options = () => ({})) {
  return h(
    "ol",
    { class: "related", "aria-label": "Related articles, best first" },
    items.map((item, i) => relatedItem(item, i + 1, options(item, i))),
  );
}

/** A small button whose accessible name says which article it acts on. */
export function actionButton(label, title, onclick, extra = {}) {
  return h(
    "button",
    { type: "button", class: "small", "aria-label": `${label}: ${title}`, onclick, ...extra },
    label,
  );
}
