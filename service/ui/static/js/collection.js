// The collection: the index and its build (with a rebuild button and live progress), the site
// sources kept in sync, the latest evaluation against the curated links, and the A/B
// experiment's report.

import { get, post } from "./api.js";
import { dotted, empty, h, plural, section, set } from "./dom.js";
import { renderEvaluation } from "./evaluation.js";
import { renderExperiments } from "./experiments.js";
import { clearAlert, fail, notify } from "./messages.js";

const POLL_MS = 700;
const START_WAIT_MS = 60000;

function row(term, ...value) {
  return [h("dt", {}, term), h("dd", {}, ...value)];
}

function indexFacts(index) {
  if (!index.generation) {
    return [
      empty(index.problem || "No index yet: nothing is served until a build has run."),
      h("p", {}, `${plural(index.articles_in_store, "article")} in the store.`),
    ];
  }
  const changed = index.changed_since_build;
  return h(
    "dl",
    { class: "facts" },
    row("Generation", h("code", {}, index.generation)),
    row("Built", h("time", { datetime: index.built_at }, index.built_at), index.mode ? ` (${index.mode} build)` : ""),
    row("Articles indexed", String(index.articles)),
    row("Articles in the store", String(index.articles_in_store)),
    row(
      "Changed since the build",
      changed ? `${plural(changed, "article")}: rebuild to include ${changed === 1 ? "it" : "them"}` : "none",
    ),
    row("Model", dotted(index.model, `${index.dimension} dimensions`, `${index.index_kind} index`)),
    row("Curated links", `${plural(index.curated.links, "link")} under ${plural(index.curated.sources, "article")}`),
  );
}

/** Each site source `related sync` keeps (GET /index `sites`): its last pass and failures. */
function siteSources(sites) {
  if (!sites || !sites.length) return [];
  const items = sites.map((s) => {
    const when = s.finished_at ? ` at ${s.finished_at}` : "";
    const outcome = s.error
      ? `failed: ${s.error}`
      : `${plural(s.stored, "article")} stored (${s.inserted} new, ${s.updated} changed), ${s.unchanged} unchanged, ${s.failed} failed, ${s.pruned} pruned`;
    const failures = (s.failures || []).map((f) => h("li", {}, h("code", {}, f.source), `: ${f.reason}`));
    return h(
      "li",
      {},
      h("code", {}, s.source),
      ` (${s.kind || "detected"}), last pass${when}: ${outcome}`,
      failures.length ? h("ul", { class: "failures" }, ...failures) : "",
    );
  });
  return [h("h3", {}, "Site sources"), h("ul", { id: "site-sources" }, ...items)];
}

function buildState(index) {
  const r = index.rebuild;
  if (index.rebuild_running || (r && r.state === "running")) {
    const phase = r && r.state === "running" ? r.phase : "starting";
    const progress = h("progress", { id: "build-progress", "aria-label": "Build progress" });
    if (r && r.total) {
      progress.max = r.total;
      progress.value = r.done;
    }
    const counted = r && r.total ? ` ${r.done} of ${r.total}` : "";
    return [h("p", { class: "state running" }, `Build running: ${phase}${counted}`), progress];
  }
  if (!r) return h("p", { class: "state" }, "No build has been recorded yet.");
  if (r.state === "succeeded") {
    const res = r.result || {};
    return h(
      "p",
      { class: "state ok" },
      `Last build succeeded at ${r.finished_at}: generation ${res.generation} (${res.mode}), ${plural(res.articles, "article")}, ${res.encoded} encoded, ${Number(res.seconds).toFixed(1)} s.`,
    );
  }
  if (r.state === "failed") return h("p", { class: "state bad" }, `Last build failed at ${r.finished_at}: ${r.error}`);
  return h("p", { class: "state bad" }, `Last build was ${r.state} (started ${r.started_at}). Rebuild to recover.`);
}

class IndexPanel {
  constructor() {
    this.box = h("div", { id: "index-state" });
    this.live = h("div", { id: "build-state", "aria-live": "polite" });
    this.button = h("button", { type: "button", id: "rebuild", onclick: () => this.rebuild() }, "Rebuild now");
    this.index = null;
    this.watching = false;
  }

  node() {
    return section("index-h", "Index", this.box, h("h3", {}, "Build"), this.live, this.button);
  }

  draw(index) {
    this.index = index;
    const facts = indexFacts(index);
    set(this.box, [...(Array.isArray(facts) ? facts : [facts]), ...siteSources(index.sites)]);
    set(this.live, [buildState(index)].flat());
  }

  static stamp(index) {
    const r = index.rebuild;
    return r ? `${r.started_at}|${r.pid}` : null;
  }

  async rebuild() {
    clearAlert();
    const before = this.index ? IndexPanel.stamp(this.index) : null;
    let answer;
    try {
      answer = await post("/index/rebuild");
    } catch (error) {
      fail(error, "start a rebuild");
      return;
    }
    notify(answer.state === "queued" ? "A build is running: another will follow it." : "Rebuild started.");
    this.watch(before, answer.state === "queued");
  }

  /** Poll the index until a build that started after `before` has finished. */
  async watch(before, queued = false) {
    if (this.watching) return;
    this.watching = true;
    this.button.disabled = true;
    const started = Date.now();
    let seen = queued;
    try {
      for (;;) {
        const index = await get("/index");
        const r = index.rebuild;
        const running = index.rebuild_running || (r && r.state === "running");
        if (!running && IndexPanel.stamp(index) === before && !seen) {
          // Not started yet: the build process is still loading.
          if (Date.now() - started > START_WAIT_MS) {
            this.draw(index);
            fail({ message: "The build did not start: see build.log in the data directory." }, "rebuild");
            return;
          }
          set(this.live, h("p", { class: "state running" }, "Build starting…"), h("progress", { "aria-label": "Build progress" }));
        } else {
          this.draw(index);
          seen = true;
          if (!running) {
            notify(
              r && r.state === "succeeded"
                ? `Build finished: generation ${r.result.generation} is served.`
                : `Build ${r ? r.state : "ended"}${r && r.code ? ` (${r.code})` : ""}.`,
            );
            return;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } catch (error) {
      fail(error, "follow the build");
    } finally {
      this.watching = false;
      this.button.disabled = false;
    }
  }
}

export async function renderCollection(main) {
  const panel = new IndexPanel();
  const [index, evaluation] = await Promise.allSettled([get("/index"), get("/catalog/evaluation")]);
  if (index.status === "rejected") throw index.reason;
  const evalBox = h("div", {});
  const experimentBox = h("div", { id: "experiment" });
  set(main,
    h("h1", {}, "Collection"),
    panel.node(),
    section("evaluation-h", "Latest evaluation", evalBox),
    section("experiment-h", "A/B experiment", experimentBox),
  );
  renderExperiments(experimentBox).catch((error) =>
    set(experimentBox, empty(`The experiment could not be read: ${error.message}`)),
  );
  panel.draw(index.value);
  if (evaluation.status === "fulfilled") renderEvaluation(evalBox, evaluation.value.evaluation);
  else set(evalBox, empty(`The latest evaluation could not be read: ${evaluation.reason.message}`));
  if (index.value.rebuild_running) panel.watch(IndexPanel.stamp(index.value), true);
}
