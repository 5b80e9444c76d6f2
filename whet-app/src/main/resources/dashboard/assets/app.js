// Whet dashboard: plain JavaScript, no framework, no build step, nothing fetched from elsewhere.
//
// Every piece of text that comes from the server is put in the page as text (textContent or a
// text node), never parsed as HTML. Pages are hash routes (#/jobs, #/jobs/ID, #/upload, #/new,
// #/models, #/login); each page gets an AbortSignal that fires when the user leaves it, so its
// timers, streams and fetches stop with it.
"use strict";

(() => {
  const KEY_STORAGE = "whet.apiKey";
  const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
  const CLASSIFY_TASKS = new Set(["classify", "multilabel", "pair"]);

  // ---------------------------------------------------------------------------------------------
  // DOM helpers: elements are built from tag, attributes and children; strings become text nodes.

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.firstChild.remove();
    return el;
  }

  /** Internal link to a route; the id is encoded so no server text can change the link's shape. */
  function routeHref(...parts) {
    return "#/" + parts.map(encodeURIComponent).join("/");
  }

  function fmtTime(unixSeconds) {
    if (unixSeconds === null || unixSeconds === undefined) return "—";
    return new Date(unixSeconds * 1000).toLocaleString();
  }

  function fmtRelative(unixSeconds) {
    if (unixSeconds === null || unixSeconds === undefined) return "—";
    const d = Math.round(unixSeconds - Date.now() / 1000);
    const abs = Math.abs(d);
    const span =
      abs < 90 ? abs + " s" : abs < 5400 ? Math.round(abs / 60) + " min" : (abs / 3600).toFixed(1) + " h";
    return (d >= 0 ? "in " : "") + span + (d < 0 ? " ago" : "") + " (" + fmtTime(unixSeconds) + ")";
  }

  function fmtNum(v) {
    if (typeof v !== "number" || !Number.isFinite(v)) return v === null || v === undefined ? "—" : String(v);
    if (Number.isInteger(v)) return v.toLocaleString("en-US");
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2).replace(/\.?0+e/, "e");
    return v.toPrecision(4).replace(/\.?0+$/, "");
  }

  // An interval's bounds: "0.810–0.840", or "-5.449 to -5.133" where a dash would read as a minus.
  function range(i) {
    return fixed(i.low) + (i.low < 0 || i.high < 0 ? " to " : "–") + fixed(i.high);
  }

  // Scores in a banner or table: always three decimals, so that they line up and compare.
  function fixed(v) {
    return typeof v === "number" && Number.isFinite(v) ? v.toFixed(3) : "—";
  }

  const ROLES = [["train", "training"], ["validation", "validation"], ["test", "test"]];
  const roleName = (r) => (ROLES.find(([v]) => v === r) || [r, r])[1];

  function fmtBytes(n) {
    if (typeof n !== "number") return "—";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  const METRIC_NAMES = { f1_macro: "macro F1", entity_f1: "entity F1", spearman: "Spearman", mrr: "MRR", loss: "validation loss", accuracy: "accuracy", token_accuracy: "token accuracy", perplexity: "perplexity" };
  const STAGES = [["queued", "Queued"], ["validating", "Checking data, loading the model"], ["training", "Training"], ["evaluating", "Evaluating baselines"], ["done", "Done"]];

  function plural(n, word) {
    return fmtNum(n) + " " + word + (n === 1 ? "" : "s");
  }

  function statusBadge(status) {
    return h("span", { class: "badge status-" + String(status).replace(/[^a-z_]/g, ""), text: status || "unknown" });
  }

  function flash(message, kind) {
    const el = document.getElementById("flash");
    clear(el);
    if (message) el.append(h("p", { class: "flash " + (kind || "info"), text: message }));
  }

  // Asks before something is destroyed, naming it; resolves true only on the destructive choice.
  function confirmDialog(message, action) {
    return new Promise((resolve) => {
      const yes = h("button", { type: "button", class: "danger", id: "confirm-yes", text: action });
      const no = h("button", { type: "button", id: "confirm-no", text: "Keep it" });
      const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-text" }, h("p", { id: "confirm-text", text: message }), h("div", { class: "actions" }, no, yes));
      const done = (answer) => {
        dialog.close();
        dialog.remove();
        resolve(answer);
      };
      yes.addEventListener("click", () => done(true));
      no.addEventListener("click", () => done(false));
      dialog.addEventListener("cancel", () => done(false));
      document.body.append(dialog);
      dialog.showModal();
      no.focus();
    });
  }

  // Saves an authenticated response as a file: links cannot carry the API key.
  async function download(path, filename, signal) {
    const res = await api(path, { signal, raw: true });
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: filename, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // ---------------------------------------------------------------------------------------------
  // API access: every call sends the stored key; failures become ApiFailure with the server's
  // OpenAI-shaped error message.

  class ApiFailure extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  function apiKey() {
    return localStorage.getItem(KEY_STORAGE);
  }

  async function api(path, options = {}) {
    const headers = { Authorization: "Bearer " + (options.key || apiKey() || "") };
    let body = options.body;
    if (body !== undefined && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, { method: options.method || (body ? "POST" : "GET"), headers, body, signal: options.signal });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new ApiFailure(0, "The server could not be reached (" + e.message + "). Is `whet serve` running?");
    }
    if (res.status === 401 && !options.key) {
      loggedOut("Your API key was not accepted (401). Paste a valid key to continue.");
    }
    const type = res.headers.get("Content-Type") || "";
    if (!res.ok) {
      let message = res.status + " " + res.statusText;
      let parsed = null;
      if (type.includes("json")) {
        parsed = await res.json().catch(() => null);
        if (parsed && parsed.error && parsed.error.message) message = parsed.error.message;
      }
      throw new ApiFailure(res.status, message, parsed);
    }
    if (options.raw) return res;
    return type.includes("json") ? res.json() : res.text();
  }

  /** All pages of an OpenAI list endpoint (bounded, so a huge project cannot hang the page). */
  async function listAll(path, signal, maxPages = 20) {
    const out = [];
    let after = null;
    for (let page = 0; page < maxPages; page++) {
      const sep = path.includes("?") ? "&" : "?";
      const list = await api(path + (after ? sep + "after=" + encodeURIComponent(after) : ""), { signal });
      out.push(...(list.data || []));
      if (!list.has_more || !list.data || list.data.length === 0) break;
      after = list.last_id || list.data[list.data.length - 1].id;
    }
    return out;
  }

  function errorBox(e) {
    return h("p", { class: "flash error", role: "alert", text: e.message || String(e) });
  }

  // ---------------------------------------------------------------------------------------------
  // Routing.

  let leave = null; // aborts the current page's work

  function parseRoute() {
    const raw = location.hash.replace(/^#\/?/, "");
    const [path, query] = raw.split("?");
    const decode = (p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p; // a hand-typed "%" is not an escape
      }
    };
    const parts = path.split("/").filter(Boolean).map(decode);
    return { parts, params: new URLSearchParams(query || "") };
  }

  let pendingRoute = null;

  function loggedOut(message) {
    localStorage.removeItem(KEY_STORAGE);
    if (!location.hash.startsWith("#/login")) pendingRoute = location.hash;
    flash(message, "error");
    location.hash = "#/login";
  }

  function route() {
    if (leave) leave.abort();
    leave = new AbortController();
    const signal = leave.signal;
    const { parts, params } = parseRoute();
    const main = clear(document.getElementById("main"));
    const loggedIn = !!apiKey();
    document.getElementById("logout").hidden = !loggedIn;
    let page = parts[0] || "jobs";
    if (!loggedIn && page !== "login") {
      pendingRoute = location.hash || "#/jobs";
      location.replace("#/login");
      return;
    }
    for (const a of document.querySelectorAll("[data-nav]")) {
      if (a.dataset.nav === page) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const pages = { login: loginPage, jobs: parts[1] ? jobPage : jobsPage, new: newJobPage, upload: uploadPage, models: modelsPage, compare: comparePage };
    const render = Object.hasOwn(pages, page) ? pages[page] : notFoundPage;
    render(main, { parts, params, signal });
    const heading = main.querySelector("h1");
    if (heading) document.title = heading.textContent + " · Whet";
    if (page !== "login" && document.activeElement && document.activeElement.tagName !== "INPUT") main.focus({ preventScroll: true });
  }

  function notFoundPage(main) {
    main.append(h("h1", { text: "Page not found" }), h("p", {}, h("a", { href: "#/jobs", text: "Back to jobs" })));
  }

  // ---------------------------------------------------------------------------------------------
  // Log in.

  function loginPage(main) {
    const input = h("input", { id: "api-key", type: "password", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "key-help" });
    const error = h("div", { id: "login-error", "aria-live": "assertive" });
    const button = h("button", { type: "submit", text: "Log in" });
    const form = h(
      "form",
      { class: "card narrow", id: "login-form" },
      h("label", { for: "api-key", text: "API key" }),
      input,
      h("p", { id: "key-help", class: "muted" }, "Create one on the server with ", h("code", { text: "whet keys create --name NAME" }), ". It is kept in this browser only."),
      button,
      error,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clear(error);
      const key = input.value.trim();
      if (!key) return;
      button.disabled = true;
      try {
        await api("/v1/fine_tuning/jobs?limit=1", { key });
        localStorage.setItem(KEY_STORAGE, key);
        flash("");
        const next = pendingRoute && !pendingRoute.startsWith("#/login") ? pendingRoute : "#/jobs";
        pendingRoute = null;
        location.hash = next;
      } catch (e) {
        const text = e.status === 401 ? "That key was not accepted (401): check it was copied whole and has not been revoked." : e.message;
        error.append(h("p", { class: "flash error", role: "alert", text }));
        input.focus();
      } finally {
        button.disabled = false;
      }
    });
    main.append(h("h1", { text: "Log in" }), form);
    input.focus();
  }

  // ---------------------------------------------------------------------------------------------
  // Jobs list.

  function jobsPage(main, { signal }) {
    const tbody = h("tbody");
    const status = h("p", { class: "muted" }); // not live: it changes every 3 s
    const table = h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "jobs-table" },
        h("caption", { class: "visually-hidden", text: "Fine-tuning jobs, newest first" }),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, h("span", { class: "visually-hidden", text: "Compare" })), ["Job", "Status", "Result", "Base model", "Fine-tuned model", "Created", "Finished"].map((t) => h("th", { scope: "col", text: t })))),
        tbody,
      ),
    );
    // Jobs ticked for comparison survive the list's redraws.
    const picked = new Set();
    const compare = h("button", { type: "button", class: "secondary", id: "compare-jobs", text: "Compare selected", disabled: true });
    compare.addEventListener("click", () => (location.hash = "#/compare?jobs=" + [...picked].map(encodeURIComponent).join(",")));
    const pickedChanged = () => {
      compare.disabled = picked.size < 2;
      compare.textContent = picked.size >= 2 ? "Compare " + picked.size + " jobs" : "Compare selected";
    };
    main.append(
      h("div", { class: "title-row" }, h("h1", { text: "Fine-tuning jobs" }), h("div", { class: "actions" }, compare, h("a", { class: "button", href: "#/new", text: "New job" }))),
      status,
      table,
    );

    let lastShown = null;
    async function refresh() {
      try {
        // The 100 most recent jobs: enough for a person, cheap to poll.
        const jobs = await listAll("/v1/fine_tuning/jobs?limit=100", signal, 1);
        // Redraw only when something changed, so keyboard focus on a link survives the refresh.
        const shown = JSON.stringify(jobs.map((j) => [j.id, j.status, j.fine_tuned_model, j.finished_at, headlineOf(j)]));
        if (shown === lastShown) {
          status.textContent = "Updated " + new Date().toLocaleTimeString() + " · refreshes every 3 s";
          if (!signal.aborted) setTimeout(refresh, 3000);
          return;
        }
        lastShown = shown;
        clear(tbody);
        if (jobs.length === 0) {
          tbody.append(h("tr", {}, h("td", { colspan: 8 }, "No jobs yet. ", h("a", { href: "#/upload", text: "Upload a dataset" }), ", then ", h("a", { href: "#/new", text: "start a job" }), ".")));
        }
        for (const j of jobs) {
          const tick = h("input", { type: "checkbox", class: "pick", "aria-label": "Compare " + jobName(j), checked: picked.has(j.id) });
          tick.addEventListener("change", () => {
            if (tick.checked) picked.add(j.id);
            else picked.delete(j.id);
            pickedChanged();
          });
          tbody.append(
            h(
              "tr",
              { "data-job": j.id },
              h("td", {}, tick),
              h("td", {}, h("a", { href: routeHref("jobs", j.id), text: jobName(j) }), h("div", { class: "muted small mono job-id", text: j.id })),
              h("td", {}, statusBadge(j.status), outcomeMark(j)),
              h("td", { class: "num", text: resultText(j) }),
              h("td", { text: j.model }),
              h("td", { class: "mono", text: j.fine_tuned_model || "—" }),
              h("td", { text: fmtTime(j.created_at) }),
              h("td", { text: fmtTime(j.finished_at) }),
            ),
          );
        }
        status.textContent = "Updated " + new Date().toLocaleTimeString() + " · refreshes every 3 s";
      } catch (e) {
        if (e.name === "AbortError") return;
        status.textContent = "Could not load jobs: " + e.message;
      }
      if (!signal.aborted) setTimeout(refresh, 3000);
    }
    refresh();
  }

  // A job as people name it: suffix · base model · date, never a bare id.
  function jobName(job) {
    const date = job.created_at ? new Date(job.created_at * 1000).toLocaleDateString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) : "";
    return [job.suffix, job.model, date].filter(Boolean).join(" · ");
  }

  function headlineOf(job) {
    const e = (job.whet || {}).eval;
    return (e && e.headline) || null;
  }

  // A succeeded job that a cheaper method matched or beat says so beside its status.
  function outcomeMark(job) {
    const hl = headlineOf(job);
    if (job.status !== "succeeded" || !hl || !["below", "within"].includes(hl.outcome)) return null;
    const text = hl.outcome === "below" ? "below baseline" : "not above baseline";
    return h("span", { class: "outcome-mark outcome-" + hl.outcome, title: hl.sentence, text: " · " + text });
  }

  function resultText(job) {
    const hl = headlineOf(job);
    return hl ? hl.words + " " + fixed(hl.value) : "—";
  }

  // ---------------------------------------------------------------------------------------------
  // Compare: jobs side by side — their curves overlaid, their settings and results in one table.

  function comparePage(main, { params, signal }) {
    const ids = (params.get("jobs") || "").split(",").filter(Boolean).slice(0, 6);
    const loss = new LineChart("compare-loss", "Training loss", "loss");
    const metric = new LineChart("compare-metric", "Validation metric", "metric");
    const table = h("div", { id: "compare-table" }, h("p", { class: "muted", text: "loading…" }));
    main.append(
      h("p", { class: "crumbs" }, h("a", { href: "#/jobs", text: "Jobs" }), " / compare"),
      h("h1", { text: "Compare jobs" }),
      h("p", { class: "flash info", hidden: ids.length >= 2, text: "Tick two or more jobs in the jobs list to compare them." }),
      h("section", { class: "card", "aria-labelledby": "h-compare-table" }, h("h2", { id: "h-compare-table", text: "Settings and results" }), table),
      h("section", { class: "card", "aria-labelledby": "h-compare-curves" }, h("h2", { id: "h-compare-curves", text: "Curves" }), h("div", { class: "charts" }, loss.el, metric.el)),
    );
    if (ids.length < 2) return;

    (async () => {
      try {
        const jobs = await Promise.all(ids.map((id) => api("/v1/fine_tuning/jobs/" + encodeURIComponent(id), { signal })));
        const names = jobs.map((j, i) => jobName(j) + (jobs.some((o, k) => k !== i && jobName(o) === jobName(j)) ? " (" + j.id.slice(-6) + ")" : ""));
        showTable(jobs, names);
        await Promise.all(jobs.map((j, i) => loadCurves(j, names[i])));
      } catch (e) {
        if (e.name !== "AbortError") clear(table).append(errorBox(e));
      }
    })();

    async function loadCurves(job, name) {
      const page = await api("/v1/fine_tuning/jobs/" + encodeURIComponent(job.id) + "/events?order=asc&limit=10000", { signal });
      const hl = headlineOf(job);
      const key = "valid_" + ((hl && hl.metric) || "");
      for (const ev of page.data || []) {
        const d = ev.data;
        if (ev.type !== "metrics" || !d || typeof d !== "object") continue;
        if (typeof d.train_loss === "number") loss.add(name, d.step, d.train_loss);
        const v = typeof d[key] === "number" ? d[key] : d.valid_loss;
        if (typeof v === "number") metric.add(name + (typeof d[key] === "number" ? " · " + hl.words : " · valid loss"), d.step, v, true);
      }
    }

    function showTable(jobs, names) {
      const requested = (j) => ((j.whet && j.whet.request) || {}).hyperparameters || {};
      const options = (j) => Object.entries((j.whet && j.whet.options) || {}).filter(([k]) => k !== "task" && k !== "method").map(([k, v]) => k + ": " + JSON.stringify(v)).join(", ") || "—";
      const interval = (hl) => (hl && hl.interval ? range(hl.interval) : "—");
      const seconds = (j) => (j.finished_at && j.created_at ? j.finished_at - j.created_at : null);
      const rows = [
        ["Status", (j) => j.status],
        ["Base model", (j) => j.model],
        ["Task", (j) => (j.whet && j.whet.task) || "—"],
        ["Method", (j) => ((j.whet && j.whet.options) || {}).method || "default"],
        ["Epochs", (j) => j.hyperparameters.n_epochs + (requested(j).n_epochs === "auto" ? " (auto)" : "")],
        ["Batch size", (j) => j.hyperparameters.batch_size + (requested(j).batch_size === "auto" ? " (auto)" : "")],
        ["Learning-rate multiplier", (j) => j.hyperparameters.learning_rate_multiplier + (requested(j).learning_rate_multiplier === "auto" ? " (auto)" : "")],
        ["Seed", (j) => j.seed],
        ["Other options", options],
        ["Metric", (j) => (headlineOf(j) ? headlineOf(j).words : "—")],
        ["Fine-tuned", (j) => (headlineOf(j) ? fixed(headlineOf(j).value) : "—")],
        ["95% interval", (j) => interval(headlineOf(j))],
        ["Best cheaper method", (j) => (headlineOf(j) && headlineOf(j).best_description ? headlineOf(j).best_description + " " + fixed(headlineOf(j).best_value) : "—")],
        ["Verdict", (j) => (headlineOf(j) ? headlineOf(j).sentence : "not evaluated")],
        ["Wall time", (j) => (seconds(j) === null ? "—" : fmtDuration(seconds(j)))],
        ["Trained tokens (the cost)", (j) => (typeof j.trained_tokens === "number" ? fmtNum(j.trained_tokens) : "—")],
      ];
      const best = Math.max(...jobs.map((j) => (headlineOf(j) ? headlineOf(j).value : -Infinity)));
      clear(table).append(
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "compare" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "" }), jobs.map((j, i) => h("th", { scope: "col" }, h("a", { href: routeHref("jobs", j.id), text: names[i] }))))),
            h(
              "tbody",
              {},
              rows.map(([label, value]) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row", text: label }),
                  jobs.map((j) => h("td", { class: label === "Fine-tuned" && headlineOf(j) && headlineOf(j).value === best ? "best" : "", text: String(value(j) ?? "—") })),
                ),
              ),
            ),
          ),
        ),
      );
    }
  }

  function fmtDuration(seconds) {
    const s = Math.round(seconds);
    if (s < 90) return s + " s";
    if (s < 5400) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
  }

  // ---------------------------------------------------------------------------------------------
  // Charts: inline SVG line charts in the style of the evaluation report, redrawn as points arrive.

  function niceTicks(lo, hi) {
    const raw = (hi - lo) / 4;
    // A flat series (or one flat but for rounding noise) has one tick: stepping by a step below the
    // values' precision would never reach hi.
    if (!(raw > 0) || !isFinite(raw) || raw <= Math.max(Math.abs(lo), Math.abs(hi)) * 1e-9) return [lo];
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = mag;
    for (const m of [2, 5, 10]) if (Math.abs(Math.log((m * mag) / raw)) < Math.abs(Math.log(step / raw))) step = m * mag;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9 && ticks.length < 50; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return ticks;
  }

  class LineChart {
    constructor(name, title, yLabel) {
      this.name = name;
      this.title = title;
      this.yLabel = yLabel;
      // name -> {points: Map step -> value, markers}. Keyed by step: a job resumed after a crash
      // repeats the steps since its checkpoint, and the latest value of a step is the one kept.
      this.series = new Map();
      this.svg = s("svg", { class: "chart", "data-chart": name, "data-points": 0, viewBox: "0 0 440 260", role: "img", "aria-label": title, preserveAspectRatio: "xMidYMid meet" });
      this.summary = h("p", { class: "chart-summary muted" });
      this.el = h("figure", { class: "chart-box" }, h("figcaption", { text: title }), this.svg, this.summary);
      this.pending = false;
      this.render();
    }

    add(seriesName, x, y, markers) {
      if (typeof x !== "number" || typeof y !== "number" || !Number.isFinite(x) || !Number.isFinite(y)) return;
      let series = this.series.get(seriesName);
      if (!series) this.series.set(seriesName, (series = { points: new Map(), markers: !!markers }));
      series.points.set(x, y);
      if (!this.pending) {
        this.pending = true;
        setTimeout(() => {
          this.pending = false;
          this.render();
        }, 150);
      }
    }

    render() {
      const svg = clear(this.svg);
      const w = 440, h0 = 260, left = 62, right = 12, top = 30, bottom = 42;
      const pw = w - left - right, ph = h0 - top - bottom;
      svg.append(s("title", { text: this.title }));
      let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity, count = 0;
      for (const { points } of this.series.values()) {
        for (const [x, y] of points.entries()) {
          minX = Math.min(minX, x); maxX = Math.max(maxX, x);
          minY = Math.min(minY, y); maxY = Math.max(maxY, y);
          count++;
        }
      }
      svg.setAttribute("data-points", count);
      svg.append(
        s("line", { x1: left, y1: top, x2: left, y2: top + ph, class: "axis" }),
        s("line", { x1: left, y1: top + ph, x2: left + pw, y2: top + ph, class: "axis" }),
      );
      if (count === 0) {
        svg.append(s("text", { x: left + pw / 2, y: top + ph / 2, "text-anchor": "middle", class: "empty", text: "waiting for data…" }));
        this.summary.textContent = "No points yet.";
        return;
      }
      if (maxX === minX) maxX = minX + 1;
      if (maxY === minY) {
        maxY += Math.abs(maxY) * 0.05 + 1e-9;
        minY -= Math.abs(minY) * 0.05 + 1e-9;
      }
      const sx = (x) => left + ((x - minX) / (maxX - minX)) * pw;
      const sy = (y) => top + ph - ((y - minY) / (maxY - minY)) * ph;
      for (const yv of niceTicks(minY, maxY)) {
        svg.append(s("line", { x1: left, x2: left + pw, y1: sy(yv), y2: sy(yv), class: "grid" }));
        svg.append(s("text", { x: left - 6, y: sy(yv) + 4, "text-anchor": "end", class: "tick", text: fmtNum(yv) }));
      }
      // Steps are whole numbers: so are the ticks of the step axis.
      let xTicks = niceTicks(minX, maxX).filter((x) => Number.isInteger(x));
      if (xTicks.length === 0) xTicks = [...new Set([Math.ceil(minX), Math.floor(maxX)])].filter((x) => x >= minX && x <= maxX);
      for (const xv of xTicks) {
        svg.append(s("text", { x: sx(xv), y: top + ph + 16, "text-anchor": "middle", class: "tick x-tick", text: fmtNum(xv) }));
      }
      svg.append(s("text", { x: left + pw / 2, y: h0 - 6, "text-anchor": "middle", class: "axis-label", text: "step" }));
      svg.append(s("text", { x: 14, y: top + ph / 2, transform: `rotate(-90 14 ${top + ph / 2})`, "text-anchor": "middle", class: "axis-label", text: this.yLabel }));
      const last = [];
      let i = 0;
      for (const [name, { points, markers }] of this.series) {
        const colour = COLOURS[i % COLOURS.length];
        const sorted = [...points.entries()].sort((a, b) => a[0] - b[0]);
        svg.append(s("polyline", { fill: "none", stroke: colour, "stroke-width": 1.8, "data-series": name, points: sorted.map(([x, y]) => sx(x).toFixed(1) + "," + sy(y).toFixed(1)).join(" ") }));
        if (markers || sorted.length === 1) {
          for (const [x, y] of sorted) svg.append(s("circle", { cx: sx(x).toFixed(1), cy: sy(y).toFixed(1), r: 3, fill: colour }, s("title", { text: name + " " + fmtNum(y) + " at step " + fmtNum(x) })));
        }
        if (sorted.length === 1) {
          // A single evaluation is a value, not a curve: say it beside its point.
          const [x, y] = sorted[0];
          svg.append(s("text", { x: Math.min(sx(x) + 6, left + pw - 4), y: sy(y) - 6, "text-anchor": sx(x) + 6 > left + pw - 60 ? "end" : "start", class: "point-label", text: fmtNum(y) }));
        }
        const lx = left + 4 + i * 130;
        svg.append(s("rect", { x: lx, y: 8, width: 12, height: 12, fill: colour }), s("text", { x: lx + 16, y: 18, class: "legend", text: name }));
        const [lxv, lyv] = sorted[sorted.length - 1];
        last.push(name + " " + fmtNum(lyv) + " at step " + fmtNum(lxv));
        i++;
      }
      this.summary.textContent = "Latest: " + last.join("; ") + ".";
      svg.setAttribute("aria-label", this.title + ". " + this.summary.textContent);
      // Hover: the values of every series at the nearest step, and a rule there.
      const rule = s("line", { y1: top, y2: top + ph, class: "hover-rule", visibility: "hidden" });
      const readout = s("text", { x: left + pw - 4, y: top + 12, "text-anchor": "end", class: "hover-readout", visibility: "hidden" });
      svg.append(rule, readout);
      const series = [...this.series].map(([name, { points }]) => [name, [...points.entries()].sort((a, b) => a[0] - b[0])]);
      svg.onmousemove = (ev) => {
        const box = svg.getBoundingClientRect();
        const x = minX + (((ev.clientX - box.left) * (w / box.width) - left) / pw) * (maxX - minX);
        const parts = [];
        let at = null;
        for (const [name, pts] of series) {
          let best = pts[0];
          for (const p of pts) if (Math.abs(p[0] - x) < Math.abs(best[0] - x)) best = p;
          if (at === null || Math.abs(best[0] - x) < Math.abs(at - x)) at = best[0];
          parts.push(name + " " + fmtNum(best[1]));
        }
        rule.setAttribute("x1", sx(at));
        rule.setAttribute("x2", sx(at));
        readout.textContent = "step " + fmtNum(at) + ": " + parts.join(" · ");
        rule.setAttribute("visibility", "visible");
        readout.setAttribute("visibility", "visible");
      };
      svg.onmouseleave = () => {
        rule.setAttribute("visibility", "hidden");
        readout.setAttribute("visibility", "hidden");
      };
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Job page.

  function jobPage(main, { parts, signal }) {
    const id = parts[1];
    const title = h("h1", { text: id });
    const idLine = h("p", { class: "muted small mono", id: "job-id", text: id });
    const badge = h("span");
    const cancel = h("button", { type: "button", class: "danger", id: "cancel-job", text: "Cancel job", hidden: true });
    const clone = h("a", { class: "button secondary", id: "clone-job", href: "#/new?clone=" + encodeURIComponent(id), text: "Clone and edit" });
    const downloadModel = h("button", { type: "button", class: "secondary", id: "download-model", text: "Download model (zip)", hidden: true });
    const deleteModel = h("button", { type: "button", class: "danger", id: "delete-model", text: "Delete model", hidden: true });
    const details = h("dl", { class: "details", id: "job-details" });
    const jobError = h("div");
    const banner = h("div", { id: "verdict-banner", hidden: true });
    const progressBar = h("progress", { id: "job-progress", max: 1, value: 0, "aria-label": "Training progress" });
    const progressText = h("span", { class: "muted", text: "No steps yet." });
    const stageLine = h("ol", { class: "stages", id: "job-stage", "aria-label": "Stages" }, STAGES.map(([key, name]) => h("li", { "data-stage": key, text: name })));
    const stageTime = h("p", { class: "muted small", id: "stage-time" });
    const live = h("span", { class: "live", id: "stream-state", "aria-live": "polite", text: "connecting…" });
    const loss = new LineChart("train-loss", "Training loss", "loss");
    const lr = new LineChart("learning-rate", "Learning rate", "learning rate");
    const metric = new LineChart("valid-metric", "Validation metrics", "metric");
    const events = h("ol", { class: "events", id: "events", reversed: true });
    const showMetrics = h("input", { type: "checkbox", id: "show-metric-events" });
    const checkpoints = h("div", { id: "checkpoints" }, h("p", { class: "muted", text: "No checkpoints yet." }));
    const report = h("div", { id: "report" }, h("p", { class: "muted", text: "The evaluation report appears here when the job has finished." }));
    const tryIt = h("div", { id: "try-it" }, h("p", { class: "muted", text: "Available once the job has succeeded." }));

    main.append(
      h("p", { class: "crumbs" }, h("a", { href: "#/jobs", text: "Jobs" }), " / job"),
      idLine,
      h("div", { class: "title-row" }, h("div", { class: "title-main" }, title, badge), h("div", { class: "actions" }, clone, downloadModel, deleteModel, cancel)),
      jobError,
      banner,
      h("section", { class: "card", "aria-labelledby": "h-details" }, h("h2", { id: "h-details", text: "Details" }), details),
      h(
        "section",
        { class: "card", "aria-labelledby": "h-training" },
        h("div", { class: "title-row" }, h("h2", { id: "h-training", text: "Training" }), live),
        stageLine,
        stageTime,
        h("div", { class: "progress-row" }, progressBar, progressText),
        h("div", { class: "charts" }, loss.el, lr.el, metric.el),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "h-events" },
        h("div", { class: "title-row" }, h("h2", { id: "h-events", text: "Events" }), h("label", { class: "inline" }, showMetrics, " show metrics events")),
        h("div", { class: "events-wrap", tabindex: 0, role: "region", "aria-label": "Event log, newest first" }, events),
      ),
      h("section", { class: "card", "aria-labelledby": "h-checkpoints" }, h("h2", { id: "h-checkpoints", text: "Checkpoints" }), checkpoints),
      h("section", { class: "card", "aria-labelledby": "h-report" }, h("h2", { id: "h-report", text: "Evaluation report" }), report),
      h("section", { class: "card", "aria-labelledby": "h-try" }, h("h2", { id: "h-try", text: "Try it" }), tryIt),
    );
    showMetrics.addEventListener("change", () => events.classList.toggle("with-metrics", showMetrics.checked));

    let job = null;
    let reportShown = false;
    let tryShown = false;

    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        job = await api("/v1/fine_tuning/jobs/" + encodeURIComponent(id) + "/cancel", { method: "POST", signal });
        showJob();
        flash("Job " + id + " cancelled.", "info");
      } catch (e) {
        if (e.name !== "AbortError") flash("Could not cancel: " + e.message, "error");
      } finally {
        cancel.disabled = false;
      }
    });

    downloadModel.addEventListener("click", async () => {
      downloadModel.disabled = true;
      try {
        await download("/v1/whet/models/" + encodeURIComponent(job.fine_tuned_model) + "/download", job.fine_tuned_model.replace(/[^A-Za-z0-9._-]/g, "_") + ".zip", signal);
      } catch (e) {
        if (e.name !== "AbortError") flash("Could not download the model: " + e.message, "error");
      } finally {
        downloadModel.disabled = false;
      }
    });
    deleteModel.addEventListener("click", async () => {
      if (!(await confirmDialog("Delete the model " + job.fine_tuned_model + " and its checkpoints? This cannot be undone; the job's results and report stay.", "Delete model"))) return;
      deleteModel.disabled = true;
      try {
        await api("/v1/models/" + encodeURIComponent(job.fine_tuned_model), { method: "DELETE", signal });
        job = await api("/v1/fine_tuning/jobs/" + encodeURIComponent(id), { signal });
        showJob();
        loadCheckpoints();
        flash("Model " + job.fine_tuned_model + " deleted.", "info");
      } catch (e) {
        if (e.name !== "AbortError") flash("Could not delete the model: " + e.message, "error");
      } finally {
        deleteModel.disabled = false;
      }
    });

    function showJob() {
      title.textContent = jobName(job);
      if (job.status === "queued") setStage("queued", job.created_at);
      else if (job.status === "running" && !stage.key) setStage("validating", job.created_at);
      else if (TERMINAL.has(job.status)) setStage("done", job.finished_at);
      const deleted = !!(job.whet && job.whet.model_deleted);
      const hasModel = job.status === "succeeded" && job.fine_tuned_model && !deleted;
      downloadModel.hidden = !hasModel;
      deleteModel.hidden = !hasModel;
      clear(badge).append(statusBadge(job.status));
      cancel.hidden = TERMINAL.has(job.status);
      const hp = (job.method && job.method.supervised && job.method.supervised.hyperparameters) || job.hyperparameters || {};
      const whet = job.whet || {};
      const rows = [
        ["Status", statusBadge(job.status)],
        ["Base model", job.model],
        ["Fine-tuned model", job.fine_tuned_model ? h("span", {}, h("code", { id: "fine-tuned-model", text: job.fine_tuned_model }), deleted ? h("strong", { id: "model-deleted", text: " — deleted" }) : null) : "—"],
        ["Task", whet.task || "—"],
        ["Method", (whet.options && whet.options.method) || (whet.task === "sft" || whet.task === "dpo" ? "lora (default)" : "full (default)")],
        ["Epochs", hp.n_epochs ?? "auto"],
        ["Batch size", hp.batch_size ?? "auto"],
        ["Learning-rate multiplier", hp.learning_rate_multiplier ?? "auto"],
        ["Training file", fileLabel(job.training_file)],
        ["Validation file", job.validation_file ? fileLabel(job.validation_file) : whet.options && (whet.options.holdout === 0 || whet.options.evaluate === false) ? "none" : "none — a tenth of the training file is held out"],
        ["Trained tokens", job.trained_tokens === null || job.trained_tokens === undefined ? "—" : fmtNum(job.trained_tokens)],
        ["Estimated finish", TERMINAL.has(job.status) ? "—" : fmtRelative(job.estimated_finish)],
        ["Created", fmtTime(job.created_at)],
        ["Finished", fmtTime(job.finished_at)],
        ["Seed", job.seed ?? "—"],
        ["Suffix", job.suffix || "—"],
      ];
      // The request's own Whet options, as the user wrote them; no server paths.
      for (const [k, v] of Object.entries(whet.options || {})) {
        if (k === "task" || k === "method") continue;
        rows.push([k.replace(/[._]/g, " "), typeof v === "object" ? JSON.stringify(v) : String(v)]);
      }
      clear(details);
      for (const [k, v] of rows) details.append(h("div", {}, h("dt", { text: k }), h("dd", {}, v)));
      clear(jobError);
      if (job.error && job.error.message) {
        jobError.append(h("p", { class: "flash error", role: "alert" }, h("strong", { text: "Failed" + (job.error.code ? " (" + job.error.code + ")" : "") + ": " }), job.error.message));
      }
      showBanner();
      if (TERMINAL.has(job.status)) {
        // Only runs that were evaluated have a report (whet.eval summarises it): no 404 to fetch.
        if (!reportShown && whet.eval) loadReport();
        else if (!whet.eval) clear(report).append(h("p", { class: "muted", text: job.status === "succeeded" ? "This job was not evaluated, so it has no report." : "No evaluation report: the job " + job.status + " before evaluating." }));
        if (deleted) {
          tryShown = false;
          clear(tryIt).append(h("p", { class: "muted", text: "The model was deleted, so it cannot be tried. Clone the job to train it again." }));
        } else if (job.status === "succeeded" && job.fine_tuned_model && !tryShown) {
          tryShown = true;
          clear(tryIt).append(tryItBox(job.fine_tuned_model, whet.task, signal));
        }
      }
    }

    // The verdict first: a finished job's score against the best cheaper method, coloured by
    // outcome, with what to do next; or why it was not measured.
    function showBanner() {
      const e = (job.whet || {}).eval;
      clear(banner);
      banner.hidden = job.status !== "succeeded";
      if (banner.hidden) return;
      const hl = e && e.headline;
      if (!hl) {
        banner.className = "banner outcome-unchecked";
        const opts = (job.whet && job.whet.options) || {};
        const why = e
          ? "This kind of job has no comparison with cheaper methods yet; its report below has the held-out scores."
          : opts.evaluate === false
            ? "Evaluation was turned off for this job (whet.evaluate: false)."
            : job.validation_file
              ? "Its evaluation did not run; the events below say why."
              : "It had no validation file to measure the model on, and none was held out (whet.holdout: 0, or the file was too small to hold a tenth out).";
        banner.append(
          h("p", { class: "banner-title", text: e ? "Evaluated without baselines" : "This job was not evaluated" }),
          h("p", { text: why }),
          h("p", { text: e ? "" : "Measure it before relying on it: start a new job with a validation file, or run whet eval on the model with a test file." }),
        );
        return;
      }
      banner.className = "banner outcome-" + hl.outcome;
      const interval = hl.interval ? " (95% interval " + range(hl.interval) + ")" : "";
      banner.append(
        h("p", { class: "banner-title", text: hl.sentence }),
        h("p", {}, "Fine-tuned " + hl.words + ": ", h("strong", { text: fixed(hl.value) }), interval + (hl.best_description ? " · best cheaper method: " + hl.best_description + " " + fixed(hl.best_value) : "") + "."),
        h("ul", { class: "next-steps" }, (hl.next_steps || []).map((t) => h("li", { text: t }))),
        h("p", {}, h("a", { href: "#h-report", text: "The full comparison is in the evaluation report below." })),
      );
    }

    // Files by name: each file's name fetched once; its id stays beside it, small.
    const fileNames = new Map();
    function fileLabel(fileId) {
      if (!fileId) return "—";
      if (!fileNames.has(fileId)) {
        fileNames.set(fileId, null);
        api("/v1/files/" + encodeURIComponent(fileId), { signal })
          .then((f) => {
            fileNames.set(fileId, f.filename);
            if (job) showJob();
          })
          .catch(() => {});
      }
      const name = fileNames.get(fileId);
      return h("span", {}, name || fileId, name ? h("span", { class: "muted small mono", text: " " + fileId }) : null);
    }

    async function loadJob() {
      try {
        job = await api("/v1/fine_tuning/jobs/" + encodeURIComponent(id), { signal });
        showJob();
        loadCheckpoints();
      } catch (e) {
        if (e.name === "AbortError") return;
        clear(jobError).append(errorBox(e));
        if (e.status === 404) return;
      }
      if (!signal.aborted && !(job && TERMINAL.has(job.status))) setTimeout(loadJob, 3000);
    }

    async function loadCheckpoints() {
      try {
        const list = await api("/v1/fine_tuning/jobs/" + encodeURIComponent(id) + "/checkpoints?limit=100", { signal });
        const rows = list.data || [];
        if (rows.length === 0) return;
        const metricKeys = [];
        for (const c of rows) for (const k of Object.keys(c.metrics || {})) if (k !== "step" && !metricKeys.includes(k)) metricKeys.push(k);
        clear(checkpoints).append(
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { id: "checkpoints-table" },
              h("thead", {}, h("tr", {}, ["Step", "Checkpoint", "Created", ...metricKeys].map((t) => h("th", { scope: "col", text: t })))),
              h(
                "tbody",
                {},
                rows.map((c) =>
                  h(
                    "tr",
                    { "data-step": c.step_number },
                    h("td", { class: "num", text: fmtNum(c.step_number) }),
                    h("td", {}, h("span", { class: "mono", text: c.fine_tuned_model_checkpoint || c.id }), checkpointActions(c)),
                    h("td", { text: fmtTime(c.created_at) }),
                    metricKeys.map((k) => h("td", { class: "num", text: fmtNum((c.metrics || {})[k]) })),
                  ),
                ),
              ),
            ),
          ),
        );
      } catch (e) {
        if (e.name !== "AbortError") clear(checkpoints).append(errorBox(e));
      }
    }

    // A succeeded job's checkpoints are models too: try one here, or download it.
    function checkpointActions(c) {
      const name = c.fine_tuned_model_checkpoint;
      if (!job || job.status !== "succeeded" || !name || (job.whet && job.whet.model_deleted)) return null;
      const tryButton = h("button", { type: "button", class: "link", text: "Try", "aria-label": "Try checkpoint " + c.step_number });
      tryButton.addEventListener("click", () => {
        clear(tryIt).append(h("p", { class: "muted" }, "Trying checkpoint ", h("code", { text: name }), ":"), tryItBox(name, (job.whet || {}).task, signal));
        tryShown = true;
        document.getElementById("h-try").scrollIntoView();
      });
      const get = h("button", { type: "button", class: "link", text: "Download", "aria-label": "Download checkpoint " + c.step_number });
      get.addEventListener("click", async () => {
        get.disabled = true;
        try {
          await download("/v1/whet/models/" + encodeURIComponent(name) + "/download", name.replace(/[^A-Za-z0-9._-]/g, "_") + ".zip", signal);
        } catch (e) {
          if (e.name !== "AbortError") flash("Could not download the checkpoint: " + e.message, "error");
        } finally {
          get.disabled = false;
        }
      });
      return h("div", { class: "row-actions" }, tryButton, " ", get);
    }

    async function loadReport() {
      reportShown = true;
      try {
        const html = await api("/v1/whet/jobs/" + encodeURIComponent(id) + "/report", { signal });
        const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
        signal.addEventListener("abort", () => URL.revokeObjectURL(url));
        // An empty sandbox: the report runs no script and cannot reach this page or its key.
        const summary = evalSummary(job && job.whet && job.whet.eval);
        const frame = h("iframe", { id: "report-frame", sandbox: "", src: url, title: "Evaluation report" });
        clear(report).append(summary, frame, h("p", {}, h("a", { href: url, download: id + "-report.html", text: "Download the report" })));
      } catch (e) {
        if (e.name === "AbortError") return;
        clear(report).append(h("p", { class: "muted", text: e.status === 404 ? "This job has no evaluation report (it was not evaluated, or did not finish)." : "Could not load the report: " + e.message }));
      }
    }

    function evalSummary(e) {
      if (!e) return null;
      if (e.task === "sft" || e.task === "dpo") return sftSummary(e);
      if (e.task === "tokens") return entitySummary(e);
      if (e.task === "similarity" || e.task === "embed") return embeddingSummary(e);
      return summaryTable(null, "Test set: " + fmtNum(e.n) + " examples (details and verdict in the report below)", "System", ["Accuracy", "Macro F1"], systemRows(e, ["accuracy", "f1_macro"]));
    }

    // The fine-tuned model's values, then each baseline's: [name, value…] rows.
    function systemRows(e, keys) {
      const rows = [["fine-tuned", ...keys.map((k) => e[k])]];
      for (const [name, b] of Object.entries(e.baselines || {})) if (name !== "fine_tuned") rows.push([name.replace(/_/g, " "), ...keys.map((k) => b[k])]);
      return rows;
    }

    // A headline table: an optional verdict above it, one row header and numeric cells per row;
    // "id" names the block (the page's one eval summary, unless it is part of a larger one).
    function summaryTable(verdict, caption, rowHeading, columns, rows, id = "eval-summary") {
      return h(
        "div",
        { id },
        verdict === null ? null : h("p", { class: "verdict", text: verdict || "" }),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "compact" },
            h("caption", { text: caption }),
            h("thead", {}, h("tr", {}, h("th", { scope: "col", text: rowHeading }), columns.map((t) => h("th", { scope: "col", class: "num", text: t })))),
            h("tbody", {}, rows.map(([name, ...values]) => h("tr", {}, h("th", { scope: "row", text: name }), values.map((v) => h("td", { class: "num", text: fmtNum(v) }))))),
          ),
        ),
      );
    }

    // A sentence-embedding model's headline: each metric before (base) and after fine-tuning.
    function embeddingSummary(e) {
      const names = { spearman: "Spearman", recall_at_1: "Recall@1", recall_at_10: "Recall@10", mrr: "MRR" };
      const rows = Object.entries(e.metrics || {}).map(([k, v]) => [names[k] || k, v.base, v.fine_tuned]);
      return summaryTable(e.verdict, "Held-out set: " + fmtNum(e.n) + " pairs (details in the report below)", "Metric", ["Base", "Fine-tuned"], rows);
    }

    // A tagger's headline: strict entity F1, precision and recall of each system.
    function entitySummary(e) {
      return summaryTable(
        e.verdict,
        "Test set: " + fmtNum(e.n) + " sentences, strict IOB2 entities (details in the report below)",
        "System",
        ["Entity F1", "Precision", "Recall"],
        systemRows(e, ["entity_f1", "entity_precision", "entity_recall"]),
      );
    }

    // A generative fine-tune's headline: held-out loss and perplexity, and how close greedy
    // generations came to the held-out completions, before and after; for DPO first how often the
    // preferred answer is the likelier one.
    function sftSummary(e) {
      const held = e.held_out || {};
      const gen = e.generation || {};
      const pref = e.preference || null;
      const estimate = (i) => (i && typeof i.estimate === "number" ? i.estimate : null);
      const row = (name, before, after) => h("tr", {}, h("th", { scope: "row", text: name }), h("td", { class: "num", text: fmtNum(before) }), h("td", { class: "num", text: fmtNum(after) }));
      const f = e.forgetting || null;
      const systems = e.systems
        ? summaryTable(e.verdict, "Fine-tuned vs prompting the base model: log-likelihood per answer token (higher is better), ROUGE-L of greedy generations, prompt length", "System", ["Log-likelihood", "ROUGE-L", "Prompt tokens", "ms per request"], e.systems.map((s) => [s.description, s.loglik, s.rouge_l, s.prompt_tokens, s.ms_per_request]), "generative-baselines")
        : null;
      return h(
        "div",
        { id: "eval-summary" },
        systems,
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "compact" },
            h("caption", { text: pref ? "Held-out preference pairs (" + fmtNum(pref.n) + "), base model vs tuned; loss and generations on the preferred answers (details in the report below)" : "Held-out completions, base model vs fine-tuned (" + fmtNum(gen.n) + " generated; details in the report below)" }),
            h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Measure" }), h("th", { scope: "col", class: "num", text: "Base" }), h("th", { scope: "col", class: "num", text: "Fine-tuned" }))),
            h(
              "tbody",
              {},
              pref ? row("prefers the chosen answer", estimate(pref.preference_accuracy_before), estimate(pref.preference_accuracy_after)) : null,
              pref ? row("reward accuracy (against the base)", null, estimate(pref.reward_accuracy)) : null,
              row("loss per completion token", held.loss_before, held.loss_after),
              row("perplexity", held.perplexity_before, held.perplexity_after),
              row("exact match", gen.exact_match_before, gen.exact_match_after),
              row("ROUGE-L", gen.rouge_l_before, gen.rouge_l_after),
              f && typeof f.before === "number" ? row("general-text " + (f.task || "check"), f.before, f.after) : null,
            ),
          ),
        ),
      );
    }

    // Events: the stream replays every event oldest first, then follows the job until [DONE].
    const seen = new Set();
    let lastStep = 0;

    function onEvent(ev) {
      if (ev.id && seen.has(ev.id)) return;
      if (ev.id) seen.add(ev.id);
      const d = ev.data;
      // Stages from the events: training from the first step, evaluation from its first message.
      if (ev.type === "metrics" && d && typeof d.train_loss === "number" && stage.key !== "evaluating") setStage("training", ev.created_at);
      if (d && d.kind === "evaluating" && stage.key !== "evaluating") setStage("evaluating", ev.created_at);
      if (ev.type === "metrics" && d && typeof d === "object") {
        const step = d.step;
        if (typeof d.train_loss === "number") loss.add("train loss", step, d.train_loss);
        if (typeof d.learning_rate === "number") lr.add("learning rate", step, d.learning_rate);
        for (const [k, v] of Object.entries(d)) {
          if (!k.startsWith("valid_") || typeof v !== "number") continue;
          if (k === "valid_loss") loss.add("valid loss", step, v, true);
          else metric.add(k.slice("valid_".length).replace(/_/g, " "), step, v, true);
        }
        if (typeof step === "number" && step >= lastStep && typeof d.train_loss === "number") {
          lastStep = step;
          const total = d.total_steps;
          if (typeof total === "number" && total > 0) {
            progressBar.max = total;
            progressBar.value = Math.min(step, total);
          }
          progressText.textContent =
            "Step " + fmtNum(step) + (total ? " of " + fmtNum(total) : "") + (d.epoch !== undefined ? " · epoch " + fmtNum(d.epoch) : "") + (d.tokens_per_second ? " · " + fmtNum(Math.round(d.tokens_per_second)) + " tokens/s" : "");
        }
      }
      const li = h(
        "li",
        { class: "event level-" + String(ev.level || "info").replace(/[^a-z]/g, "") + (ev.type === "metrics" ? " metrics" : "") },
        h("time", { text: ev.created_at ? new Date(ev.created_at * 1000).toLocaleTimeString() : "" }),
        h("span", { class: "level", text: ev.level || "info" }),
        h("span", { class: "message", text: ev.message || (d ? JSON.stringify(d) : "") }),
      );
      events.prepend(li);
      while (events.children.length > 500) events.lastElementChild.remove();
      if (ev.type !== "metrics" && job && !TERMINAL.has(job.status)) scheduleJobRefresh();
    }

    // queued → validating → training → evaluating → done; each with when it began.
    const stage = { key: null, since: null };
    function setStage(key, since) {
      const order = STAGES.map(([k]) => k);
      const at = order.indexOf(key);
      if (stage.key !== null && order.indexOf(stage.key) >= at) return; // stages only move on
      stage.key = key;
      stage.since = since || Date.now() / 1000;
      for (const li of stageLine.children) {
        const i = order.indexOf(li.dataset.stage);
        li.className = i < at || key === "done" ? "done" : i === at ? "current" : "";
        if (i === at && key !== "done") li.setAttribute("aria-current", "step");
        else li.removeAttribute("aria-current");
      }
      if (key === "evaluating") {
        // Training is over but the job is not: an indeterminate bar, not a full one.
        progressBar.removeAttribute("value");
        progressText.textContent = "Training finished; evaluating the model and the cheaper baselines…";
      }
      if (key === "done" && job) {
        stageLine.lastElementChild.textContent = job.status === "succeeded" ? "Done" : job.status.charAt(0).toUpperCase() + job.status.slice(1);
        if (job.status === "succeeded") progressBar.value = progressBar.max;
      }
      showStageTime();
    }
    function showStageTime() {
      if (!job || !stage.key) return;
      const now = Date.now() / 1000;
      const total = fmtDuration(Math.max(0, (job.finished_at || now) - job.created_at));
      let text = "Elapsed " + total;
      if (stage.key === "training" && job.estimated_finish) text += " · training ends " + fmtRelative(job.estimated_finish);
      else if (stage.key === "evaluating") text += " · evaluating for " + fmtDuration(now - stage.since);
      stageTime.textContent = text + ".";
    }
    const ticker = setInterval(showStageTime, 1000);
    signal.addEventListener("abort", () => clearInterval(ticker));

    let refreshQueued = false;
    function scheduleJobRefresh() {
      if (refreshQueued) return;
      refreshQueued = true;
      setTimeout(async () => {
        refreshQueued = false;
        try {
          job = await api("/v1/fine_tuning/jobs/" + encodeURIComponent(id), { signal });
          showJob();
          loadCheckpoints();
        } catch (e) {
          /* the poll loop reports failures */
        }
      }, 300);
    }

    async function stream() {
      let done = false;
      while (!done && !signal.aborted) {
        try {
          const res = await api("/v1/fine_tuning/jobs/" + encodeURIComponent(id) + "/events?stream=true", { signal, raw: true });
          live.textContent = "live";
          live.className = "live on";
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done: end } = await reader.read();
            if (end) break;
            buffer += value.replace(/\r\n?/g, "\n");
            let cut;
            while ((cut = buffer.indexOf("\n\n")) >= 0) {
              const block = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              const data = block
                .split("\n")
                .filter((l) => l.startsWith("data:"))
                .map((l) => l.slice(5).replace(/^ /, ""))
                .join("\n");
              if (!data) continue;
              if (data === "[DONE]") {
                done = true;
                break;
              }
              try {
                onEvent(JSON.parse(data));
              } catch (e) {
                console.warn("whet: skipped an event that is not JSON", e);
              }
            }
            if (done) {
              reader.cancel().catch(() => {});
              break;
            }
          }
        } catch (e) {
          if (e.name === "AbortError" || signal.aborted) return;
          if (e.status === 404 || e.status === 401) {
            live.textContent = "not available";
            live.className = "live";
            return;
          }
        }
        if (done) break;
        // The connection ended before [DONE] (server restarted?): reconnect; seen ids dedupe.
        live.textContent = "reconnecting…";
        live.className = "live";
        await new Promise((r) => setTimeout(r, 2000));
      }
      if (signal.aborted) return;
      live.textContent = "finished";
      live.className = "live done";
      scheduleJobRefresh();
      setTimeout(() => loadJob(), 50);
    }

    loadJob();
    stream();
  }

  // ---------------------------------------------------------------------------------------------
  // Try it: classify (classifiers), chat (generative fine-tunes, task sft) or embed (encoders),
  // with a fine-tuned or base model.

  const TRY_MODES = {
    classify: { verb: "classify", button: "Classify", endpoint: "/v1/whet/classify", help: "One input per line" },
    chat: { verb: "send as a user message", button: "Generate", endpoint: "/v1/chat/completions", help: "The whole text is one user message" },
    embed: { verb: "embed", button: "Embed", endpoint: "/v1/embeddings", help: "One input per line" },
    entities: { verb: "search for entities", button: "Find entities", endpoint: "/v1/whet/entities", help: "One input per line" },
  };

  function tryMode(task) {
    if (CLASSIFY_TASKS.has(task)) return "classify";
    if (task === "tokens") return "entities";
    return task === "sft" || task === "dpo" ? "chat" : "embed";
  }

  function tryItBox(model, task, signal) {
    const mode = tryMode(task);
    const m = TRY_MODES[mode];
    const input = h("textarea", { id: "try-input", rows: 3, "aria-describedby": "try-help" });
    const button = h("button", { type: "submit", id: "try-run", text: m.button });
    const out = h("div", { id: "try-output", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "try" },
      h("label", { for: "try-input", text: "Text to " + m.verb }),
      input,
      h("p", { id: "try-help", class: "muted" }, m.help + "; sent to ", h("code", { text: "POST " + m.endpoint }), " with model ", h("code", { text: model }), "."),
      button,
      out,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const lines = input.value.split("\n").map((l) => l.trim()).filter(Boolean);
      if (lines.length === 0) {
        clear(out).append(h("p", { class: "flash error", role: "alert", text: "Type at least one line of text." }));
        return;
      }
      const body =
        mode === "chat"
          ? { model, messages: [{ role: "user", content: input.value.trim() }], max_tokens: 128, temperature: 0 }
          : { model, input: lines };
      button.disabled = true;
      clear(out).append(h("p", { class: "muted", text: "Running…" }));
      try {
        const started = performance.now();
        const res = await api(m.endpoint, { body, signal });
        const ms = Math.round(performance.now() - started);
        const shown =
          mode === "classify" ? classifyResult(lines, res) : mode === "chat" ? chatResult(res) : mode === "entities" ? entitiesResult(lines, res) : embedResult(lines, res);
        clear(out).append(shown, h("p", { class: "muted", text: ms + " ms" }));
      } catch (e) {
        if (e.name !== "AbortError") clear(out).append(errorBox(e));
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  function chatResult(res) {
    const choice = (res.choices || [])[0] || {};
    const text = (choice.message && choice.message.content) || "";
    const usage = res.usage || {};
    return h(
      "div",
      { class: "chat-reply" },
      h("p", { class: "quote", id: "chat-reply", text: text || "(empty reply)" }),
      h("p", { class: "muted", text: "finish_reason: " + (choice.finish_reason || "?") + " · " + (usage.completion_tokens ?? "?") + " tokens" }),
    );
  }

  function classifyResult(lines, res) {
    const list = h("ol", { class: "predictions" });
    for (const item of res.data || []) {
      const probs = Object.entries(item.probs || {}).sort((a, b) => b[1] - a[1]).slice(0, 6);
      const bars = h("ul", { class: "bars" });
      for (const [label, p] of probs) {
        const fill = h("span", { class: "bar-fill" });
        fill.style.width = Math.max(0, Math.min(100, p * 100)).toFixed(1) + "%";
        bars.append(
          h(
            "li",
            { class: label === item.label ? "top" : "" },
            h("span", { class: "bar-label", text: label }),
            h("span", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 1, "aria-valuenow": p.toFixed(4), "aria-label": label }, fill),
            h("span", { class: "bar-value num", text: (p * 100).toFixed(1) + "%" }),
          ),
        );
      }
      // A top probability little above 1/k: the model hardly prefers its answer over a guess.
      const k = Object.keys(item.probs || {}).length;
      const top = probs.length ? probs[0][1] : 0;
      const unsure = k > 1 && !Array.isArray(item.label) && top < 1.5 / k;
      const warning = unsure ? h("p", { class: "chance-warning", text: "Near chance: " + (top * 100).toFixed(0) + "% against " + (100 / k).toFixed(0) + "% for a blind guess among " + k + " labels — the model cannot tell here." }) : null;
      list.append(h("li", { class: "prediction" + (unsure ? " unsure" : "") }, h("p", { class: "quote", text: lines[item.index] ?? "" }), h("p", {}, "Label: ", h("strong", { class: "predicted-label", text: Array.isArray(item.label) ? item.label.join(", ") || "none" : item.label })), warning, bars));
    }
    return list;
  }

  // Each input with its entities highlighted in place (offsets are UTF-16 units, as slice counts).
  function entitiesResult(lines, res) {
    const list = h("ol", { class: "predictions entities" });
    for (const item of res.data || []) {
      const text = lines[item.index] ?? "";
      const quote = h("p", { class: "quote" });
      let at = 0;
      for (const e of item.entities || []) {
        if (e.start > at) quote.append(text.slice(at, e.start));
        quote.append(
          h("mark", { class: "entity", title: e.type + " · " + (e.score * 100).toFixed(1) + "%" }, text.slice(e.start, e.end), h("span", { class: "entity-type", text: e.type })),
        );
        at = e.end;
      }
      quote.append(text.slice(at));
      const found = (item.entities || []).length;
      list.append(h("li", { class: "prediction" }, quote, h("p", { class: "muted", text: found === 0 ? "No entities found." : found === 1 ? "1 entity found." : fmtNum(found) + " entities found." })));
    }
    return list;
  }

  function embedResult(lines, res) {
    const vecs = (res.data || []).slice().sort((a, b) => a.index - b.index).map((d) => d.embedding);
    const box = h("div", { class: "embeddings" });
    if (vecs.length === 0) return box;
    box.append(h("p", { id: "embed-summary" }, plural(vecs.length, "vector") + " of dimension " + vecs[0].length + " from ", h("code", { text: res.model || "" }), "."));
    for (let i = 0; i < vecs.length; i++) {
      const v = vecs[i];
      const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      box.append(h("p", { class: "mono small" }, h("span", { text: (lines[i] || "").slice(0, 60) }), ": [" + v.slice(0, 6).map((x) => x.toFixed(4)).join(", ") + ", …] ‖v‖=" + norm.toFixed(3)));
    }
    if (vecs.length > 1) {
      const cos = (a, b) => {
        let d = 0, na = 0, nb = 0;
        for (let k = 0; k < a.length; k++) { d += a[k] * b[k]; na += a[k] * a[k]; nb += b[k] * b[k]; }
        return d / Math.sqrt(na * nb);
      };
      const n = Math.min(vecs.length, 8);
      box.append(
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "cosine" },
            h("caption", { text: "Cosine similarity" }),
            h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "" }), Array.from({ length: n }, (_, j) => h("th", { scope: "col", text: "#" + (j + 1) })))),
            h("tbody", {}, Array.from({ length: n }, (_, i) => h("tr", {}, h("th", { scope: "row", text: "#" + (i + 1) }), Array.from({ length: n }, (_, j) => h("td", { class: "num", text: cos(vecs[i], vecs[j]).toFixed(3) }))))),
          ),
        ),
      );
    }
    return box;
  }

  // ---------------------------------------------------------------------------------------------
  // Upload: validate first (nothing stored), show the result, then upload.

  function uploadPage(main, { signal }) {
    const fileInput = h("input", { type: "file", id: "upload-file", accept: ".jsonl,.json,.csv,.tsv,.txt,.conll", "aria-describedby": "upload-help" });
    const result = h("div", { id: "validation", "aria-live": "polite" });
    const uploadButton = h("button", { type: "button", id: "upload-button", text: "Upload", disabled: true });
    const role = h("select", { id: "upload-role" }, ROLES.map(([v, t]) => h("option", { value: v, text: t })));
    const roleField = h("div", { class: "field", hidden: true }, h("label", { for: "upload-role", text: "Use it for" }), role, h("p", { class: "muted", text: "Guessed from the file's name; the new-job form offers each file where it belongs." }));
    const uploaded = h("div", { id: "upload-result", "aria-live": "polite" });
    const files = h("div", { id: "files" });
    main.append(
      h("h1", { text: "Upload a dataset" }),
      h(
        "section",
        { class: "card" },
        h("label", { for: "upload-file", text: "Dataset file" }),
        fileInput,
        h("p", { id: "upload-help", class: "muted" }, "JSON Lines (one example per line, e.g. ", h("code", { text: '{"text": "…", "label": "…"}' }), "), CSV or TSV. It is checked before it is stored."),
        result,
        roleField,
        uploadButton,
        uploaded,
      ),
      h("section", { class: "card", "aria-labelledby": "h-files" }, h("h2", { id: "h-files", text: "Your files" }), files),
    );

    let chosen = null;
    fileInput.addEventListener("change", async () => {
      chosen = fileInput.files[0] || null;
      clear(result);
      clear(uploaded);
      uploadButton.disabled = true;
      if (!chosen) return;
      result.append(h("p", { class: "muted", text: "Validating " + chosen.name + "…" }));
      const form = new FormData();
      form.append("file", chosen, chosen.name);
      try {
        const v = await api("/v1/whet/files/validate", { method: "POST", body: form, signal });
        clear(result).append(validationView(chosen.name, v));
        uploadButton.disabled = !v.valid;
        role.value = v.role || "train";
        roleField.hidden = !v.valid;
      } catch (e) {
        if (e.name !== "AbortError") clear(result).append(errorBox(e));
      }
    });

    uploadButton.addEventListener("click", async () => {
      if (!chosen) return;
      uploadButton.disabled = true;
      clear(uploaded).append(h("p", { class: "muted", text: "Uploading…" }));
      const form = new FormData();
      form.append("purpose", "fine-tune");
      form.append("whet_role", role.value);
      form.append("file", chosen, chosen.name);
      try {
        const f = await api("/v1/files", { method: "POST", body: form, signal });
        clear(uploaded).append(
          h(
            "p",
            { class: "flash ok", id: "uploaded-file" },
            "Uploaded as ",
            h("code", { class: "file-id", text: f.id }),
            " (" + fmtBytes(f.bytes) + ", for " + roleName((f.whet && f.whet.role) || "train") + "). ",
            h("a", { href: "#/new?training_file=" + encodeURIComponent(f.id), id: "start-job-link", text: "Start a job with it" }),
          ),
        );
        loadFiles();
      } catch (e) {
        if (e.name !== "AbortError") clear(uploaded).append(errorBox(e));
        uploadButton.disabled = false;
      }
    });

    async function loadFiles() {
      try {
        const list = await listAll("/v1/files?limit=100", signal, 5);
        clear(files);
        if (list.length === 0) {
          files.append(h("p", { class: "muted", text: "No files yet." }));
          return;
        }
        const tbody = h("tbody");
        for (const f of list) {
          const del = h("button", { type: "button", class: "link danger", text: "Delete", "aria-label": "Delete " + f.filename });
          del.addEventListener("click", async () => {
            if (!(await confirmDialog("Delete the file " + f.filename + " (" + f.id + ")? Jobs that used it keep their results.", "Delete file"))) return;
            del.disabled = true;
            try {
              await api("/v1/files/" + encodeURIComponent(f.id), { method: "DELETE", signal });
              loadFiles();
            } catch (e) {
              if (e.name !== "AbortError") flash("Could not delete " + f.id + ": " + e.message, "error");
              del.disabled = false;
            }
          });
          tbody.append(
            h(
              "tr",
              {},
              // Actions beside the name, so that they stay on a narrow screen.
              h("td", {}, h("span", { text: f.filename }), h("br"), h("code", { class: "small muted", text: f.id }), h("div", { class: "row-actions" }, h("a", { href: "#/new?training_file=" + encodeURIComponent(f.id), text: "New job" }), " ", del)),
              h("td", { text: f.whet && f.whet.examples !== undefined ? plural(f.whet.examples, "example") + (f.whet.task ? ", " + f.whet.task : "") + (f.whet.role ? " · " + roleName(f.whet.role) : "") : f.purpose }),
              h("td", { class: "num", text: fmtBytes(f.bytes) }),
              h("td", { text: fmtTime(f.created_at) }),
            ),
          );
        }
        files.append(h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["File", "Contents", "Size", "Uploaded"].map((t) => h("th", { scope: "col", text: t })))), tbody)));
      } catch (e) {
        if (e.name !== "AbortError") clear(files).append(errorBox(e));
      }
    }
    loadFiles();
  }

  function validationView(name, v) {
    const box = h("div", { class: "validation " + (v.valid ? "ok" : "flag") });
    box.append(
      h(
        "p",
        { class: "verdict" },
        h("strong", { text: v.valid ? "Valid: " : "Not valid: " }),
        name + " — " + plural(v.examples ?? v.count ?? 0, "example") + (v.task ? ", task " + v.task : "") + (v.errors && v.errors.length ? ", " + plural(v.error_total ?? v.errorTotal ?? v.errors.length, "error") : "") + ".",
      ),
    );
    if (v.errors && v.errors.length) {
      box.append(
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { id: "validation-errors" },
            h("caption", { text: "Errors (fix these, then choose the file again)" }),
            h("thead", {}, h("tr", {}, ["Line", "Field", "Message"].map((t) => h("th", { scope: "col", text: t })))),
            h(
              "tbody",
              {},
              v.errors.map((e) =>
                h("tr", {}, h("td", { class: "num line", text: e.line ? e.line + (e.column ? ":" + e.column : "") : "file" }), h("td", { class: "mono", text: e.field || "—" }), h("td", { text: e.message })),
              ),
            ),
          ),
        ),
      );
    }
    const stats = v.stats || {};
    const simple = [];
    for (const [k, val] of Object.entries(stats)) {
      // The verdict line already says these; labels and advice have their own lists below.
      if (["labels", "advice", "errors", "task", "count", "errorTotal", "error_total", "valid", "file", "filename"].includes(k)) continue;
      if (val === null || typeof val !== "object") simple.push([k, fmtNum(val)]);
      else if (!Array.isArray(val)) for (const [k2, v2] of Object.entries(val)) if (v2 === null || typeof v2 !== "object") simple.push([k + " " + k2, fmtNum(v2)]);
    }
    if (simple.length) {
      const dl = h("dl", { class: "details", id: "validation-stats" });
      const names = { records: "records read", imbalanceRatio: "imbalance (largest / smallest class)" };
      const human = (k) => names[k] || k.replace(/_/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
      for (const [k, val] of simple) dl.append(h("div", {}, h("dt", { text: human(k) }), h("dd", { text: val })));
      box.append(h("h3", { text: "Statistics" }), dl);
    }
    if (stats.labels && typeof stats.labels === "object") {
      const entries = Object.entries(stats.labels).sort((a, b) => b[1] - a[1]);
      const max = Math.max(1, ...entries.map((e) => e[1]));
      const bars = h("ul", { class: "bars" });
      for (const [label, n] of entries.slice(0, 50)) {
        const fill = h("span", { class: "bar-fill" });
        fill.style.width = ((n / max) * 100).toFixed(1) + "%";
        bars.append(h("li", {}, h("span", { class: "bar-label", text: label }), h("span", { class: "bar", "aria-hidden": "true" }, fill), h("span", { class: "bar-value num", text: fmtNum(n) })));
      }
      box.append(h("h3", { text: "Examples per label" }), bars);
      if (entries.length > 50) box.append(h("p", { class: "muted", text: "… and " + (entries.length - 50) + " more labels." }));
    }
    if (Array.isArray(stats.advice) && stats.advice.length) {
      box.append(h("h3", { text: "Advice" }), h("ul", {}, stats.advice.map((a) => h("li", { text: typeof a === "string" ? a : a.message || JSON.stringify(a) }))));
    }
    return box;
  }

  // ---------------------------------------------------------------------------------------------
  // New job.

  function newJobPage(main, { params, signal }) {
    const field = (id, label, control, help) =>
      h("div", { class: "field" }, h("label", { for: id, text: label }), control, help ? h("p", { class: "muted", id: id + "-help", text: help }) : null);
    const model = h("select", { id: "job-model", required: true }, h("option", { value: "", text: "loading…" }));
    const training = h("select", { id: "job-training-file", required: true }, h("option", { value: "", text: "loading…" }));
    const validation = h("select", { id: "job-validation-file" }, h("option", { value: "", text: "none" }));
    const epochs = h("input", { id: "job-epochs", placeholder: "auto", inputmode: "numeric", "aria-describedby": "job-epochs-help" });
    const batch = h("input", { id: "job-batch-size", placeholder: "auto", inputmode: "numeric" });
    const lrm = h("input", { id: "job-lr-multiplier", placeholder: "auto", inputmode: "decimal" });
    const suffix = h("input", { id: "job-suffix", maxlength: 64, pattern: "[A-Za-z0-9_\\-]*" });
    const seed = h("input", { id: "job-seed", inputmode: "numeric", placeholder: "random" });
    const task = h("select", { id: "job-task" }, [["", "from the training file"], ["classify", "classify (one label)"], ["multilabel", "multilabel"], ["pair", "pair (two texts, one label)"], ["tokens", "tokens (entities: a tag per word)"], ["similarity", "similarity (embeddings from scored pairs)"], ["embed", "embed (embeddings from pairs)"], ["sft", "sft (generative: chat or prompt → completion)"], ["dpo", "dpo (generative: preference pairs)"]].map(([v, t]) => h("option", { value: v, text: t })));
    const method = h("select", { id: "job-method" }, [["", "default (full; LoRA for sft)"], ["full", "full fine-tuning"], ["lora", "LoRA adapters"], ["freeze", "freeze lower layers"], ["setfit", "SetFit (a few examples per label)"]].map(([v, t]) => h("option", { value: v, text: t })));
    const extra = h("textarea", { id: "job-whet-extra", rows: 2, spellcheck: "false", placeholder: '{"max_length": 128}', "aria-describedby": "job-whet-extra-help" });
    const submit = h("button", { type: "submit", id: "job-submit", text: "Start fine-tuning" });
    const error = h("div", { "aria-live": "assertive", id: "job-error" });
    const warnings = h("ul", { class: "form-warnings", id: "job-warnings", "aria-live": "polite", hidden: true });
    const plan = h("div", { class: "job-plan", id: "job-plan", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "card form-grid", id: "new-job-form", novalidate: true },
      h("fieldset", {}, h("legend", { text: "Model and data" }), field("job-model", "Base model", model), field("job-training-file", "Training file", training), field("job-validation-file", "Validation file (optional)", validation)),
      h(
        "fieldset",
        {},
        h("legend", { text: "Hyperparameters" }),
        field("job-epochs", "Epochs", epochs, "Empty means auto."),
        field("job-batch-size", "Batch size", batch),
        field("job-lr-multiplier", "Learning-rate multiplier", lrm),
        field("job-seed", "Seed", seed),
        field("job-suffix", "Suffix", suffix, "Part of the model name: ft:<base>:<suffix>:<job>."),
      ),
      h(
        "fieldset",
        {},
        h("legend", { text: "Whet options" }),
        field("job-task", "Task", task),
        field("job-method", "Method", method),
        field("job-whet-extra", "More Whet options (JSON object)", extra, "Merged into the request's whet object, e.g. max_length."),
      ),
      warnings,
      plan,
      h("div", { class: "actions" }, submit),
      error,
    );
    const cloned = h("p", { class: "flash info", id: "cloned-from", hidden: true });
    main.append(h("h1", { text: "New fine-tuning job" }), cloned, form);

    const fill = (select, items, empty) => {
      clear(select);
      if (empty !== null) select.append(h("option", { value: "", text: empty }));
      for (const [value, text] of items) select.append(h("option", { value, text }));
    };

    (async () => {
      try {
        const [models, files] = await Promise.all([listAll("/v1/models", signal, 1), listAll("/v1/files?limit=100", signal, 5)]);
        const bases = models.filter((m) => !String(m.id).startsWith("ft:"));
        const tuned = models.filter((m) => String(m.id).startsWith("ft:"));
        fill(model, [...bases, ...tuned].map((m) => [m.id, m.id + (m.owned_by ? " (" + m.owned_by + ")" : "")]), null);
        fineTune = files.filter((f) => !f.purpose || f.purpose === "fine-tune");
        baseModels = models;
        const about = (f) => (f.whet && f.whet.examples !== undefined ? " (" + plural(f.whet.examples, "example") + (f.whet.task ? ", " + f.whet.task : "") + ")" : "");
        const roleOf = (f) => (f.whet && f.whet.role) || "train";
        // Each list offers first the files uploaded for it; the training field starts on the newest
        // training file, never on a validation or test file.
        const ordered = (want) => [...fineTune.filter((f) => roleOf(f) === want), ...fineTune.filter((f) => roleOf(f) !== want)];
        const item = (f) => [f.id, f.filename + about(f) + (roleOf(f) !== "train" ? " · " + roleName(roleOf(f)) + " file" : "")];
        fill(training, ordered("train").map(item), fineTune.length ? null : "no files: upload one first");
        fill(validation, ordered("validation").map(item), "none (hold a tenth of the training file out)");
        const firstTrain = fineTune.find((f) => roleOf(f) === "train");
        training.value = firstTrain ? firstTrain.id : "";
        const trainFile = fineTune.find((f) => f.id === training.value);
        const firstVal = fineTune.find((f) => roleOf(f) === "validation" && trainFile && f.whet && f.whet.task === trainFile.whet.task);
        validation.value = firstVal ? firstVal.id : "";
        // Generative data (chat, completions, instructions, preference pairs) trains a decoder.
        if (trainFile && trainFile.whet && ["chat", "generate", "instruct", "preference"].includes(trainFile.whet.task)) {
          const decoder = bases.find((m) => m.whet && m.whet.kind === "decoder");
          if (decoder) model.value = decoder.id;
        }
        const wanted = params.get("training_file");
        if (wanted) training.value = wanted;
        if (params.get("validation_file")) validation.value = params.get("validation_file");
        if (params.get("model")) model.value = params.get("model");
        if (params.get("clone")) await cloneFrom(params.get("clone"));
        checkForm();
        refreshPlan();
      } catch (e) {
        if (e.name !== "AbortError") error.append(errorBox(e));
      }
    })();

    let fineTune = [];
    let baseModels = [];
    // Warnings while the form is filled in: what would make a useless or surprising job.
    function checkForm() {
      const notes = [];
      const train = fineTune.find((f) => f.id === training.value);
      const val = fineTune.find((f) => f.id === validation.value);
      const base = baseModels.find((m) => m.id === model.value);
      if (train && val && train.id === val.id) notes.push("The training and validation files are the same file: validation would measure memorisation. Choose another validation file, or none to hold a tenth out.");
      else if (train && val && train.whet && val.whet && train.whet.task !== val.whet.task) notes.push("The validation file holds " + val.whet.task + " records, the training file " + train.whet.task + ".");
      if (train && train.whet && ["validation", "test"].includes(train.whet.role)) notes.push(train.filename + " was uploaded as a " + roleName(train.whet.role) + " file: training on it leaves nothing honest to measure with.");
      if (train && train.whet && typeof train.whet.examples === "number") {
        const n = train.whet.examples;
        const small = { tokens: 200, similarity: 200, embed: 200 }[train.whet.task] || 100;
        if (n < small) notes.push(train.filename + " has only " + plural(n, "example") + ": expect a weak model" + (["classify", "pair"].includes(train.whet.task) ? " — method SetFit, or the linear probe the evaluation reports, may serve better." : "."));
      }
      if (!val && train) notes.push("No validation file: a tenth of " + train.filename + " will be held out (stratified by label) to measure the model.");
      if (base && base.whet && base.whet.ready === false) notes.push(base.id + " is not on this server yet: the job first fetches it (" + (base.whet.source || "its registry") + ").");
      clear(warnings);
      for (const n of notes) warnings.append(h("li", { text: n }));
      warnings.hidden = notes.length === 0;
    }
    for (const el of [model, training, validation]) el.addEventListener("change", checkForm);

    // Clone and edit: the form starts from another job's request (its own values, not what auto
    // resolved to, so that auto stays auto).
    async function cloneFrom(jobId) {
      const job = await api("/v1/fine_tuning/jobs/" + encodeURIComponent(jobId), { signal });
      const req = (job.whet && job.whet.request) || {};
      model.value = job.model;
      training.value = job.training_file || "";
      validation.value = job.validation_file || "";
      const hp = req.hyperparameters || {};
      epochs.value = hp.n_epochs === undefined || hp.n_epochs === "auto" ? "" : String(hp.n_epochs);
      batch.value = hp.batch_size === undefined || hp.batch_size === "auto" ? "" : String(hp.batch_size);
      lrm.value = hp.learning_rate_multiplier === undefined || hp.learning_rate_multiplier === "auto" ? "" : String(hp.learning_rate_multiplier);
      suffix.value = job.suffix || "";
      seed.value = job.seed === null || job.seed === undefined ? "" : String(job.seed);
      const options = Object.assign({}, job.whet.options || {});
      if (hp.beta !== undefined && hp.beta !== "auto") options.dpo = Object.assign({}, options.dpo, { beta: hp.beta });
      task.value = options.task || "";
      method.value = options.method || "";
      delete options.task;
      delete options.method;
      extra.value = Object.keys(options).length ? JSON.stringify(options) : "";
      cloned.textContent = "Cloned from job " + jobName(job) + ": change what you want, then start it.";
      cloned.hidden = false;
    }

    const auto = (input, parse) => {
      const raw = input.value.trim();
      if (raw === "" || raw === "auto") return "auto";
      const v = parse(raw);
      if (!Number.isFinite(v) || v <= 0) throw new Error(input.labels[0].textContent + ": enter a positive number or leave it empty for auto.");
      return v;
    };

    // The request the form describes; throws with a message naming the field at fault.
    function requestBody() {
      if (!model.value) throw new Error("Choose a base model.");
      if (!training.value) throw new Error("Choose a training file (upload one first).");
      const hyperparameters = {
        n_epochs: auto(epochs, (x) => (/^\d+$/.test(x) ? Number(x) : NaN)),
        batch_size: auto(batch, (x) => (/^\d+$/.test(x) ? Number(x) : NaN)),
        learning_rate_multiplier: auto(lrm, Number),
      };
      const whet = {};
      if (extra.value.trim()) {
        let parsed;
        try {
          parsed = JSON.parse(extra.value);
        } catch (e) {
          throw new Error("More Whet options is not valid JSON: " + e.message);
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("More Whet options must be a JSON object.");
        Object.assign(whet, parsed);
      }
      if (task.value) whet.task = task.value;
      if (method.value) whet.method = method.value;
      // Preference pairs train with DPO, OpenAI's method for them; everything else is supervised.
      const trainFile = fineTune.find((f) => f.id === training.value);
      const dpo = task.value === "dpo" || (!task.value && trainFile && trainFile.whet && trainFile.whet.task === "preference");
      const type = dpo ? "dpo" : "supervised";
      if (dpo) delete whet.task; // the method says it
      const body = { model: model.value, training_file: training.value, method: { type, [type]: { hyperparameters } } };
      if (validation.value) body.validation_file = validation.value;
      if (suffix.value.trim()) body.suffix = suffix.value.trim();
      if (seed.value.trim()) {
        if (!/^\d+$/.test(seed.value.trim())) throw new Error("Seed: enter a whole number or leave it empty.");
        body.seed = Number(seed.value.trim());
      }
      if (Object.keys(whet).length) body.whet = whet;
      return body;
    }

    // What the job would be: every auto resolved and its estimated time and memory, refreshed as
    // the form changes (POST /v1/whet/jobs/plan runs creation's checks and stores nothing).
    let planTimer = null;
    let planSeq = 0;
    function refreshPlan() {
      clearTimeout(planTimer);
      planTimer = setTimeout(async () => {
        const seq = ++planSeq;
        let body;
        try {
          body = requestBody();
        } catch (e) {
          clear(plan).append(h("p", { class: "muted", text: e.message }));
          return;
        }
        try {
          const p = await api("/v1/whet/jobs/plan", { body, signal });
          if (seq !== planSeq) return;
          const r = p.resolved;
          const hp = body.method[body.method.type].hyperparameters;
          const tag = (v) => (v === "auto" ? " (auto)" : "");
          clear(plan).append(
            h("p", {}, h("strong", { text: "This job: " }), r.task + ", " + r.method + ", " + fmtNum(r.n_epochs) + " epochs" + tag(hp.n_epochs) + ", batch " + r.batch_size + tag(hp.batch_size) + ", learning rate " + fmtNum(r.learning_rate) + tag(hp.learning_rate_multiplier) + ", " + r.precision + ", selected by " + (METRIC_NAMES[r.metric] || r.metric.replace(/_/g, " ")) + "; " + plural(r.training_examples, "training example") + (r.held_out_examples ? " (" + fmtNum(r.held_out_examples) + " held out to validate)" : "") + "."),
            h("p", {}, h("strong", { text: "Estimate: " }), p.estimate.description + " on this server; " + fmtBytes(p.estimate.disk_bytes) + " of disk."),
          );
        } catch (e) {
          if (e.name === "AbortError" || seq !== planSeq) return;
          clear(plan).append(h("p", { class: "chance-warning", text: "As filled in, the server would refuse this job: " + e.message }));
        }
      }, 250);
    }
    form.addEventListener("input", refreshPlan);
    form.addEventListener("change", refreshPlan);

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clear(error);
      let body;
      try {
        body = requestBody();
      } catch (e) {
        error.append(errorBox(e));
        return;
      }
      submit.disabled = true;
      try {
        const job = await api("/v1/fine_tuning/jobs", { body, signal });
        location.hash = routeHref("jobs", job.id);
      } catch (e) {
        if (e.name !== "AbortError") error.append(errorBox(e));
      } finally {
        submit.disabled = false;
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Models.

  function modelsPage(main, { signal }) {
    const box = h("div", { id: "models" }, h("p", { class: "muted", text: "loading…" }));
    const tryBox = h("div", { id: "models-try" });
    main.append(h("h1", { text: "Models" }), h("section", { class: "card" }, box), tryBox);
    async function load() {
      try {
        const models = await listAll("/v1/models", signal, 1);
        const tbody = h("tbody");
        for (const m of models) {
          const tuned = String(m.id).startsWith("ft:");
          // whet.kind says which endpoint serves the model: classifiers classify, decoders chat,
          // encoders embed.
          const kind = (m.whet && m.whet.kind) || (tuned ? "classifier" : "encoder");
          const task = kind === "classifier" ? "classify" : kind === "decoder" ? "sft" : null;
          const tryButton = h("button", { type: "button", class: "link", text: TRY_MODES[tryMode(task)].button + "…", "aria-label": "Try " + m.id });
          tryButton.addEventListener("click", () => {
            clear(tryBox).append(h("section", { class: "card" }, h("h2", {}, "Try ", h("code", { text: m.id })), tryItBox(m.id, task, signal)));
            tryBox.querySelector("textarea").focus();
          });
          const actions = h("span", {}, tryButton);
          if (tuned) {
            const del = h("button", { type: "button", class: "link danger", text: "Delete", "aria-label": "Delete " + m.id });
            del.addEventListener("click", async () => {
              if (!(await confirmDialog("Delete the model " + m.id + " and its checkpoints? This cannot be undone.", "Delete model"))) return;
              del.disabled = true;
              try {
                await api("/v1/models/" + encodeURIComponent(m.id), { method: "DELETE", signal });
                load();
              } catch (e) {
                if (e.name !== "AbortError") flash("Could not delete " + m.id + ": " + e.message, "error");
                del.disabled = false;
              }
            });
            actions.append(" ", del);
          }
          tbody.append(h("tr", {}, h("td", {}, h("span", { class: "mono", text: m.id }), h("div", { class: "row-actions" }, actions)), h("td", { text: m.owned_by || "—" }), h("td", { text: m.created ? fmtTime(m.created) : "built in" })));
        }
        clear(box).append(h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["Model", "Owner", "Created"].map((t) => h("th", { scope: "col", text: t })))), tbody)));
      } catch (e) {
        if (e.name !== "AbortError") clear(box).append(errorBox(e));
      }
    }
    load();
  }

  // ---------------------------------------------------------------------------------------------

  document.getElementById("logout").addEventListener("click", () => {
    localStorage.removeItem(KEY_STORAGE);
    flash("Logged out.", "info");
    if (location.hash === "#/login") route();
    else location.hash = "#/login";
  });
  window.addEventListener("hashchange", () => {
    if (!location.hash.startsWith("#/login")) flash("");
    route();
  });
  route();
})();
