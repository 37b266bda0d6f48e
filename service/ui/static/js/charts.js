// Charts drawn as SVG from the numbers: no library. Lines differ by dash as well as colour,
// and every chart has a text alternative (the tables beside it hold the same figures).

import { h, s } from "./dom.js";

const COLOURS = ["#7a7a7a", "#b35806", "#542788", "#1b7837", "#2166ac", "#c51b7d", "#8c510a"];
const DASHES = ["2 3", "6 3", "1 2", "8 2 2 2", "4 4", null, "10 3"];
const W = 360;
const H = 230;
const PAD = { left: 38, right: 10, top: 12, bottom: 30 };

/** A line chart of `series` ({name: [y for x = 1..n]}), y from 0 to 1; `strong` is drawn bold. */
export function lineChart(title, series, { strong = "service", xLabel = "k" } = {}) {
  const names = Object.keys(series);
  const n = Math.max(...names.map((name) => series[name].length), 1);
  const x = (i) => PAD.left + ((W - PAD.left - PAD.right) * i) / Math.max(n - 1, 1);
  const y = (v) => H - PAD.bottom - (H - PAD.top - PAD.bottom) * Math.max(0, Math.min(1, v));
  const id = `chart-${title.replace(/\W+/g, "-").toLowerCase()}`;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((v) => [
    s("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "grid" }),
    s("text", { x: PAD.left - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, v.toFixed(2)),
  ]);
  const ticks = [1, 5, 10, 15, 20]
    .filter((k) => k <= n)
    .map((k) => s("text", { x: x(k - 1), y: H - PAD.bottom + 16, class: "tick", "text-anchor": "middle" }, String(k)));
  const lines = names.map((name, i) =>
    s("polyline", {
      points: series[name].map((v, j) => `${x(j).toFixed(1)},${y(v).toFixed(1)}`).join(" "),
      fill: "none",
      stroke: COLOURS[i % COLOURS.length],
      "stroke-width": name === strong ? 3 : 1.5,
      "stroke-dasharray": name === strong ? null : DASHES[i % DASHES.length],
    }),
  );
  const last = names.map((name) => `${name} ${(series[name][n - 1] ?? 0).toFixed(2)}`).join(", ");
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-t`, class: "chart" },
    s("title", { id: `${id}-t` }, `${title} for ${xLabel} = 1 to ${n}; at ${n}: ${last}`),
    grid,
    ticks,
    s("text", { x: (W + PAD.left) / 2, y: H - 2, class: "tick", "text-anchor": "middle" }, xLabel),
    lines,
  );
  const legend = h(
    "ul",
    { class: "legend", "aria-hidden": "true" },
    names.map((name, i) =>
      h(
        "li",
        {},
        s(
          "svg",
          { viewBox: "0 0 30 10", width: 30, height: 10 },
          s("line", {
            x1: 0, x2: 30, y1: 5, y2: 5,
            stroke: COLOURS[i % COLOURS.length],
            "stroke-width": name === strong ? 3 : 1.5,
            "stroke-dasharray": name === strong ? null : DASHES[i % DASHES.length],
          }),
        ),
        name,
      ),
    ),
  );
  return h("figure", { class: "chart-box" }, h("figcaption", {}, title), svg, legend);
}

/** A bar as wide as `value` (0..1), beside its number. */
export function bar(value, digits = 3) {
  const shown = typeof value === "number" ? value.toFixed(digits) : "–";
  const width = `${Math.round(Math.max(0, Math.min(1, value || 0)) * 100)}%`;
  const fillBar = h("span", { class: "bar-fill" });
  fillBar.style.width = width; // CSSOM, not an inline style attribute: allowed by the CSP
  return h("span", { class: "bar" }, h("span", { class: "bar-track", "aria-hidden": "true" }, fillBar), h("span", {}, shown));
}
