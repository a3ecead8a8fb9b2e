// Glimpse web interface: search by text or image, filters, infinite scroll, detail dialog.
// The API client and every JSON field name live in api.js.
"use strict";

(function () {
  const API = window.GlimpseAPI;
  const PAGE = 24; // results per request
  const WEAK = 8; // low-scoring candidates shown under "no confident match"

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("search"), q: $("q"), from: $("from"), to: $("to"), folder: $("folder"),
    filters: $("filters"), filterCount: $("filter-count"), clearFilters: $("clear-filters"),
    drop: $("drop"), file: $("file"), status: $("status"), error: $("error"),
    noMatch: $("no-match"), noMatchReason: $("no-match-reason"), weakIntro: $("weak-intro"),
    notes: $("notes"), grid: $("grid"), weak: $("weak"), texts: $("texts"), more: $("more"), timings: $("timings"),
    queryImage: $("query-image"), queryThumb: $("query-thumb"), queryLabel: $("query-label"),
    dialog: $("detail"), dTitle: $("detail-title"), dClose: $("detail-close"), dImage: $("detail-image"),
    dScore: $("detail-score"), explain: $("explain"), explainImage: $("explain-image"),
    explainCaption: $("explain-caption"), meta: $("meta"), likeImages: $("like-images"),
    likeTexts: $("like-texts"), openOriginal: $("open-original"), modelInfo: $("model-info"),
  };

  // The current search. kind: "text" (q), "image" (by {file} or {id}, target images|texts).
  const S = {
    kind: null, q: "", by: null, target: "images", filters: { from: "", to: "", folder: "" },
    hits: [], total: 0, done: true, loading: false, gen: 0, ctrl: null, upload: null, objectURL: null,
    weakHits: [], detail: null, opener: null, // the hit in the dialog, and the card that opened it
  };

  // --- URL state: ?q=&from=&to=&folder= or ?like=ID&target= ----------------------------------

  function readURL() {
    const u = new URLSearchParams(location.search);
    return {
      q: (u.get("q") || "").trim(),
      like: u.get("like") || "",
      target: u.get("target") === "texts" ? "texts" : "images",
      from: u.get("from") || "", to: u.get("to") || "", folder: u.get("folder") || "",
      upload: history.state && history.state.upload === true,
    };
  }

  function writeURL(push) {
    const u = new URLSearchParams();
    if (S.kind === "text") u.set("q", S.q);
    if (S.kind === "image" && S.by && S.by.id !== undefined) {
      u.set("like", String(S.by.id));
      u.set("target", S.target);
    }
    for (const k of ["from", "to", "folder"]) if (S.filters[k]) u.set(k, S.filters[k]);
    const qs = u.toString();
    const url = location.pathname + (qs ? "?" + qs : "");
    const state = { upload: S.kind === "image" && !!(S.by && S.by.file) };
    if (url === location.pathname + location.search && !state.upload) return;
    if (push) history.pushState(state, "", url);
    else history.replaceState(state, "", url);
  }

  function applyURL() {
    const r = readURL();
    el.from.value = r.from;
    el.to.value = r.to;
    setFolder(r.folder);
    S.filters = { from: r.from, to: r.to, folder: r.folder };
    showFilterCount();
    if (r.q) {
      el.q.value = r.q;
      startText(r.q, false);
    } else if (r.like) {
      el.q.value = "";
      startImage({ id: likeID(r.like) }, r.target, false);
    } else if (r.upload && S.upload) {
      startImage({ file: S.upload }, r.target, false);
    } else {
      el.q.value = "";
      S.kind = null;
      reset();
      el.queryImage.hidden = true;
      document.title = "Glimpse";
      setStatus("Describe a photo, or drop one here to search by image.");
    }
  }

  function likeID(s) {
    return /^\d+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : s;
  }

  // --- searching -----------------------------------------------------------------------------

  function startText(q, push) {
    S.kind = "text";
    S.q = q;
    S.by = null;
    writeURL(push);
    document.title = q + " - Glimpse";
    el.queryImage.hidden = true;
    run();
  }

  function startImage(by, target, push) {
    S.kind = "image";
    S.by = by;
    S.target = target;
    S.q = "";
    el.q.value = "";
    if (by.file) S.upload = by.file;
    writeURL(push);
    document.title = "Search by image - Glimpse";
    for (const r of document.querySelectorAll('input[name="target"]')) r.checked = r.value === target;
    el.queryImage.hidden = false;
    if (S.objectURL) URL.revokeObjectURL(S.objectURL);
    S.objectURL = by.file ? URL.createObjectURL(by.file) : null;
    el.queryThumb.src = S.objectURL || API.thumbURL(by.id);
    el.queryLabel.textContent = (target === "texts" ? "Texts matching " : "Images similar to ") +
      (by.file ? by.file.name || "your image" : by.name || "photo #" + by.id);
    run();
  }

  function reset() {
    if (S.ctrl) S.ctrl.abort();
    S.gen++;
    S.hits = [];
    S.total = 0;
    S.done = true;
    S.loading = false;
    el.grid.replaceChildren();
    el.weak.replaceChildren();
    el.texts.replaceChildren();
    el.weak.hidden = true;
    el.texts.hidden = true;
    el.noMatch.hidden = true;
    el.weakIntro.hidden = true;
    el.error.hidden = true;
    el.notes.hidden = true;
    el.timings.textContent = "";
    document.body.classList.remove("busy");
  }

  function run() {
    reset();
    S.done = false;
    setStatus("Searching\u2026");
    loadMore();
  }

  function params(offset, limit) {
    return Object.assign({ limit: limit, offset: offset }, S.filters);
  }

  function fetchPage(offset, limit, extra, signal) {
    const p = Object.assign(params(offset, limit), extra || {});
    if (S.kind === "text") return API.searchText(Object.assign({ q: S.q }, p), signal);
    return API.searchImage(S.by, S.target, p, signal);
  }

  async function loadMore() {
    if (S.loading || S.done || !S.kind) return;
    S.loading = true;
    document.body.classList.add("busy");
    const gen = S.gen;
    const ctrl = (S.ctrl = new AbortController());
    try {
      const pg = await fetchPage(S.hits.length, PAGE, null, ctrl.signal);
      if (gen !== S.gen) return;
      await render(pg, gen);
    } catch (e) {
      if (gen !== S.gen || e.name === "AbortError") return;
      S.done = true;
      showError(e);
    } finally {
      if (gen === S.gen) {
        S.loading = false;
        document.body.classList.remove("busy");
        // Re-observing fires the observer at once if the sentinel is still in view.
        observer.unobserve(el.more);
        if (!S.done) observer.observe(el.more);
      }
    }
  }

  async function render(pg, gen) {
    const first = S.hits.length === 0;
    const start = S.hits.length;
    S.hits.push(...pg.hits);
    S.total = pg.total;
    S.done = pg.hits.length === 0 || S.hits.length >= pg.total;
    if (S.kind === "image" && S.target === "texts") appendTexts(pg.hits, start);
    else appendCards(el.grid, pg.hits, start, false);
    showTimings(pg);
    const notes = [pg.note, ...pg.warnings].filter(Boolean).map(capital);
    if (notes.length) {
      el.notes.textContent = notes.join(" ");
      el.notes.hidden = false;
    }
    if (!first) {
      setStatus(countText());
      return;
    }
    if (pg.hits.length > 0) {
      setStatus(countText());
      return;
    }
    if (!pg.noMatch) {
      setStatus(pg.reason ? capital(pg.reason) + "." : "Nothing found.");
      return;
    }
    // No confident match: say so, then show the best candidates greyed out.
    el.noMatch.hidden = false;
    el.noMatchReason.textContent = capital(pg.reason) + ".";
    setStatus("No confident match" + (S.kind === "text" ? " for \u201c" + S.q + "\u201d." : "."));
    let weak = [];
    try {
      weak = (await fetchPage(0, WEAK, { min_score: 0 })).hits; // the same query without a threshold
    } catch (e) {
      // the message above stands alone
    }
    if (gen !== S.gen || weak.length === 0) return;
    S.weakHits = weak.slice(0, WEAK);
    el.weakIntro.hidden = false;
    if (S.kind === "image" && S.target === "texts") {
      appendTexts(S.weakHits, 0, true);
    } else {
      el.weak.hidden = false;
      appendCards(el.weak, S.weakHits, 0, true);
    }
  }

  function countText() {
    const n = S.total;
    const what = S.kind === "image" && S.target === "texts" ? "text" : "photo";
    let s = n + " matching " + what + (n === 1 ? "" : "s");
    if (S.kind === "text") s += " for \u201c" + S.q + "\u201d";
    if (S.hits.length < n) s += ", showing " + S.hits.length;
    return s + ".";
  }

  // --- rendering -----------------------------------------------------------------------------

  function scoreText(h) {
    if (h.pMatch !== null) return Math.round(h.pMatch * 100) + "%";
    if (h.score !== null) return h.score.toFixed(2);
    return "";
  }

  function scoreLabel(h) {
    if (h.pMatch !== null) return "match probability " + h.pMatch.toFixed(3);
    if (h.score !== null) return "similarity " + h.score.toFixed(3);
    return "";
  }

  function appendCards(list, hits, start, weak) {
    const frag = document.createDocumentFragment();
    hits.forEach((h, i) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "card";
      b.dataset.index = String(start + i);
      if (weak) b.dataset.weak = "1";
      b.setAttribute("aria-label", h.name + ", " + scoreLabel(h));
      const img = document.createElement("img");
      img.src = h.thumb;
      img.alt = "";
      img.loading = "lazy";
      img.decoding = "async";
      if (h.width && h.height) {
        img.width = h.width;
        img.height = h.height;
      }
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = scoreText(h);
      score.title = scoreLabel(h);
      if (h.pMatch !== null) score.style.setProperty("--p", String(h.pMatch));
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = h.name;
      b.append(img, score, name);
      li.append(b);
      frag.append(li);
    });
    list.append(frag);
  }

  function appendTexts(hits, start, weak) {
    el.texts.hidden = false;
    el.texts.classList.toggle("weak", !!weak);
    const frag = document.createDocumentFragment();
    hits.forEach((h) => {
      const li = document.createElement("li");
      const s = document.createElement("span");
      s.className = "score";
      s.textContent = scoreText(h);
      s.title = scoreLabel(h);
      const b = document.createElement("button");
      b.type = "button";
      b.className = "text-hit";
      b.textContent = h.text;
      b.title = "Search images for this text";
      b.addEventListener("click", () => {
        el.q.value = h.text;
        startText(h.text, true);
        el.q.focus();
      });
      li.append(s, b);
      if (h.source) {
        const src = document.createElement("span");
        src.className = "source";
        src.textContent = h.source;
        li.append(src);
      }
      frag.append(li);
    });
    el.texts.append(frag);
  }

  function showTimings(pg) {
    const t = pg.timings || {};
    const parts = [];
    for (const [k, v] of Object.entries(t)) {
      if (k !== "total" && typeof v === "number" && v >= 0.05) parts.push(k.replace(/_/g, " ") + " " + v.toFixed(1));
    }
    if (typeof t.total === "number") {
      el.timings.textContent = "Last page in " + t.total.toFixed(1) + " ms" + (parts.length ? " (" + parts.join(", ") + ")" : "");
    }
  }

  function setStatus(s) {
    el.status.textContent = s;
  }

  function showError(e) {
    el.error.hidden = false;
    el.error.textContent = e.message || String(e);
    setStatus("The search failed.");
  }

  function capital(s) {
    return s ? s[0].toUpperCase() + s.slice(1) : s;
  }

  // --- detail dialog ---------------------------------------------------------------------------

  function openDetail(h, opener) {
    S.opener = opener;
    S.detail = h;
    el.dTitle.textContent = h.name;
    el.dImage.src = h.image;
    el.dImage.alt = h.name;
    el.dScore.textContent = capital(scoreLabel(h)) + (h.itc !== null && h.pMatch !== null ? ", ITC similarity " + h.itc.toFixed(3) : "");
    el.openOriginal.href = h.image;
    if (S.kind === "text" && S.q) {
      el.explain.hidden = false;
      el.explainImage.removeAttribute("src");
      el.explainImage.alt = "Heat map of where the model looked for \u201c" + S.q + "\u201d";
      el.explainCaption.textContent = "Where the model looked for \u201c" + S.q + "\u201d";
      el.explainImage.src = API.explainURL(h.id, S.q);
    } else {
      el.explain.hidden = true;
      el.explainImage.removeAttribute("src");
    }
    el.meta.replaceChildren();
    el.meta.setAttribute("aria-busy", "true");
    API.imageMeta(h.id).then((rows) => {
      if (S.detail !== h) return;
      for (const [k, v] of rows) {
        const dt = document.createElement("dt");
        dt.textContent = k;
        const dd = document.createElement("dd");
        dd.textContent = v;
        el.meta.append(dt, dd);
      }
    }).catch((e) => {
      if (S.detail !== h) return;
      const dd = document.createElement("dd");
      dd.textContent = "Metadata unavailable: " + e.message;
      el.meta.append(dd);
    }).finally(() => el.meta.removeAttribute("aria-busy"));
    el.dialog.showModal();
    el.dClose.focus();
  }

  function closeDetail() {
    if (el.dialog.open) el.dialog.close();
  }

  el.dialog.addEventListener("close", () => {
    S.detail = null;
    if (S.opener && document.contains(S.opener)) S.opener.focus();
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  el.dialog.addEventListener("click", (ev) => {
    if (ev.target !== el.dialog) return;
    const r = el.dialog.getBoundingClientRect();
    if (ev.clientX < r.left || ev.clientX > r.right || ev.clientY < r.top || ev.clientY > r.bottom) closeDetail();
  });
  el.dClose.addEventListener("click", closeDetail);
  el.likeImages.addEventListener("click", () => like("images"));
  el.likeTexts.addEventListener("click", () => like("texts"));

  function like(target) {
    const h = S.detail;
    closeDetail();
    if (!h) return;
    startImage({ id: h.id, name: h.name }, target, true);
    $("results-heading").focus(); // the card that opened the dialog is gone
  }

  function onCardClick(ev) {
    const b = ev.target.closest("button.card");
    if (!b) return;
    const i = Number(b.dataset.index);
    const h = b.dataset.weak ? S.weakHits[i] : S.hits[i];
    if (h) openDetail(h, b);
  }
  el.grid.addEventListener("click", onCardClick);
  el.weak.addEventListener("click", onCardClick);

  // --- search box, filters, image input --------------------------------------------------------

  el.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = el.q.value.trim();
    if (!q) {
      setStatus("Type what you are looking for first.");
      el.q.focus();
      return;
    }
    startText(q, !(S.kind === "text" && S.q === q));
  });

  function onFilter() {
    S.filters = { from: el.from.value, to: el.to.value, folder: el.folder.value };
    showFilterCount();
    if (S.kind === "text" || (S.kind === "image" && S.target === "images")) {
      writeURL(false);
      run();
    }
  }
  for (const f of [el.from, el.to, el.folder]) f.addEventListener("change", onFilter);
  el.clearFilters.addEventListener("click", () => {
    el.from.value = "";
    el.to.value = "";
    el.folder.value = "";
    onFilter();
  });

  function showFilterCount() {
    const n = ["from", "to", "folder"].filter((k) => S.filters[k]).length;
    el.filterCount.hidden = n === 0;
    el.filterCount.textContent = n ? n + " active" : "";
    if (n) el.filters.open = true;
  }

  function setFolder(v) {
    if (v && ![...el.folder.options].some((o) => o.value === v)) el.folder.append(new Option(v, v));
    el.folder.value = v;
  }

  function target() {
    const r = document.querySelector('input[name="target"]:checked');
    return r ? r.value : "images";
  }

  function searchFile(file) {
    if (!file) return;
    if (file.type && !file.type.startsWith("image/")) {
      showError(new Error(file.name + " is not an image."));
      return;
    }
    startImage({ file: file }, target(), true);
  }

  el.file.addEventListener("change", () => {
    searchFile(el.file.files[0]);
    el.file.value = ""; // choosing the same file again searches again
  });
  for (const r of document.querySelectorAll('input[name="target"]')) {
    r.addEventListener("change", () => {
      if (S.kind === "image") startImage(S.by, target(), !S.by.file);
    });
  }

  // Drag and drop anywhere on the page.
  let dragDepth = 0;
  document.addEventListener("dragenter", (ev) => {
    if (!hasFiles(ev)) return;
    dragDepth++;
    el.drop.classList.add("over");
  });
  document.addEventListener("dragleave", () => {
    if (--dragDepth <= 0) {
      dragDepth = 0;
      el.drop.classList.remove("over");
    }
  });
  document.addEventListener("dragover", (ev) => {
    if (hasFiles(ev)) ev.preventDefault();
  });
  document.addEventListener("drop", (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    dragDepth = 0;
    el.drop.classList.remove("over");
    searchFile(ev.dataTransfer.files[0]);
  });

  function hasFiles(ev) {
    return ev.dataTransfer && [...ev.dataTransfer.types].includes("Files");
  }

  // --- infinite scroll, history, start-up ------------------------------------------------------

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  }, { rootMargin: "600px 0px" });

  window.addEventListener("popstate", () => {
    closeDetail();
    applyURL();
  });

  API.listFolders().then((list) => {
    const cur = el.folder.value;
    for (const f of list) {
      const o = [...el.folder.options].find((o) => o.value === f.value);
      if (o) o.textContent = f.label;
      else el.folder.append(new Option(f.label, f.value));
    }
    el.folder.value = cur;
  }).catch(() => {}); // the folder filter keeps "All folders" (and a folder from the URL)

  API.model().then((m) => {
    if (!m) return;
    const how = m.rerank ? "reranked by its matching head" : "embeddings only";
    el.modelInfo.textContent = "Model: " + m.name + " (" + [m.family, m.precision, how].filter(Boolean).join(", ") + ")";
  }).catch(() => {}); // the footer stays empty

  applyURL();
})();
