/* related-articles embed: renders the related list into <div data-related-article="ID"></div>.
   Load it with <script src="https://SERVICE/embed.js" async></script>. No dependencies, no
   cookies: a random visitor id in localStorage (or data-visitor) picks an experiment's variant.
   It asks when a box comes into view, gives up silently after data-timeout ms, and leaves the
   box as it was on any failure. Options (data- attributes on the box, or on the script tag for
   every box): k, section, fill, images, heading, heading-level, visitor, timeout, api, style. */
(function () {
  "use strict";
  if (!window.fetch || !window.URLSearchParams) return; // a very old browser: leave the page be
  var script = document.currentScript;
  var defaults = (script && script.dataset) || {};
  var scriptBase = script ? script.src.replace(/\/embed\.js(?:[?#].*)?$/, "") : "";
  var FIELDS = "title,url,section,published";
  var VISITOR_KEY = "related-articles-visitor";
  var STYLE_ID = "related-articles-style";
  var CSS =
    ":where(.ra-box){font:var(--ra-font,inherit);color:var(--ra-color,inherit);" +
    "margin:var(--ra-margin,1.5em 0)}" +
    ":where(.ra-heading){font-size:var(--ra-heading-size,1.15em);margin:0 0 .5em}" +
    ":where(.ra-list){list-style:none;margin:0;padding:0;display:grid;gap:var(--ra-gap,.6em)}" +
    ":where(.ra-item){display:flex;flex-direction:column;gap:.15em;" +
    "border-top:var(--ra-border,1px solid rgba(0,0,0,.12));padding-top:var(--ra-gap,.6em)}" +
    ":where(.ra-link){color:var(--ra-link-color,inherit);text-decoration:none;display:flex;" +
    "gap:.75em;align-items:flex-start}" +
    ":where(.ra-link):hover .ra-title,:where(.ra-link):focus .ra-title{text-decoration:underline}" +
    ":where(.ra-link):focus-visible{outline:2px solid var(--ra-focus-color,currentColor);" +
    "outline-offset:2px}" +
    ":where(.ra-title){font-weight:var(--ra-title-weight,600)}" +
    ":where(.ra-image){width:var(--ra-image-size,5em);height:auto;flex:none;" +
    "border-radius:var(--ra-radius,4px)}" +
    ":where(.ra-meta){font-size:.85em;color:var(--ra-meta-color,rgba(0,0,0,.6))}";
  var queue = [];
  var flushTimer = 0;
  var counter = 0;

  function option(box, name, fallback) {
    var value = box.dataset[name];
    if (value === undefined || value === "") value = defaults[name];
    return value === undefined || value === "" ? fallback : value;
  }

  function apiBase(box) {
    return String(option(box, "api", scriptBase)).replace(/\/+$/, "");
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] + 256).toString(16).slice(1);
    return out;
  }

  var pageVisitor = null;
  function visitor(box) {
    var given = option(box, "visitor", "");
    if (given) return String(given).slice(0, 64);
    if (pageVisitor) return pageVisitor;
    try {
      pageVisitor = window.localStorage.getItem(VISITOR_KEY);
      if (!pageVisitor) {
        pageVisitor = randomId();
        window.localStorage.setItem(VISITOR_KEY, pageVisitor);
      }
    } catch (e) {
      pageVisitor = pageVisitor || randomId(); // storage refused: one id for this page view
    }
    return pageVisitor;
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value, document.baseURI);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text; // text only: nothing from the answer is parsed as HTML
    return node;
  }

  function send() {
    flushTimer = 0;
    var batches = {};
    while (queue.length) {
      var item = queue.shift();
      (batches[item.base] = batches[item.base] || []).push(item.event);
    }
    Object.keys(batches).forEach(function (target) {
      var events = batches[target];
      for (var i = 0; i < events.length; i += 100) {
        var body = JSON.stringify({ events: events.slice(i, i + 100) });
        var url = target + "/events";
        try {
          if (navigator.sendBeacon && navigator.sendBeacon(url, body)) continue;
          fetch(url, { method: "POST", body: body, keepalive: true, mode: "no-cors",
                       credentials: "omit" })["catch"](function () {});
        } catch (e) { /* measuring must never break the page */ }
      }
    });
  }

  function record(base, event, now) {
    queue.push({ base: base, event: event });
    if (now) return send();
    if (!flushTimer) flushTimer = setTimeout(send, 1000);
  }

  function render(box, answer, settings) {
    var related = (answer && answer.related) || [];
    if (!related.length) return false;
    var id = "ra-heading-" + ++counter;
    var aside = el("aside", "ra-box");
    aside.setAttribute("aria-labelledby", id);
    var level = Math.min(6, Math.max(1, parseInt(option(box, "headingLevel", "2"), 10) || 2));
    var heading = el("h" + level, "ra-heading", option(box, "heading", "Related articles"));
    heading.id = id;
    var list = el("ul", "ra-list");
    related.forEach(function (item, position) {
      var href = safeUrl(item.url);
      if (!href || !item.title) return;
      var li = el("li", "ra-item");
      var link = el("a", "ra-link");
      link.href = href;
      link.setAttribute("data-related-id", item.id);
      link.setAttribute("data-position", String(position));
      var image = settings.images && safeUrl(item.image);
      if (image) {
        var img = el("img", "ra-image");
        img.src = image;
        img.alt = "";
        img.loading = "lazy";
        link.appendChild(img);
      }
      link.appendChild(el("span", "ra-title", item.title));
      li.appendChild(link);
      var meta = [item.section, (item.published || "").slice(0, 10)].filter(Boolean).join(" · ");
      if (meta) li.appendChild(el("span", "ra-meta", meta));
      list.appendChild(li);
    });
    if (!list.children.length) return false;
    aside.appendChild(heading);
    aside.appendChild(list);
    if (option(box, "style", "default") !== "none" && !document.getElementById(STYLE_ID)) {
      var style = el("style", "", CSS);
      style.id = STYLE_ID;
      (document.head || document.documentElement).appendChild(style);
    }
    box.textContent = "";
    box.appendChild(aside);
    box.classList.add("ra-root");
    box.setAttribute("data-recommendation-id", answer.recommendation_id || "");
    box.setAttribute("data-variant", answer.variant || "defaults");
    track(box, aside, answer, settings);
    return true;
  }

  function track(box, aside, answer, settings) {
    var common = {
      recommendation_id: answer.recommendation_id,
      article: settings.article,
      variant: answer.variant || "defaults",
      visitor: settings.visitor
    };
    function event(type, more) {
      var out = { type: type };
      for (var key in common) if (common[key] !== undefined) out[key] = common[key];
      for (key in more) out[key] = more[key];
      return out;
    }
    function clicked(e) {
      var link = e.target && e.target.closest && e.target.closest("a.ra-link");
      if (!link || (e.type === "auxclick" && e.button !== 1)) return;
      record(settings.base, event("click", {
        target: link.getAttribute("data-related-id"),
        position: parseInt(link.getAttribute("data-position"), 10)
      }), true);
    }
    aside.addEventListener("click", clicked);
    aside.addEventListener("auxclick", clicked);
    var seen = function () { record(settings.base, event("impression", {}), false); };
    if (!("IntersectionObserver" in window)) return seen();
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        observer.disconnect();
        seen();
      }
    }, { threshold: 0.5 });
    observer.observe(aside);
  }

  // An empty data-related-article: the id from the page's canonical URL, made as the site
  // ingestion makes it (service.ingest.page.id_from_url): the path without its slashes, .html
  // or /index; data-id-from="slug" keeps the last segment.
  function canonicalId(box) {
    var link = document.querySelector('link[rel="canonical"]');
    var og = document.querySelector('meta[property="og:url"]');
    var href = (link && link.href) || (og && og.getAttribute("content")) || location.href;
    var path;
    try { path = new URL(href, location.href).pathname; } catch (e) { return ""; }
    path = path.replace(/^\/+|\/+$/g, "").replace(/\.html?$/i, "").replace(/\/+$/, "");
    path = path.replace(/\/index$/, "");
    if (option(box, "idFrom", "url") === "slug") path = path.split("/").pop();
    return path;
  }

  function load(box) {
    var article = box.getAttribute("data-related-article") || canonicalId(box);
    if (!article || box.getAttribute("data-related-state")) return;
    box.setAttribute("data-related-state", "loading");
    var settings = {
      article: article,
      base: apiBase(box),
      visitor: visitor(box),
      images: /^(1|true|yes|on)$/i.test(option(box, "images", ""))
    };
    var params = new URLSearchParams();
    ["k", "section", "fill"].forEach(function (name) {
      var value = option(box, name, "");
      if (value) params.set(name, value);
    });
    params.set("fields", settings.images ? FIELDS + ",image" : FIELDS);
    params.set("visitor", settings.visitor);
    var url = settings.base + "/articles/" + encodeURIComponent(article) + "/related?" + params;
    var timeout = parseInt(option(box, "timeout", "3000"), 10) || 3000;
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, timeout);
    var done = function (state) {
      clearTimeout(timer);
      box.setAttribute("data-related-state", state);
      box.dispatchEvent(new CustomEvent("related:" + state, { bubbles: true }));
    };
    fetch(url, { credentials: "omit", mode: "cors", signal: controller && controller.signal })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!controller || !controller.signal.aborted) {
          done(answer && render(box, answer, settings) ? "rendered" : "empty");
        }
      })
      ["catch"](function () { done("failed"); }); // slow or down: the page stays as it was
  }

  function start() {
    var boxes = document.querySelectorAll("[data-related-article]");
    if (!("IntersectionObserver" in window)) {
      Array.prototype.forEach.call(boxes, load);
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          load(entry.target);
        }
      });
    }, { rootMargin: "200px 0px" });
    Array.prototype.forEach.call(boxes, function (box) { observer.observe(box); });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && queue.length) send();
  });
  window.addEventListener("pagehide", function () { if (queue.length) send(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
