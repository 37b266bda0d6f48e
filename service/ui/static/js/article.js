// An article's page: its related list as the site renders it, its curated links (found or
// missed, and where), and the controls that steer the list (see steer.js).

import { ApiError, articleApi, articlePage, enc, get, query, url } from "./api.js";
import { day, dotted, empty, fixed, h, plural, safeUrl, section, set } from "./dom.js";
import { relatedList } from "./items.js";
import { Steering, steerPanel } from "./steer.js";

const ORIGINS = {
  index: "from the list computed at the last build",
  search: "the stored list ran short under the filters, so the whole index was searched",
  live: "stored after the last build, so searched live",
  pins: "the editors' pins fill the whole list",
};

function articleIdFromAddress() {
  const prefix = `${document.body.dataset.root || ""}/ui/articles/`;
  return decodeURIComponent(location.pathname.slice(prefix.length));
}

function unknownArticle(main, id) {
  document.title = "Unknown article · Related articles";
  set(main,
    h("h1", {}, "Unknown article"),
    empty(`No article with id “${id}” is stored.`),
    h("p", {}, h("a", { href: url(`/ui/${query({ q: id })}`) }, `Search for “${id}”`)),
  );
}

function heading(article) {
  const link = safeUrl(article.url);
  return h(
    "header",
    { class: "article-head" },
    h("h1", {}, article.title),
    h(
      "p",
      { class: "meta" },
      dotted(article.section, day(article.published), h("code", {}, article.id), article.lang),
    ),
    article.tags && article.tags.length
      ? h("p", { class: "marks" }, article.tags.map((t) => h("span", { class: "badge tag" }, t)))
      : null,
    link ? h("p", {}, h("a", { href: link, rel: "noopener noreferrer", target: "_blank" }, "Open on the site (new tab)")) : null,
    article.body
      ? h("details", { class: "text" }, h("summary", {}, "Article text"), h("p", {}, article.body))
      : null,
  );
}

function kForm(page) {
  const review = page.review;
  return h(
    "form",
    {
      class: "inline",
      onsubmit: (event) => {
        event.preventDefault();
        const value = Number(event.currentTarget.elements.k.value);
        page.k = Math.min(Math.max(1, Math.round(value) || review.default_k), review.depth);
        history.replaceState(null, "", `${location.pathname}${query({ k: page.k })}`);
        page.refresh("list-h");
      },
    },
    h("label", { for: "k" }, "Articles in the list"),
    h("input", { id: "k", name: "k", type: "number", min: 1, max: review.depth, value: page.k, required: true }),
    h("button", { type: "submit" }, "Show"),
  );
}

function listPanel(page) {
  const { related, relatedError, review, steering } = page;
  let body;
  if (relatedError) {
    const noIndex = relatedError.code === "index_not_ready";
    body = [
      empty(noIndex ? "No index yet: related lists appear once it is built." : relatedError.message),
      h("p", {}, h("a", { href: url("/ui/collection") }, noIndex ? "Build it on the Collection page" : "See the Collection page")),
    ];
  } else if (!related.related.length) {
    body = empty("No article passes the filters and thresholds for this list.");
  } else {
    const curated = new Set(review.curated.map((link) => link.id));
    body = [
      relatedList(related.related, (item) => ({
        marks: [
          item.pinned ? { kind: "pinned", text: "Pinned" } : null,
          curated.has(item.id) ? { kind: "found", text: "Curated link" } : null,
        ].filter(Boolean),
        actions: steering.itemActions(item, curated.has(item.id)),
      })),
      h(
        "p",
        { class: "hint" },
        `Source: ${ORIGINS[related.source] || related.source}. `,
        related.suppressed_duplicates ? `${plural(related.suppressed_duplicates, "near-duplicate")} skipped. ` : "",
        `Index generation ${related.index.generation}.`,
      ),
    ];
  }
  return section("list-h", "Related list, as the site shows it", kForm(page), body);
}

function linkStatus(link, depth) {
  if (!link.in_store) return { kind: "absent", text: "Not in the store" };
  if (link.found) return { kind: "found", text: `✓ Found at #${link.rank}` };
  if (link.rank) return { kind: "missed", text: `✗ Missed: #${link.rank} in the full list` };
  return { kind: "missed", text: `✗ Missed: not in the first ${depth}` };
}

function curatedPanel(page) {
  const { review, steering } = page;
  const links = review.curated;
  if (!links.length) {
    return section(
      "curated-h",
      "Curated links",
      empty("No curated links for this article."),
      h(
        "p",
        { class: "hint" },
        "Add one with “Add to curated” beside an article in the list, or import the site's links with ",
        h("code", {}, "related curated import FILE"),
        ".",
      ),
    );
  }
  const summary = review.index.ready
    ? `The list shows ${review.found} of ${plural(links.length, "curated link")} in its first ${review.k}.`
    : `${plural(links.length, "curated link")}; where the list has them shows once an index is built.`;
  return section(
    "curated-h",
    "Curated links",
    h("p", { class: "summary" }, summary),
    h(
      "ol",
      { class: "curated", "aria-label": "Curated links, in the editors' order" },
      links.map((link) => {
        const status = linkStatus(link, review.depth);
        const title = link.title || link.id;
        return h(
          "li",
          { class: `link ${status.kind}`, "data-id": link.id },
          h("span", { class: `badge ${status.kind}` }, review.index.ready || !link.in_store ? status.text : "No index yet"),
          link.in_store ? h("a", { class: "title", href: articlePage(link.id) }, title) : h("code", {}, link.id),
          h(
            "p",
            { class: "meta" },
            dotted(link.section, day(link.published), link.grade !== 1 ? `grade ${fixed(link.grade, 1)}` : null),
          ),
          h("div", { class: "actions" }, steering.curatedActions(link, title)),
        );
      }),
    ),
  );
}

class ArticlePage {
  constructor(main, id) {
    this.main = main;
    this.id = id;
    const asked = Number(new URLSearchParams(location.search).get("k"));
    this.k = Number.isInteger(asked) && asked > 0 ? asked : null;
    this.steering = new Steering(this);
  }

  async load() {
    const params = query({ k: this.k });
    const [review, related] = await Promise.allSettled([
      get(`/catalog/articles/${enc(this.id)}/review${params}`),
      get(articleApi(this.id, `/related${query({ k: this.k, explain: true })}`)),
    ]);
    if (review.status === "rejected") throw review.reason;
    this.review = review.value;
    this.k = this.review.k;
    this.related = related.status === "fulfilled" ? related.value : null;
    this.relatedError = related.status === "rejected" ? related.reason : null;
    if (this.relatedError && !(this.relatedError instanceof ApiError)) throw this.relatedError;
  }

  draw() {
    const article = this.review.article;
    document.title = `${article.title} · Related articles`;
    set(this.main,
      heading(article),
      h("div", { class: "columns" }, listPanel(this), curatedPanel(this)),
      steerPanel(this),
    );
  }

  /** Reload and redraw, then put focus back on the same control (or on `fallback`'s heading). */
  async refresh(fallback = "list-h", focusKey = null) {
    const key = focusKey || document.activeElement?.dataset?.focus;
    await this.load();
    this.draw();
    const target =
      (key && this.main.querySelector(`[data-focus="${CSS.escape(key)}"]`)) ||
      document.getElementById(fallback);
    if (target) target.focus();
  }
}

export async function renderArticle(main) {
  const id = articleIdFromAddress();
  const page = new ArticlePage(main, id);
  try {
    await page.load();
  } catch (error) {
    if (error instanceof ApiError && error.code === "article_not_found") {
      unknownArticle(main, id);
      return;
    }
    throw error;
  }
  page.draw();
}
