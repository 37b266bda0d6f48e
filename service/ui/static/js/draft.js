// A draft: paste a title and body, see the related list as if it were published now.

import { post, url } from "./api.js";
import { empty, h, plural, section, set } from "./dom.js";
import { relatedList } from "./items.js";
import { clearAlert, fail } from "./messages.js";

function field(id, label, control, hint = null) {
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null);
}

function draftOf(form) {
  const value = (name) => form.elements[name].value.trim();
  const article = { title: value("title") };
  if (value("body")) article.body = value("body");
  if (value("section")) article.section = value("section");
  const tags = value("tags").split(",").map((t) => t.trim()).filter(Boolean);
  if (tags.length) article.tags = tags;
  article.published = value("published") || new Date().toISOString().slice(0, 10);
  return article;
}

export async function renderDraft(main) {
  const results = h("div", { id: "draft-results" });
  const form = h(
    "form",
    {
      class: "draft",
      onsubmit: async (event) => {
        event.preventDefault();
        clearAlert();
        const button = form.querySelector("button[type=submit]");
        button.disabled = true;
        try {
          const answer = await post("/related", { article: draftOf(form), k: Number(form.elements.k.value), explain: true });
          set(results,
            section(
              "draft-list-h",
              "Related list for this draft",
              answer.related.length
                ? [
                    h("p", { class: "summary" }, `${plural(answer.related.length, "article")} from index generation ${answer.index.generation}.`),
                    relatedList(answer.related),
                  ]
                : empty("No stored article is related closely enough."),
            ),
          );
          document.getElementById("draft-list-h").focus();
        } catch (error) {
          fail(error, "rank the draft");
          if (error.code === "index_not_ready") {
            set(results, empty("No index yet. ", h("a", { href: url("/ui/collection") }, "Build it on the Collection page"), "."));
          }
        } finally {
          button.disabled = false;
        }
      },
    },
    field("title", "Title", h("input", { id: "title", name: "title", type: "text", required: true })),
    field("body", "Body", h("textarea", { id: "body", name: "body", rows: 8 })),
    h(
      "div",
      { class: "row" },
      field("draft-section", "Section", h("input", { id: "draft-section", name: "section", type: "text" })),
      field("tags", "Tags", h("input", { id: "tags", name: "tags", type: "text", "aria-describedby": "tags-hint" }), "Separated by commas."),
      field("published", "Published", h("input", { id: "published", name: "published", type: "date", "aria-describedby": "published-hint" }), "Empty: today."),
      field("draft-k", "Articles in the list", h("input", { id: "draft-k", name: "k", type: "number", min: 1, max: 50, value: 5, required: true })),
    ),
    h("button", { type: "submit" }, "Show related articles"),
  );
  set(main,
    h("h1", {}, "Draft"),
    h("p", { class: "hint" }, "Nothing is stored: the draft is ranked against the current index, as if it were published now."),
    form,
    results,
  );
}
