// The A/B experiment on the collection page: the running one (else the latest), its verdict,
// CTR per variant with 95% intervals as a chart and a table, and the same per section.

import { get, post } from "./api.js";
import { h, s, empty, set } from "./dom.js";
import { fail, notify } from "./messages.js";

const COLOURS = ["#7a7a7a", "#b35806", "#542788"];
const W = 420;
const ROW = 34;
const PAD = { left: 80, right: 16, top: 10, bottom: 30 };

const pct = (v, digits = 2) => (typeof v === "number" ? `${(v * 100).toFixed(digits)}%` : "–");

/** CTR per variant as a dot on its 95% interval, on one shared axis from 0. */
export function intervalChart(variants) {
  const top = Math.max(0.05, Math.ceil(Math.max(...variants.map((v) => v.interval[1])) * 20) / 20);
  const H = PAD.top + PAD.bottom + ROW * variants.length;
  const x = (v) => PAD.left + ((W - PAD.left - PAD.right) * Math.min(v, top)) / top;
  const step = top <= 0.3 ? 0.05 : 0.1;
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  const rows = variants.map((v, i) => {
    const y = PAD.top + ROW * i + ROW / 2;
    const colour = COLOURS[i % COLOURS.length];
    return [
      s("text", { x: PAD.left - 8, y: y + 4, "text-anchor": "end", class: "label" }, v.variant),
      s("line", { x1: x(v.interval[0]), x2: x(v.interval[1]), y1: y, y2: y, stroke: colour, "stroke-width": 3 }),
      s("line", { x1: x(v.interval[0]), x2: x(v.interval[0]), y1: y - 7, y2: y + 7, stroke: colour, "stroke-width": 2 }),
      s("line", { x1: x(v.interval[1]), x2: x(v.interval[1]), y1: y - 7, y2: y + 7, stroke: colour, "stroke-width": 2 }),
      v.ctr === null ? null : s("circle", { cx: x(v.ctr), cy: y, r: 5, fill: colour }),
    ];
  });
  const grid = ticks.map((t) => [
    s("line", { x1: x(t), x2: x(t), y1: PAD.top, y2: H - PAD.bottom, class: "grid" }),
    s("text", { x: x(t), y: H - PAD.bottom + 16, "text-anchor": "middle", class: "tick" }, pct(t, 0)),
  ]);
  const summary = variants.map((v) => `${v.variant} ${pct(v.ctr)} (${pct(v.interval[0])} to ${pct(v.interval[1])})`).join("; ");
  return h(
    "figure",
    { class: "chart-box" },
    h("figcaption", {}, "Click-through rate per variant, with its 95% interval"),
    s(
      "svg",
      { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "ctr-chart-t", class: "chart", id: "ctr-chart" },
      s("title", { id: "ctr-chart-t" }, `CTR per variant: ${summary}`),
      grid,
      rows,
    ),
  );
}

function variantsTable(report) {
  return h(
    "table",
    { class: "figures", id: "experiment-variants" },
    h("caption", {}, "Per variant (the first is the control)"),
    h(
      "thead",
      {},
      h("tr", {}, ["variant", "share", "impressions", "clicks", "CTR", "95% interval", "lift", "p", "still needed"].map((c) => h("th", { scope: "col" }, c))),
    ),
    h(
      "tbody",
      {},
      report.variants.map((v) => {
        const against = v.against_control;
        return h(
          "tr",
          {},
          h("th", { scope: "row" }, v.variant),
          h("td", {}, `${v.share}%`),
          h("td", {}, v.impressions.toLocaleString("en")),
          h("td", {}, v.clicks.toLocaleString("en")),
          h("td", {}, pct(v.ctr)),
          h("td", {}, `${pct(v.interval[0])} – ${pct(v.interval[1])}`),
          h("td", {}, against && against.lift !== null ? `${(against.lift * 100).toFixed(1)}%` : "control"),
          h("td", {}, against ? against.p.toFixed(4) : "–"),
          h("td", {}, v.still_needed.toLocaleString("en")),
        );
      }),
    ),
  );
}

function sectionsTable(report) {
  const names = report.experiment.variants;
  return h(
    "table",
    { class: "figures" },
    h("caption", {}, "CTR per section (impressions in brackets)"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "section"), names.map((n) => h("th", { scope: "col" }, n)))),
    h(
      "tbody",
      {},
      report.sections.map((row) =>
        h("tr", {}, h("th", { scope: "row" }, row.section), row.variants.map((v) => h("td", {}, `${pct(v.ctr)} (${v.impressions})`))),
      ),
    ),
  );
}

function plan(report) {
  const p = report.experiment.plan;
  return h(
    "p",
    { class: "muted" },
    `Plan fixed at the start: alpha ${p.alpha} (each variant tested at ${report.test_level.toFixed(3)}), power ${p.power}, ` +
      `minimum detectable effect ${(p.mde * 100).toFixed(0)}% from a ${pct(p.baseline_ctr, 1)} CTR: ` +
      `${p.impressions_per_variant.toLocaleString("en")} impressions per variant before a verdict.`,
  );
}

export async function renderExperiments(box) {
  const { experiments } = await get("/experiments");
  const chosen = experiments.find((e) => e.state === "running") || experiments[experiments.length - 1];
  if (!chosen) {
    set(box, empty("No experiment yet: start one with `related experiment start NAME --variants defaults,curated`."));
    return;
  }
  const { report } = await get(`/experiments/${encodeURIComponent(chosen.name)}/report`);
  const stop =
    chosen.state === "running"
      ? h(
          "button",
          {
            type: "button",
            id: "stop-experiment",
            onclick: async () => {
              try {
                await post(`/experiments/${encodeURIComponent(chosen.name)}/stop`);
                notify(`Experiment ${chosen.name} stopped: every reader sees the defaults again.`);
                await renderExperiments(box);
              } catch (error) {
                fail(error, "stop the experiment");
              }
            },
          },
          "Stop the experiment",
        )
      : null;
  set(
    box,
    h("h3", {}, `${chosen.name} (${chosen.state})`),
    h("p", { class: `verdict ${report.verdict.state}`, id: "experiment-verdict" }, report.verdict.text),
    intervalChart(report.variants),
    variantsTable(report),
    plan(report),
    report.sections.length ? sectionsTable(report) : null,
    stop,
  );
}
