// Glimpse REST API client. Every JSON field name the page depends on is read here, in the
// adapter functions below, so a renamed field is a one-line change.
"use strict";

(function () {
  const base = "api/v1/";

  // APIError carries the server's {"error":{"code","message"}}.
  class APIError extends Error {
    constructor(status, code, message) {
      super(message || code || "HTTP " + status);
      this.status = status;
      this.code = code || "";
    }
  }

  // --- adapters: raw JSON -> the shapes app.js uses ----------------------------------------

  function num(v) {
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  // imageHit adapts one image result (web.ImageHit).
  function imageHit(r) {
    const id = r.id;
    return {
      id: id,
      score: num(r.score), // p_match when reranked, else the ITC similarity
      pMatch: num(r.p_match), // ITM match probability, null when not reranked
      itc: num(r.itc),
      width: num(r.width),
      height: num(r.height),
      name: r.name || "#" + id,
      captured: r.captured || null,
      thumb: r.thumb_url || thumbURL(id),
      image: r.image_url || imageURL(id),
    };
  }

  // textHit adapts one indexed-text result (web.TextHit).
  function textHit(r) {
    return {
      id: r.id,
      text: r.text || "",
      source: r.source ? String(r.source) : "", // an id, or file:line with the file's base name (the server cuts paths)
      score: num(r.score),
      pMatch: num(r.p_match),
      itc: num(r.itc),
    };
  }

  // page adapts a search answer (web.Page plus hits adapted by hitFn). noMatch is the
  // server's no_confident_match: the threshold case only (candidates were reranked and none
  // reached min_score); an empty index or filters that leave nothing give a plain reason.
  function page(r, hitFn) {
    const reason = r.reason || "";
    const noMatch = r.no_confident_match === true;
    return {
      hits: (r.hits || []).map(hitFn),
      total: num(r.total) ?? 0,
      offset: num(r.offset) ?? 0,
      limit: num(r.limit) ?? 0,
      reranked: num(r.reranked) ?? 0,
      minScore: num(r.min_score),
      noMatch: noMatch,
      reason: reason,
      note: r.note || "", // how results were ranked when not as asked (no ITM head)
      warnings: r.warnings || [],
      timings: r.timings_ms || {},
    };
  }

  // meta adapts GET /images/{id}/meta (web.ImageMeta) into [label, value] rows.
  function meta(r) {
    const rows = [];
    const add = (label, v) => {
      if (v !== undefined && v !== null && v !== "") rows.push([label, String(v)]);
    };
    add("Name", r.name);
    add("Folder", r.folder);
    add("Captured", when(r.captured));
    if (r.width && r.height) add("Size", r.width + " \u00d7 " + r.height + " px");
    add("Format", r.format ? r.format.toUpperCase() : "");
    add("File", typeof r.size === "number" ? bytes(r.size) : "");
    add("Modified", when(r.modified));
    add("Indexed", when(r.added));
    add("SHA-256", r.sha256 ? r.sha256.slice(0, 16) + "\u2026" : "");
    if (r.available === false) add("Original", "missing or changed since indexing");
    return rows;
  }

  function when(v) {
    if (!v) return "";
    const d = new Date(v);
    return isNaN(d) ? String(v) : d.toLocaleString();
  }

  function bytes(n) {
    if (n < 1024) return n + " B";
    const units = ["KiB", "MiB", "GiB"];
    let i = -1;
    do {
      n /= 1024;
      i++;
    } while (n >= 1024 && i < units.length - 1);
    return n.toFixed(n < 10 ? 1 : 0) + " " + units[i];
  }

  // folders adapts GET /folders (web.Folders) into {value, label} options.
  function folders(r) {
    return (r.folders || []).map((f) => ({
      value: f.prefix,
      label: (f.name || f.prefix) + (typeof f.count === "number" ? " (" + f.count + ")" : ""),
    }));
  }

  // --- requests ----------------------------------------------------------------------------

  function thumbURL(id) {
    return base + "thumbs/" + encodeURIComponent(id);
  }
  function imageURL(id) {
    return base + "images/" + encodeURIComponent(id);
  }
  function explainURL(id, q) {
    return base + "explain?" + new URLSearchParams({ id: String(id), q: q });
  }

  function query(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
    }
    return u.toString();
  }

  const sleep = (ms, signal) => new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener("abort", () => {
      clearTimeout(t);
      reject(new DOMException("aborted", "AbortError"));
    }, { once: true });
  });

  // call fetches JSON; a rate-limited request (429) waits Retry-After (at most 10 s) and tries
  // again, twice at most.
  async function call(url, init) {
    init = Object.assign({ headers: { Accept: "application/json" } }, init);
    let resp;
    for (let attempt = 0; ; attempt++) {
      resp = await fetch(url, init);
      if (resp.status !== 429 || attempt === 2 || init.body instanceof ReadableStream) break;
      const secs = Number(resp.headers.get("Retry-After")) || 1;
      if (secs > 10) break;
      await sleep(secs * 1000, init.signal);
    }
    let body = null;
    const text = await resp.text();
    if (text) {
      try {
        body = JSON.parse(text);
      } catch (e) {
        if (resp.ok) throw new APIError(resp.status, "bad_json", "The server sent an unreadable answer.");
      }
    }
    if (!resp.ok) {
      const e = (body && body.error) || {};
      throw new APIError(resp.status, e.code, e.message || text.trim() || resp.statusText);
    }
    return body;
  }

  // searchText: text -> images. params: q, limit, offset, k, min_score, from, to, folder.
  async function searchText(params, signal) {
    return page(await call(base + "search?" + query(params), { signal }), imageHit);
  }

  // searchImage: image -> images (target "images") or texts ("texts"). by is {file} or {id}.
  async function searchImage(by, target, params, signal) {
    const url = base + "search/image?" + query(Object.assign({ target: target }, params));
    let init;
    if (by.file) {
      const form = new FormData();
      form.append("image", by.file, by.file.name || "image");
      init = { method: "POST", body: form, signal };
    } else {
      init = {
        method: "POST",
        body: JSON.stringify({ id: by.id }),
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        signal,
      };
    }
    return page(await call(url, init), target === "texts" ? textHit : imageHit);
  }

  async function imageMeta(id) {
    return meta(await call(base + "images/" + encodeURIComponent(id) + "/meta"));
  }

  async function listFolders() {
    return folders(await call(base + "folders"));
  }

  // model is the model the server runs, from GET readyz (which names it when it answers 503
  // too), or null.
  async function model() {
    const resp = await fetch("readyz", { headers: { Accept: "application/json" } });
    const r = await resp.json();
    const m = r && r.model;
    if (!m || !m.name) return null;
    return { name: String(m.name), family: String(m.family || ""), precision: String(m.precision || ""), rerank: !!m.rerank };
  }

  window.GlimpseAPI = {
    APIError, searchText, searchImage, imageMeta, listFolders, thumbURL, imageURL, explainURL, model,
  };
})();
