// Finding an article: title words or id, a section, newest first, a page at a time.

import { articlePage, get, query, url } from "./api.js";
import { day, dotted, empty, h, plural, set } from "./dom.js";

const ALL = "";

function sectionLabel(name) {
  return name === "" ? "(no section)" : name;
}

function result(article) {
  return h(
    "li",
    { class: "result", "data-id": article.id },
    h("a", { class: "title", href: articlePage(article.id) }, article.title),
    h(
      "p",
      { class: "meta" },
      dotted(
        article.section,
        day(article.published),
        h("code", {}, article.id),
        article.curated ? plural(article.curated, "curated link") : null,
        article.pins ? plural(article.pins, "pin") : null,
      ),
    ),
  );
}

async function indexWarning() {
  try {
    const index = await get("/index");
    if (index.generation) return null;
    return h(
      "p",
      { class: "warning" },
      index.problem || "No index yet: articles can be found, but related lists appear once it is built. ",
      h("a", { href: url("/ui/collection") }, "Build it on the Collection page"),
      ".",
    );
  } catch {
    return null;
  }
}

export async function renderFind(main) {
  const params = new URLSearchParams(location.search);
  const state = { q: params.get("q") || "", section: params.get("section"), page: Number(params.get("page")) || 1 };
  const [sections, warning] = await Promise.all([get("/catalog/sections"), indexWarning()]);

  const input = h("input", { id: "q", name: "q", type: "search", value: state.q, autocomplete: "off", spellcheck: "false" });
  const select = h(
    "select",
    { id: "section", name: "section" },
    h("option", { value: ALL }, "All sections"),
    sections.sections.map((s, i) =>
      h("option", { value: String(i + 1), selected: s.name === state.section }, `${sectionLabel(s.name)} (${s.articles})`),
    ),
  );
  const results = h("div", { id: "results", "aria-live": "polite" });

  async function search(page = 1) {
    state.q = input.value.trim();
    state.section = select.value === ALL ? null : sections.sections[Number(select.value) - 1].name;
    state.page = page;
    const answer = await get(`/catalog/articles${query({ q: state.q || null, section: state.section, page })}`);
    history.replaceState(null, "", `${location.pathname}${query({ q: state.q || null, section: state.section, page: page > 1 ? page : null })}`);
    draw(answer);
  }

  function draw(answer) {
    if (!answer.total) {
      const none = sections.sections.length
        ? empty("No article matches. Try fewer words, part of an id, or all sections.")
        : empty("The store holds no articles yet: add them with ", h("code", {}, "related ingest FILE"), " or POST /articles.");
      set(results, none);
      return;
    }
    const pager = h(
      "nav",
      { class: "pager", "aria-label": "Result pages" },
      h("button", { type: "button", disabled: answer.page <= 1, onclick: () => search(answer.page - 1) }, "Previous page"),
      h("span", {}, `Page ${answer.page} of ${answer.pages}`),
      h("button", { type: "button", disabled: answer.page >= answer.pages, onclick: () => search(answer.page + 1) }, "Next page"),
    );
    set(results,
      h("p", { class: "summary" }, `${plural(answer.total, "article")}, newest first`),
      h("ol", { class: "results", "aria-label": "Articles found" }, answer.articles.map(result)),
      answer.pages > 1 ? pager : null,
    );
  }

  const form = h(
    "form",
    {
      role: "search",
      class: "search",
      onsubmit: (event) => {
        event.preventDefault();
        search(1);
      },
    },
    h("div", { class: "field grow" }, h("label", { for: "q" }, "Title words or id"), input),
    h("div", { class: "field" }, h("label", { for: "section" }, "Section"), select),
    h("button", { type: "submit" }, "Search"),
  );
  select.addEventListener("change", () => search(1));

  set(main, [h("h1", {}, "Find an article"), warning, form, results].filter(Boolean));
  await search(state.page);
}
