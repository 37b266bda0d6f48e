// Building the page from data: elements with text (never HTML strings), dates and numbers.

const SVG = "http://www.w3.org/2000/svg";

function fill(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.setAttribute("class", value);
    else if (name === "text") el.textContent = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An HTML element: h("a", {href: "/x", class: "y"}, "text", otherNode). */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG, tag), attrs, children);
}

/** Replace the children of `el` (null, undefined and false are left out). */
export function set(el, ...children) {
  el.replaceChildren();
  return fill(el, {}, children);
}

/** "2026-03-02" from a date or datetime; the full value stays in a tooltip. */
export function day(published) {
  if (!published) return null;
  return h("time", { datetime: published, title: published }, String(published).slice(0, 10));
}

export function fixed(value, digits = 3) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

export function plural(n, one, many = one + "s") {
  return `${n} ${n === 1 ? one : many}`;
}

/** Parts joined by " · ", leaving out the empty ones. */
export function dotted(...parts) {
  const kept = parts.filter((p) => p !== null && p !== undefined && p !== "" && p !== false);
  const out = [];
  kept.forEach((part, i) => {
    if (i) out.push(" · ");
    out.push(part);
  });
  return out;
}

/** Only links a reader can follow safely: http and https addresses. */
export function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A section with a heading that focus can be moved to. */
export function section(id, heading, ...children) {
  return h(
    "section",
    { class: "panel", "aria-labelledby": id },
    h("h2", { id, tabindex: "-1" }, heading),
    ...children,
  );
}

export function empty(...children) {
  return h("p", { class: "empty" }, ...children);
}
