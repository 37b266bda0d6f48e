// The latest `related evaluate`: the table of methods, the curves, figures per section, and the
// articles served worst against their curated links, each linking to its page for review.

import { articlePage, get, query } from "./api.js";
import { day, empty, fixed, h, plural, set } from "./dom.js";
import { bar, lineChart } from "./charts.js";
import { fail } from "./messages.js";

function linksSource(links) {
  if (!links) return "unknown links";
  if (links.kind === "file") return ["the links file ", h("code", {}, links.path)];
  return `the curated links stored in the service (${plural(links.sources, "article")}, ${plural(links.links, "link")})`;
}

function summary(ev) {
  const c = ev.counts;
  const skipped = Object.entries(c.sources_skipped || {}).map(([why, n]) => `${n} ${why.replaceAll("_", " ")}`);
  return h(
    "p",
    { class: "summary" },
    `Run ${ev.created_at} against `,
    linksSource(ev.links),
    `: ${plural(c.sources_evaluated, "article")} evaluated`,
    c.sources_skipped_total ? ` (${c.sources_skipped_total} skipped: ${skipped.join(", ")})` : "",
    `, ${plural(c.links_evaluated, "curated link")}`,
    c.links_missing ? `, ${c.links_missing} to articles not indexed` : "",
    ev.past_only ? `, only earlier articles as candidates (${c.links_set_aside} links to later ones set aside)` : "",
    `; index generation ${c.generation}.`,
  );
}

function methodsTable(ev) {
  const columns = Object.keys(Object.values(ev.methods)[0] || {});
  return h(
    "div",
    { class: "scroll", tabindex: "0", role: "region", "aria-label": "Every method against the curated links" },
    h(
      "table",
      { class: "figures" },
      h("caption", {}, "Every method against the curated links (★ best in its column)"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "method"), columns.map((c) => h("th", { scope: "col", title: ev.glossary.metrics[c.split("@")[0]] || "" }, c)))),
      h(
        "tbody",
        {},
        Object.entries(ev.methods).map(([name, metrics]) =>
          h(
            "tr",
            { class: name === "service" ? "ours" : null },
            h("th", { scope: "row", title: ev.glossary.methods[name] || "" }, name),
            columns.map((c) => {
              const best = ev.best[c] === name;
              return h("td", { class: best ? "best" : null }, fixed(metrics[c]), best ? h("span", { class: "star" }, " ★", h("span", { class: "sr" }, " (best)")) : null);
            }),
          ),
        ),
      ),
    ),
  );
}

function glossary(ev) {
  const entries = (terms) => Object.entries(terms).flatMap(([name, text]) => [h("dt", {}, name), h("dd", {}, text)]);
  return h(
    "details",
    { class: "glossary" },
    h("summary", {}, "What the figures and methods mean"),
    h("p", {}, `Each figure is the mean over the evaluated articles, looking at the first k of each list (k = ${ev.cutoffs.join(", ")}).`),
    h("dl", {}, entries(Object.fromEntries(Object.entries(ev.glossary.metrics).map(([m, t]) => [`${m}@k`, t])))),
    h("dl", {}, entries(ev.glossary.methods)),
    h(
      "p",
      {},
      "Options of the service's lists: ",
      h("code", {}, Object.entries(ev.options).filter(([, v]) => v !== null && !(Array.isArray(v) && !v.length)).map(([k, v]) => `${k}=${v}`).join(" ")),
    ),
  );
}

function sectionsTable(ev) {
  const k = ev.cutoff;
  return h(
    "div",
    { class: "scroll", tabindex: "0", role: "region", "aria-label": "The service by section" },
    h(
      "table",
      { class: "figures sections" },
      h("caption", {}, `The service's lists by section of the source article (at k = ${k})`),
      h(
        "thead",
        {},
        h("tr", {}, ["section", "articles", "curated links", `recall@${k}`, `nDCG@${k}`, `hit rate@${k}`].map((c) => h("th", { scope: "col" }, c))),
      ),
      h(
        "tbody",
        {},
        ev.sections.map((sec) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, sec.section || "(no section)"),
            h("td", {}, String(sec.sources)),
            h("td", {}, String(sec.links)),
            h("td", {}, bar(sec.recall)),
            h("td", {}, bar(sec.ndcg)),
            h("td", {}, bar(sec.hit_rate)),
          ),
        ),
      ),
    ),
  );
}

function worstTable(box, ev, worst) {
  const k = ev.cutoff;
  const pager = async (page) => {
    try {
      const answer = await get(`/catalog/evaluation${query({ page })}`);
      worstTable(box, ev, answer.evaluation.worst);
      box.querySelector("table").focus();
    } catch (error) {
      fail(error, "load more articles");
    }
  };
  set(box,
    h("h3", { id: "worst-h" }, "Served worst against their curated links"),
    h("p", { class: "hint" }, `Lowest recall@${k} first: open each to see what the list missed and steer it.`),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "figures worst", tabindex: "-1", "aria-labelledby": "worst-h" },
        h("thead", {}, h("tr", {}, ["article", "section", "found", `recall@${k}`, `nDCG@${k}`].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          worst.sources.map((row) =>
            h(
              "tr",
              { "data-id": row.id },
              h("th", { scope: "row" }, h("a", { href: articlePage(row.id) }, row.title || row.id), " ", day(row.published)),
              h("td", {}, row.section || "–"),
              h("td", {}, `${row.found.length} of ${row.curated.length}`),
              h("td", {}, fixed(row.recall)),
              h("td", {}, fixed(row.ndcg)),
            ),
          ),
        ),
      ),
    ),
    worst.pages > 1
      ? h(
          "nav",
          { class: "pager", "aria-label": "Pages of the worst served" },
          h("button", { type: "button", disabled: worst.page <= 1, onclick: () => pager(worst.page - 1) }, "Previous page"),
          h("span", {}, `Page ${worst.page} of ${worst.pages} (${plural(worst.total, "article")})`),
          h("button", { type: "button", disabled: worst.page >= worst.pages, onclick: () => pager(worst.page + 1) }, "Next page"),
        )
      : null,
  );
}

export function renderEvaluation(box, ev) {
  if (!ev) {
    set(box,
      empty("No evaluation yet."),
      h(
        "p",
        { class: "hint" },
        "Store the site's curated links (",
        h("code", {}, "related curated import FILE"),
        ") and run ",
        h("code", {}, "related evaluate"),
        ": its results show here.",
      ),
    );
    return;
  }
  const worstBox = h("div", {});
  set(box,
    summary(ev),
    methodsTable(ev),
    glossary(ev),
    h(
      "div",
      { class: "charts" },
      lineChart("recall@k", Object.fromEntries(Object.entries(ev.curves).map(([m, c]) => [m, c.recall]))),
      lineChart("nDCG@k", Object.fromEntries(Object.entries(ev.curves).map(([m, c]) => [m, c.ndcg]))),
    ),
    sectionsTable(ev),
    worstBox,
  );
  worstTable(worstBox, ev, ev.worst);
}
