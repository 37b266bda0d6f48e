// Steering an article's list: pin, reorder and unpin; block under the article or everywhere;
// add or remove curated links. Every change is a PUT of the whole list through the API (with
// the bearer token), the page then shows its effect, and Undo puts the previous list back.

import { articleApi, articlePage, get, put } from "./api.js";
import { empty, h, section } from "./dom.js";
import { actionButton } from "./items.js";
import { clearAlert, fail, notify } from "./messages.js";

const quoted = (title) => `“${title}”`;

export class Steering {
  constructor(page) {
    this.page = page;
  }

  get review() {
    return this.page.review;
  }

  lists() {
    const r = this.review;
    return {
      pins: r.pins.map((p) => p.id),
      blocks: r.blocks.map((b) => b.id),
      global: r.global_blocks.map((b) => b.id),
      curated: r.curated.map((c) => ({ id: c.id, grade: c.grade })),
    };
  }

  putList(kind, ids) {
    const id = this.page.id;
    if (kind === "global") return put("/blocks", { ids });
    if (kind === "curated") return put(articleApi(id, "/curated"), { ids: ids.map((c) => c.id), grades: ids.map((c) => c.grade) });
    return put(articleApi(id, `/${kind}`), { ids });
  }

  /** PUT one list and show the page it leaves; one at a time, so that the next change is
   * computed from the lists this one leaves. False when nothing was saved. */
  async save(kind, ids, doing, fallback, focus = null) {
    if (this.busy) return false;
    this.busy = true;
    this.page.main.setAttribute("aria-busy", "true");
    clearAlert();
    let saved = false;
    try {
      await this.putList(kind, ids);
      saved = true;
      await this.page.refresh(fallback, focus);
    } catch (error) {
      fail(error, saved ? "show the change (it was saved)" : doing);
    } finally {
      this.busy = false;
      this.page.main.removeAttribute("aria-busy");
    }
    return saved;
  }

  /** Replace one list; say what changed, with Undo; on failure say why and change nothing. */
  async change(kind, next, { doing, done, fallback, focus = null }) {
    const previous = this.lists()[kind];
    if (!(await this.save(kind, next, doing, fallback, focus))) return;
    notify(done, {
      undo: async () => {
        if (await this.save(kind, previous, "undo", fallback)) notify("Undone.");
      },
    });
  }

  pin(id, title) {
    const pins = this.lists().pins.filter((p) => p !== id);
    pins.push(id);
    return this.change("pins", pins, {
      doing: `pin ${quoted(title)}`,
      done: `Pinned ${quoted(title)}: it now comes at #${pins.length}.`,
      fallback: "pins-h",
      focus: `unpin:${id}`,
    });
  }

  unpin(id, title) {
    return this.change("pins", this.lists().pins.filter((p) => p !== id), {
      doing: `unpin ${quoted(title)}`,
      done: `Unpinned ${quoted(title)}.`,
      fallback: "pins-h",
    });
  }

  move(id, title, delta) {
    const pins = this.lists().pins;
    const from = pins.indexOf(id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= pins.length) return null;
    [pins[from], pins[to]] = [pins[to], pins[from]];
    return this.change("pins", pins, {
      doing: `move ${quoted(title)}`,
      done: `Moved ${quoted(title)} to #${to + 1}.`,
      fallback: "pins-h",
    });
  }

  block(id, title, everywhere) {
    const kind = everywhere ? "global" : "blocks";
    const ids = [...this.lists()[kind].filter((b) => b !== id), id];
    return this.change(kind, ids, {
      doing: `block ${quoted(title)}`,
      done: everywhere ? `Blocked ${quoted(title)} under every article.` : `Blocked ${quoted(title)} under this article.`,
      fallback: "blocks-h",
    });
  }

  unblock(id, title, everywhere) {
    const kind = everywhere ? "global" : "blocks";
    return this.change(kind, this.lists()[kind].filter((b) => b !== id), {
      doing: `unblock ${quoted(title)}`,
      done: everywhere ? `Unblocked ${quoted(title)} everywhere.` : `Unblocked ${quoted(title)} under this article.`,
      fallback: "blocks-h",
    });
  }

  addCurated(id, title) {
    const curated = [...this.lists().curated.filter((c) => c.id !== id), { id, grade: 1 }];
    return this.change("curated", curated, {
      doing: `add ${quoted(title)} to the curated links`,
      done: `Added ${quoted(title)} to the curated links.`,
      fallback: "curated-h",
    });
  }

  removeCurated(id, title) {
    return this.change("curated", this.lists().curated.filter((c) => c.id !== id), {
      doing: `remove ${quoted(title)} from the curated links`,
      done: `Removed ${quoted(title)} from the curated links.`,
      fallback: "curated-h",
    });
  }

  /** Buttons beside an item of the related list. */
  itemActions(item, isCurated) {
    const { id, title } = item;
    const buttons = [];
    if (item.pinned) {
      buttons.push(actionButton("Unpin", title, () => this.unpin(id, title), { "data-focus": `unpin:${id}` }));
    } else {
      buttons.push(
        actionButton("Pin", title, () => this.pin(id, title), { "data-focus": `pin:${id}` }),
        actionButton("Block here", title, () => this.block(id, title, false), { "data-focus": `block:${id}` }),
        actionButton("Block everywhere", title, () => this.block(id, title, true), { "data-focus": `global:${id}` }),
      );
    }
    buttons.push(
      isCurated
        ? actionButton("Remove from curated", title, () => this.removeCurated(id, title), { "data-focus": `uncurate:${id}` })
        : actionButton("Add to curated", title, () => this.addCurated(id, title), { "data-focus": `curate:${id}` }),
    );
    return buttons;
  }

  /** Buttons beside a curated link. */
  curatedActions(link, title) {
    const pinned = this.lists().pins.includes(link.id);
    return [
      link.in_store && !link.found && !pinned
        ? actionButton("Pin", title, () => this.pin(link.id, title), { "data-focus": `pin-link:${link.id}` })
        : null,
      actionButton("Remove", title, () => this.removeCurated(link.id, title), { "data-focus": `remove-link:${link.id}` }),
    ];
  }

  /** Pin an article named by id, after checking that it exists. */
  async pinById(id) {
    clearAlert();
    let found;
    try {
      found = await get(articleApi(id));
    } catch (error) {
      fail(error, `pin “${id}”`);
      return;
    }
    await this.pin(id, found.article.title);
  }
}

function entryTitle(entry) {
  return entry.in_store
    ? h("a", { href: articlePage(entry.id) }, entry.title)
    : [h("code", {}, entry.id), " ", h("span", { class: "badge absent" }, "not in the store")];
}

function pinsList(page) {
  const s = page.steering;
  const pins = page.review.pins;
  if (!pins.length) return empty("Nothing pinned: the list is all automatic.");
  return h(
    "ol",
    { class: "plain" },
    pins.map((pin, i) => {
      const title = pin.title || pin.id;
      return h(
        "li",
        { "data-id": pin.id },
        entryTitle(pin),
        h(
          "div",
          { class: "actions" },
          actionButton("Move up", title, () => s.move(pin.id, title, -1), { disabled: i === 0, "data-focus": `up:${pin.id}` }),
          actionButton("Move down", title, () => s.move(pin.id, title, 1), { disabled: i === pins.length - 1, "data-focus": `down:${pin.id}` }),
          actionButton("Unpin", title, () => s.unpin(pin.id, title), { "data-focus": `unpin-list:${pin.id}` }),
        ),
      );
    }),
  );
}

function blockList(page, entries, everywhere) {
  const s = page.steering;
  if (!entries.length) return empty(everywhere ? "No article is blocked everywhere." : "No article is blocked under this one.");
  return h(
    "ul",
    { class: "plain" },
    entries.map((entry) => {
      const title = entry.title || entry.id;
      const label = everywhere ? "Unblock everywhere" : "Unblock";
      return h(
        "li",
        { "data-id": entry.id },
        entryTitle(entry),
        h("div", { class: "actions" }, actionButton(label, title, () => s.unblock(entry.id, title, everywhere))),
      );
    }),
  );
}

export function steerPanel(page) {
  const pinForm = h(
    "form",
    {
      class: "inline",
      onsubmit: (event) => {
        event.preventDefault();
        const id = event.currentTarget.elements.pin.value.trim();
        if (id) page.steering.pinById(id);
      },
    },
    h("label", { for: "pin-id" }, "Pin an article by id"),
    h("input", { id: "pin-id", name: "pin", type: "text", autocomplete: "off", spellcheck: "false", required: true }),
    h("button", { type: "submit" }, "Pin"),
  );
  return section(
    "steer-h",
    "Steer this list",
    h("p", { class: "hint" }, "Changes apply at once, to the site too. Each can be undone."),
    h("div", { class: "columns" },
      h("div", {},
        h("h3", { id: "pins-h", tabindex: "-1" }, "Pinned, shown first in this order"),
        pinsList(page),
        pinForm,
      ),
      h("div", {},
        h("h3", { id: "blocks-h", tabindex: "-1" }, "Blocked under this article"),
        blockList(page, page.review.blocks, false),
        h("h3", {}, "Blocked everywhere"),
        blockList(page, page.review.global_blocks, true),
      ),
    ),
  );
}
