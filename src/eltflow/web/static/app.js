// The eltflow console: a small hash-routed page over the JSON API (/api/...).
"use strict";

const App = (() => {
  const $app = document.getElementById("app");
  let timer = null;
  let token = new URLSearchParams(location.search).get("token") || sessionStorage.getItem("eltflow-token") || "";
  if (token) sessionStorage.setItem("eltflow-token", token);

  class Unauthorized extends Error {}

  // State-changing requests carry this browser session's CSRF token (GET /api/csrf, which also
  // sets the session cookie); a server restart makes the old one stale: ask again, once.
  let csrf = null;
  const csrfToken = (fresh = false) => {
    if (!csrf || fresh) csrf = api("/csrf").then((r) => r.token).catch((e) => { csrf = null; throw e; });
    return csrf;
  };
  async function api(path, opts = {}, retried = false) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const method = (opts.method || "GET").toUpperCase();
    if (!["GET", "HEAD", "OPTIONS"].includes(method)) headers["X-Eltflow-CSRF"] = await csrfToken();
    const res = await fetch(`/api${path}`, { ...opts, headers });
    const text = await res.text();
    let body = {};
    try { body = text ? JSON.parse(text) : {}; } catch { body = { message: text }; }
    if (res.status === 401) throw new Unauthorized(body.message || "a token is required");
    if (res.status === 403 && body.code === "CsrfTokenInvalid" && !retried) { await csrfToken(true); return api(path, opts, true); }
    if (!res.ok) throw new Error(`${body.code || res.status}: ${body.message || res.statusText}`);
    return body;
  }

  // The server demands a token (it listens beyond loopback): ask for it once per tab.
  function tokenPage(message) {
    live(false);
    const input = h("input", { id: "token-input", type: "password", placeholder: "token", size: 40 });
    const go = h("button", { class: "primary", id: "btn-token", type: "submit" }, "Sign in");
    const form = h("form", { class: "card", id: "token-form" }, h("h1", {}, "Token required"),
      h("p", { class: "muted" }, token ? `The token was refused: ${message}` : "This eltflow server requires a token (eltflow serve --token / ELTFLOW_TOKEN)."),
      input, " ", go);
    form.onsubmit = (ev) => { ev.preventDefault(); token = input.value.trim(); sessionStorage.setItem("eltflow-token", token); route(); };
    $app.replaceChildren(form);
    input.focus();
  }

  function h(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  const badge = (s) => h("span", { class: `status ${s}` }, s);
  const fmt = (t) => (t ? new Date(t).toLocaleString() : "—");
  // With milliseconds, for events: several happen within one second.
  const fmtMs = (t) => {
    if (!t) return "—";
    const d = new Date(t);
    return `${d.toLocaleDateString()} ${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
  };
  // Event details with their JSON-in-a-string fields (input, output, cause...) parsed, so
  // they print as nested JSON that wraps instead of one escaped line.
  const deepParse = (v) => {
    if (typeof v === "string" && /^\s*[[{]/.test(v)) { try { return deepParse(JSON.parse(v)); } catch { return v; } }
    if (Array.isArray(v)) return v.map(deepParse);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepParse(x)]));
    return v;
  };
  // The state each event belongs to: its own name, else that of the event it follows
  // (previousEventId), so TaskScheduled/TaskFailed... name their Task state.
  function stepNames(events) {
    const byId = new Map(events.map((e) => [e.id, e]));
    const names = new Map();
    const detailOf = (e) => { const k = Object.keys(e).find((x) => x.endsWith("EventDetails")); return k ? e[k] : {}; };
    const nameOf = (e) => {
      const trail = [];
      let cur = e, found = "";
      while (cur) {
        if (names.has(cur.id)) { found = names.get(cur.id); break; }
        const d = detailOf(cur) || {};
        if (typeof d.name === "string") { found = d.index !== undefined ? `${d.name}[${d.index}]` : d.name; trail.push(cur.id); break; }
        if (cur.type.startsWith("Execution")) { trail.push(cur.id); break; }
        trail.push(cur.id);
        cur = byId.get(cur.previousEventId);
      }
      for (const id of trail) names.set(id, found);
      return found;
    };
    for (const e of events) nameOf(e);
    return names;
  }
  // A duration: milliseconds (as `small` writes them) below a second, then seconds, then minutes.
  const msText = (ms, small = String) =>
    ms < 1000 ? `${small(ms)} ms` : ms < 60000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.floor(ms / 60000)} m ${Math.round((ms % 60000) / 1000)} s`;
  const dur = (a, b) => {
    if (!a) return "—";
    return msText((b ? new Date(b) : new Date()) - new Date(a));
  };
  const pretty = (v) => {
    if (v === null || v === undefined) return "—";
    try { return JSON.stringify(typeof v === "string" ? JSON.parse(v) : v, null, 2); } catch { return String(v); }
  };
  // A Lambda error's cause is its JSON error object (errorMessage, errorType, stackTrace...):
  // show the message, and the whole object only on request.
  function causeView(cause) {
    if (!cause) return [];
    let parsed = null;
    try { parsed = JSON.parse(cause); } catch { /* plain text */ }
    if (!parsed || typeof parsed !== "object" || typeof parsed.errorMessage !== "string") return [h("span", { class: "cause" }, cause)];
    return [h("span", { class: "cause" }, parsed.errorMessage), h("details", { class: "cause-full" }, h("summary", {}, "full cause"), h("pre", {}, pretty(parsed)))];
  }
  // Dark mode: the system's (prefers-color-scheme) unless the header's toggle chose one; the
  // choice is kept per browser (localStorage) and applied as <html data-theme>.
  const THEMES = { auto: "◐ auto", dark: "☾ dark", light: "☀ light" };
  function theme(next) {
    const root = document.documentElement, button = document.getElementById("theme-toggle");
    const chosen = next in THEMES ? next : "auto";
    if (chosen === "auto") delete root.dataset.theme; else root.dataset.theme = chosen;
    try { if (chosen === "auto") localStorage.removeItem("eltflow-theme"); else localStorage.setItem("eltflow-theme", chosen); } catch { /* storage off: this page only */ }
    if (button) { button.textContent = THEMES[chosen]; button.dataset.theme = chosen; button.title = `colour scheme: ${chosen} (click to change)`; }
  }
  {
    let saved = "auto";
    try { saved = localStorage.getItem("eltflow-theme") || "auto"; } catch { /* storage off */ }
    theme(saved);
    const order = Object.keys(THEMES);
    const button = document.getElementById("theme-toggle");
    if (button) button.onclick = () => theme(order[(order.indexOf(button.dataset.theme) + 1) % order.length]);
  }
  function toast(msg) {
    const t = document.getElementById("toast");
    t.textContent = msg; t.hidden = false;
    setTimeout(() => (t.hidden = true), 3500);
  }
  function live(on, fn, ms = 1500) {
    clearInterval(timer); timer = null;
    document.getElementById("live").classList.toggle("on", !!on);
    if (!on) return;
    let busy = false; // a tick still waiting for its answers: skip, don't pile requests up
    timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try { await fn(); } catch { /* the next tick tries again */ } finally { busy = false; }
    }, ms);
  }
  // Every fetch-then-paint takes a ticket and paints only if no later one was taken since: a
  // slow answer (a live-refresh tick overtaken by a button's refresh, or a page left in the
  // meantime) must never paint over a newer one, nor restart the old page's timer.
  let ticket = 0, routeNo = 0;
  const take = () => { const t = ++ticket; return () => t === ticket; };
  const enc = encodeURIComponent;

  // ---- executions list ---------------------------------------------------------------------
  // A run the reference pipeline skipped because its job was busy (or failed) SUCCEEDED, as on
  // AWS; the pipeline says so in its output ({"outcome": "SKIPPED", "reason": ...}) and in its
  // run-history row (outcome SKIPPED). The list reads the run history (/api/jobs), the
  // execution page the output.
  const skippedOf = (ex) => {
    try { const o = typeof ex.output === "string" ? JSON.parse(ex.output) : ex.output; return o && o.outcome === "SKIPPED" ? (o.reason || "job busy") : null; } catch { return null; }
  };
  const skippedBadge = (reason) => h("span", { class: "flag skipped", title: `skipped: ${reason}` }, "skipped");
  let skippedRuns = { at: 0, arns: new Map() };
  async function skippedArns() {
    if (Date.now() - skippedRuns.at < 10000) return skippedRuns.arns;
    const arns = new Map();
    try {
      const data = await api("/jobs");
      for (const r of data.runs || []) if (String(r.outcome).toUpperCase() === "SKIPPED") arns.set(r.execution_arn, r.error || "the job was busy");
    } catch { /* a project without jobs: nothing is skipped */ }
    skippedRuns = { at: Date.now(), arns };
    return arns;
  }

  async function executionsPage(params) {
    const route0 = routeNo, current = take();
    const machines = (await api("/state-machines")).stateMachines || [];
    if (!current()) return;
    const PAGE = 50;
    const statusSel = h("select", { id: "f-status" }, ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"].map((s) => h("option", { value: s }, s || "any status")));
    const machineSel = h("select", { id: "f-machine" }, h("option", { value: "" }, "any state machine"), machines.map((m) => h("option", { value: m.name }, m.name)));
    const search = h("input", { id: "f-name", type: "search", placeholder: "search by name" });
    // Started between two local times (the browser's zone), sent to the API as UTC instants.
    const from = h("input", { id: "f-from", type: "datetime-local", step: 1, title: "started at or after" });
    const to = h("input", { id: "f-to", type: "datetime-local", step: 1, title: "started at or before" });
    statusSel.value = params.get("status") || ""; machineSel.value = params.get("machine") || ""; search.value = params.get("name") || "";
    from.value = params.get("from") || ""; to.value = params.get("to") || "";
    const instant = (local) => { const d = new Date(local); return Number.isNaN(d.getTime()) ? null : d.toISOString(); };
    const body = h("tbody");
    // tokens[i] is the nextToken that opens page i (page 0 has none).
    let tokens = [null], pageNo = 0;
    const onFilter = () => { location.hash = `#/executions?status=${enc(statusSel.value)}&machine=${enc(machineSel.value)}&name=${enc(search.value.trim())}&from=${enc(from.value)}&to=${enc(to.value)}`; };
    statusSel.onchange = onFilter; machineSel.onchange = onFilter; from.onchange = onFilter; to.onchange = onFilter;
    search.onkeydown = (ev) => { if (ev.key === "Enter") onFilter(); };
    search.onsearch = onFilter;
    const prev = h("button", { id: "exec-prev", disabled: true }, "‹ Newer");
    const next = h("button", { id: "exec-next", disabled: true }, "Older ›");
    const where = h("span", { id: "exec-page" }, "");
    prev.onclick = () => { if (pageNo > 0) { pageNo -= 1; refresh(); } };
    next.onclick = () => { if (tokens[pageNo + 1]) { pageNo += 1; refresh(); } };
    $app.replaceChildren(
      h("h1", {}, "Executions"),
      h("div", { class: "filters" }, search, machineSel, statusSel, h("label", { class: "range" }, "from ", from), h("label", { class: "range" }, "to ", to)),
      h("table", { id: "executions" }, h("thead", {}, h("tr", {}, ["Name", "State machine", "Status", "Started", "Duration"].map((c) => h("th", {}, c)))), body),
      h("div", { class: "pager" }, prev, where, next),
    );
    async function refresh() {
      const q = new URLSearchParams({ maxResults: String(PAGE) });
      if (statusSel.value) q.set("statusFilter", statusSel.value);
      if (machineSel.value) q.set("stateMachine", machineSel.value);
      if (search.value.trim()) q.set("name", search.value.trim());
      if (from.value && instant(from.value)) q.set("startedAfter", instant(from.value));
      if (to.value && instant(to.value)) q.set("startedBefore", instant(to.value));
      if (tokens[pageNo]) q.set("nextToken", tokens[pageNo]);
      const current = take();
      const [data, skipped] = await Promise.all([api(`/executions?${q}`), skippedArns()]);
      if (!current()) return;
      tokens = tokens.slice(0, pageNo + 1);
      if (data.nextToken) tokens.push(data.nextToken);
      const rows = data.executions || [];
      body.replaceChildren(...rows.map((e) => {
        const skip = skipped.get(e.executionArn);
        const tr = h("tr", { class: "clickable", "data-arn": e.executionArn }, h("td", {}, e.name), h("td", {}, e.stateMachineArn.split(":").pop()), h("td", {}, badge(e.status), skip ? [" ", skippedBadge(skip)] : null), h("td", {}, fmt(e.startDate)), h("td", {}, dur(e.startDate, e.stopDate)));
        tr.onclick = () => (location.hash = `#/execution/${enc(e.executionArn)}`);
        return tr;
      }));
      if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, search.value.trim() || statusSel.value || machineSel.value || from.value || to.value ? "No executions match." : "No executions yet. Start one from a state machine page or with `eltflow start`.")));
      prev.disabled = pageNo === 0;
      next.disabled = !data.nextToken;
      where.textContent = ` Page ${pageNo + 1} · ${rows.length} shown `;
    }
    await refresh();
    // Only the first page refreshes itself: new executions arrive at its top.
    if (route0 === routeNo) live(true, async () => { if (pageNo === 0) await refresh(); });
  }

  // ---- one execution -----------------------------------------------------------------------
  // The whole history, page by page (an execution has at most 25,000 events).
  async function allEvents(arn) {
    const out = [];
    let next = null;
    do {
      const q = new URLSearchParams({ maxResults: "1000" });
      if (next) q.set("nextToken", next);
      const page = await api(`/executions/${enc(arn)}/history?${q}`);
      out.push(...(page.events || []));
      next = page.nextToken || null;
    } while (next && out.length < 25000);
    return out;
  }

  async function executionPage(arn) {
    let selected = null, tab = "graph", eventPage = 0, picks = {};
    const EVENTS_PER_PAGE = 25; // as the Step Functions console pages its event view
    const head = h("div"), graphBox = h("div", { class: "graph", id: "graph" }), detail = h("div", { class: "card", id: "state-detail" }, h("p", { class: "muted" }, "Select a state to see its input and output."));
    const tabs = h("div", { class: "tabs" }), tabBody = h("div");
    // Nested-workflow links and tasks waiting for a token: their own box (executionExtras).
    const extras = h("div", { id: "exec-extras" }), paintExtras = executionExtras(arn, extras, () => refresh());
    $app.replaceChildren(head, extras, tabs, tabBody);
    async function refresh() {
      const current = take();
      // Per-state runs come folded from the server (the same fold the CLI prints).
      const [ex, events, def, states] = await Promise.all([
        api(`/executions/${enc(arn)}`), allEvents(arn), api(`/executions/${enc(arn)}/definition`),
        api(`/executions/${enc(arn)}/states`),
      ]);
      if (!current()) return;
      const { runs } = states;
      paintExtras(current).catch((e) => toast(e.message));
      const stop = h("button", { class: "danger", id: "btn-stop", disabled: ex.status !== "RUNNING" }, "Stop");
      stop.onclick = async () => { try { await api(`/executions/${enc(arn)}/stop`, { method: "POST", body: "{}" }); toast("Stop requested"); refresh(); } catch (e) { toast(e.message); } };
      const redrive = h("button", { class: "primary", id: "btn-redrive", disabled: !["FAILED", "ABORTED", "TIMED_OUT"].includes(ex.status) }, "Redrive");
      redrive.onclick = async () => { try { await api(`/executions/${enc(arn)}/redrive`, { method: "POST", body: "{}" }); toast("Redriven"); refresh(); } catch (e) { toast(e.message); } };
      head.replaceChildren(
        h("h1", {}, ex.name, " ", badge(ex.status), skippedOf(ex) ? [" ", skippedBadge(skippedOf(ex))] : null),
        h("div", { class: "card row" },
          h("div", { class: "grow" },
            h("div", {}, h("b", {}, "State machine: "), h("a", { href: `#/machine/${enc(ex.stateMachineArn.split(":").pop())}` }, ex.stateMachineArn.split(":").pop())),
            h("div", {}, h("b", {}, "Started: "), fmt(ex.startDate), "  ", h("b", {}, "Duration: "), dur(ex.startDate, ex.stopDate)),
            h("div", {}, h("b", {}, "Redrives: "), String(ex.redriveCount || 0)),
            ex.error ? h("div", { id: "exec-error" }, h("b", {}, "Error: "), ex.error, ex.cause ? " — " : "", causeView(ex.cause)) : null),
          h("div", {}, stop, " ", redrive)),
      );
      tabs.replaceChildren(...[["graph", "Graph"], ["timeline", "Timeline"], ["table", "States"], ["events", `Events (${events.length})`], ["logs", "Logs"], ["sql", "SQL"], ["io", "Input / output"]].map(([k, label]) => {
        const b = h("button", { class: tab === k ? "active" : "", "data-tab": k }, label);
        b.onclick = () => { tab = k; refresh(); };
        return b;
      }));
      if (tab === "graph") {
        // A Map's iteration picker narrows the graph and the state panel to one iteration.
        const view = Graph.iterationView(states, picks, (next) => { picks = next; refresh(); });
        Graph.render(graphBox, def.definition, view.status, (name) => { selected = name; refresh(); }, selected, { runs: view.runs, note: view.note });
        const runsOf = view.runs.filter((r) => r.name === selected);
        detail.replaceChildren(...(selected ? [h("h2", {}, selected), ...[view.picker(selected)].filter(Boolean), ...(runsOf.length ? [] : [h("p", { class: "muted" }, "Not reached in this execution.")]), ...runsOf.map((r) => h("div", { class: "run" }, badge(r.status), " ", dur(r.start, r.end), r.iteration && r.iteration.length ? h("span", { class: "muted run-iteration" }, ` · in ${Graph.pathText(r.iteration)}`) : null, r.retries ? ` · ${r.retries} retr${r.retries > 1 ? "ies" : "y"}` : "",
          r.error ? h("div", { class: "run-error" }, h("b", {}, r.error), r.cause ? ": " : "", causeView(r.cause)) : null,
          h("div", { class: "row" }, h("div", { class: "grow" }, h("b", {}, "Input"), h("pre", { class: "wrap state-input" }, pretty(r.input))), h("div", { class: "grow" }, h("b", {}, "Output"), h("pre", { class: "wrap state-output" }, pretty(r.output))))))] : [h("p", { class: "muted" }, "Select a state to see its input and output.")]));
        if (selected && runsOf.length) stateExtras(arn, selected, detail, () => current() && tab === "graph");
        tabBody.replaceChildren(
          h("div", { class: "legend" }, ["SUCCEEDED", "FAILED", "RUNNING", "CAUGHT", "NOT_REACHED"].map((s) => badge(s)), view.banner()),
          h("div", { class: "row" }, h("div", { class: "grow" }, graphBox), h("div", { class: "side", style: "width:420px" }, detail)));
      } else if (tab === "timeline") {
        Timeline.render(tabBody, runs, ex, (name) => { selected = name; tab = "graph"; refresh(); });
      } else if (tab === "table") {
        const t0 = runs.length ? new Date(runs[0].start) : new Date();
        const tEnd = ex.stopDate ? new Date(ex.stopDate) : new Date();
        const span = Math.max(1, tEnd - t0);
        tabBody.replaceChildren(h("table", { id: "state-table" }, h("thead", {}, h("tr", {}, ["State", "Type", "Status", "Started", "Duration", "Timeline"].map((c) => h("th", {}, c)))),
          h("tbody", {}, runs.map((r) => {
            const left = ((new Date(r.start) - t0) / span) * 100, width = Math.max(0.5, (((r.end ? new Date(r.end) : tEnd) - new Date(r.start)) / span) * 100);
            const color = { SUCCEEDED: "var(--ok)", FAILED: "var(--fail)", RUNNING: "var(--run)", CAUGHT: "var(--caught)" }[r.status] || "var(--idle)";
            return h("tr", {}, h("td", {}, r.name), h("td", {}, r.type), h("td", {}, badge(r.status)), h("td", {}, fmt(r.start)), h("td", {}, dur(r.start, r.end)),
              h("td", {}, h("div", { class: "timeline" }, h("span", { style: `left:${left}%;width:${width}%;background:${color}` }))));
          }))));
      } else if (tab === "events") {
        const pages = Math.max(1, Math.ceil(events.length / EVENTS_PER_PAGE));
        eventPage = Math.min(eventPage, pages - 1);
        const shown = events.slice(eventPage * EVENTS_PER_PAGE, (eventPage + 1) * EVENTS_PER_PAGE);
        const pageButton = (label, to, id) => {
          const b = h("button", { id, disabled: to < 0 || to >= pages }, label);
          b.onclick = () => { eventPage = to; refresh(); };
          return b;
        };
        const pager = h("div", { class: "pager" }, pageButton("‹ Previous", eventPage - 1, "events-prev"), ` Page ${eventPage + 1} of ${pages} · ${events.length} events (AWS keeps at most 25,000) `, pageButton("Next ›", eventPage + 1, "events-next"));
        const steps = stepNames(events);
        tabBody.replaceChildren(pager, h("table", { id: "events" }, h("thead", {}, h("tr", {}, ["ID", "Type", "Step", "Timestamp", "Details"].map((c) => h("th", {}, c)))),
          h("tbody", {}, shown.map((e) => {
            const detailsKey = Object.keys(e).find((k) => k.endsWith("EventDetails"));
            const d = detailsKey ? e[detailsKey] : null;
            const kind = /(Failed|TimedOut|Aborted)$/.test(e.type) ? "ev-fail" : /Succeeded$/.test(e.type) ? "ev-ok" : "";
            return h("tr", { class: kind, "data-event": String(e.id) }, h("td", {}, String(e.id)), h("td", {}, e.type), h("td", { class: "ev-step" }, steps.get(e.id) || ""), h("td", { class: "ev-time" }, fmtMs(e.timestamp)), h("td", {}, d ? h("pre", { class: "wrap" }, JSON.stringify(deepParse(d), null, 2)) : ""));
          }))));
      } else if (tab === "logs") {
        // What the Lambda handlers printed and logged, one block per invocation (CloudWatch
        // Logs' place on AWS).
        const data = await api(`/executions/${enc(arn)}/logs`);
        if (!current()) return;
        const records = data.logs || [];
        tabBody.replaceChildren(h("div", { id: "logs" }, records.length ? records.map((r) => h("div", { class: "card log", "data-state": r.state },
          h("div", { class: "muted" }, fmtMs(r.timestamp), " · ", h("b", {}, r.state), " · ", r.function, " · ", r.requestId, r.error ? [" · ", h("span", { class: "run-error" }, r.error)] : null),
          h("pre", { class: "wrap" }, r.text || "(no output)"))) : h("p", { class: "muted" }, "No logs: no Lambda handler of this execution printed or logged anything. A handler's print() and logging records appear here (and in `eltflow logs ARN`).")));
      } else if (tab === "sql") {
        await sqlTab(arn, tabBody, current);
      } else {
        tabBody.replaceChildren(h("div", { class: "row" }, h("div", { class: "grow card" }, h("h2", {}, "Input"), h("pre", { class: "wrap", id: "exec-input" }, pretty(ex.input))), h("div", { class: "grow card" }, h("h2", {}, "Output"), h("pre", { class: "wrap", id: "exec-output" }, pretty(ex.output)))));
      }
      live(ex.status === "RUNNING", refresh, 1000);
    }
    await refresh();
  }

  // ---- nested executions and task tokens (the execution page's extras box) -------------------
  // The parent this execution was started by (AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID in its
  // input), the children its states:startExecution tasks started, and its tasks waiting for a
  // token with Send success / Send failure (SendTaskSuccess/Failure, as `eltflow tasks`). A
  // waiting task's row is kept across live refreshes (keyed by token), so typed output survives.
  const linkTo = (x, cls) => h("span", {}, h("a", { href: `#/execution/${enc(x.executionArn)}`, class: cls, "data-arn": x.executionArn }, `${x.executionArn.split(":").slice(-2).join(" / ")}`), " ", x.status ? badge(x.status) : h("span", { class: "muted" }, "(gone)"));
  const untilText = (t) => {
    if (!t) return "—";
    const s = Math.round((new Date(t) - new Date()) / 1000);
    return `${fmtMs(t)} (${s >= 0 ? `in ${s < 120 ? `${s} s` : `${Math.round(s / 60)} min`}` : "passed"})`;
  };
  function executionExtras(arn, box, refreshPage) {
    const rows = new Map(); // token -> { tr, beat, timeout }
    const linksBox = h("div", { id: "exec-links" }), tasksBody = h("tbody");
    const tasksCard = h("div", { class: "card", id: "waiting-tasks", hidden: true }, h("h2", {}, "Tasks waiting for their token"),
      h("table", {}, h("thead", {}, h("tr", {}, ["State", "Task token", "Heartbeat deadline", "Timeout", "Answer"].map((c) => h("th", {}, c)))), tasksBody));
    box.replaceChildren(linksBox, tasksCard);
    async function send(kind, body, problem) {
      problem.hidden = true;
      try {
        await api(`/tasks/${kind}`, { method: "POST", body: JSON.stringify(body) });
        toast(kind === "success" ? "Task success sent" : "Task failure sent");
        refreshPage();
      } catch (e) { problem.textContent = e.message; problem.hidden = false; }
    }
    function taskRow(t) {
      const output = h("textarea", { rows: 2, class: "task-output", placeholder: "output (JSON)" }, "{}");
      const error = h("input", { class: "task-error", placeholder: "error" }), cause = h("input", { class: "task-cause", placeholder: "cause" });
      const problem = h("div", { class: "form-error", hidden: true });
      output.oninput = () => { problem.hidden = true; };
      const ok = h("button", { class: "primary", "data-action": "success" }, "Send success");
      const fail = h("button", { class: "danger", "data-action": "failure" }, "Send failure");
      ok.onclick = () => {
        try { JSON.parse(output.value); } catch (e) { problem.textContent = `Output is not valid JSON: ${e.message}`; problem.hidden = false; return; }
        send("success", { taskToken: t.taskToken, output: output.value }, problem);
      };
      fail.onclick = () => send("failure", { taskToken: t.taskToken, error: error.value, cause: cause.value }, problem);
      const beat = h("td", { class: "task-heartbeat" }), timeout = h("td", { class: "task-timeout" });
      const tr = h("tr", { "data-token": t.taskToken, "data-state": t.stateName },
        h("td", {}, h("b", {}, t.stateName), t.mapIndex !== null ? ` [${t.mapIndex}]` : "", h("div", { class: "muted" }, t.resource), t.started ? null : h("div", { class: "muted" }, "not yet taken by an activity worker")),
        h("td", {}, h("code", { class: "task-token", title: t.taskToken }, `${t.taskToken.slice(0, 24)}…`), " ", h("button", { class: "copy", onclick: () => navigator.clipboard && navigator.clipboard.writeText(t.taskToken).then(() => toast("Token copied")) }, "Copy")),
        beat, timeout,
        h("td", { class: "task-answer" }, output, h("div", { class: "row" }, ok), h("div", { class: "row" }, error, cause, fail), problem));
      return { tr, beat, timeout };
    }
    return async function paint(current) {
      const [links, waiting] = await Promise.all([api(`/executions/${enc(arn)}/links`), api(`/executions/${enc(arn)}/tasks`)]);
      if (!current()) return;
      const children = links.children || [];
      linksBox.replaceChildren(
        links.parent ? h("div", { id: "exec-parent", class: "card" }, h("b", {}, "Started by: "), linkTo(links.parent, "parent-link")) : "",
        children.length ? h("div", { id: "exec-children", class: "card" }, h("b", {}, "Child executions: "),
          children.map((c) => h("div", { class: "child", "data-state": c.stateName }, h("span", { class: "muted" }, `${c.stateName} → `), linkTo(c, "child-link")))) : "");
      const tasks = waiting.tasks || [];
      const live = new Set(tasks.map((t) => t.taskToken));
      for (const [token, row] of rows) if (!live.has(token)) { row.tr.remove(); rows.delete(token); }
      for (const t of tasks) {
        if (!rows.has(t.taskToken)) { const row = taskRow(t); rows.set(t.taskToken, row); tasksBody.append(row.tr); }
        const row = rows.get(t.taskToken);
        row.beat.textContent = t.heartbeatSeconds ? `${untilText(t.heartbeatDeadline)} · every ${t.heartbeatSeconds} s` : "no HeartbeatSeconds";
        row.timeout.textContent = untilText(t.timeoutDeadline);
      }
      tasksCard.hidden = tasks.length === 0;
    };
  }

  // ---- state machines ----------------------------------------------------------------------
  async function machinesPage() {
    const current = take();
    const data = await api("/state-machines");
    if (!current()) return;
    $app.replaceChildren(h("h1", {}, "State machines"), h("table", { id: "machines" }, h("thead", {}, h("tr", {}, ["Name", "Created", "Versions"].map((c) => h("th", {}, c)))),
      h("tbody", {}, (data.stateMachines || []).map((m) => {
        const tr = h("tr", { class: "clickable" }, h("td", {}, m.name), h("td", {}, fmt(m.creationDate)), h("td", {}, String(m.versionCount || "")));
        tr.onclick = () => (location.hash = `#/machine/${enc(m.name)}`);
        return tr;
      }))));
    live(false);
  }

  async function machinePage(name) {
    const current = take();
    const m = await api(`/state-machines/${enc(name)}`);
    if (!current()) return;
    const def = JSON.parse(m.definition);
    const graphBox = h("div", { class: "graph" });
    Graph.render(graphBox, def, {}, null, null);
    // Prefilled with the input of this machine's newest execution (the usual next run is
    // that one again, or a small edit of it).
    const last = ((await api(`/executions?${new URLSearchParams({ stateMachine: name, maxResults: "1" })}`)).executions || [])[0];
    const lastInput = last ? (await api(`/executions/${enc(last.executionArn)}`)).input : null;
    if (!current()) return;
    const input = h("textarea", { rows: 6, id: "start-input" }, lastInput ? pretty(lastInput) : "{}");
    const inputNote = h("div", { class: "muted", id: "start-input-from" }, last ? ["Input of the last execution, ", h("a", { href: `#/execution/${enc(last.executionArn)}` }, last.name), ":"] : "Input");
    const execName = h("input", { id: "start-name", placeholder: "execution name (optional)" });
    const start = h("button", { class: "primary", id: "btn-start" }, "Start execution");
    const startError = h("div", { class: "form-error", id: "start-error", hidden: true });
    const fail = (msg) => { startError.textContent = msg; startError.hidden = false; };
    start.onclick = async () => {
      startError.hidden = true;
      try {
        JSON.parse(input.value);
      } catch (e) { fail(`Input is not valid JSON: ${e.message}`); return; }
      try {
        const body = { input: input.value };
        if (execName.value) body.name = execName.value;
        const r = await api(`/state-machines/${enc(name)}/executions`, { method: "POST", body: JSON.stringify(body) });
        location.hash = `#/execution/${enc(r.executionArn)}`;
      } catch (e) { fail(e.message); }
    };
    $app.replaceChildren(h("h1", {}, name),
      h("div", { class: "row" },
        h("div", { class: "grow" }, h("h2", {}, "Graph"), graphBox),
        h("div", { class: "card side", style: "width:420px" }, h("h2", {}, "Start an execution"), execName, inputNote, input, startError, h("div", {}, start))),
      h("h2", {}, "Versions"),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Version"), h("th", {}, "Created"))), h("tbody", {}, (m.versions || []).map((v) => h("tr", {}, h("td", {}, String(v.version)), h("td", {}, fmt(v.creationDate)))))),
      h("h2", {}, "Definition"), h("pre", { id: "definition", class: "wrap" }, JSON.stringify(def, null, 2)));
    live(false);
  }

  // ---- jobs (audit items + run history) ------------------------------------------------------
  async function jobsPage(params = new URLSearchParams()) {
    const current = take();
    const data = await api("/jobs");
    if (!current()) return;
    const only = params.get("job") || "";
    const allRuns = data.runs || [];
    const rows = (data.jobs || []).map((j) => {
      const reset = h("button", { "data-job": j.JobID, class: "danger" }, "Reset to Ready");
      reset.onclick = async () => {
        if (!confirm(`Reset job ${j.JobID} to Ready?`)) return;
        try { await api(`/jobs/${enc(j.table)}/${enc(j.JobID)}/reset`, { method: "POST", body: "{}" }); toast("Reset"); jobsPage(params); } catch (e) { toast(e.message); }
      };
      const count = allRuns.filter((r) => String(r.job_id) === String(j.JobID)).length;
      const links = h("div", {},
        j.RunArn ? h("a", { href: `#/execution/${enc(j.RunArn)}`, class: "job-run" }, j.JobState === "Running" ? "running execution →" : "last execution →") : null,
        j.RunArn ? " · " : null,
        h("a", { href: `#/jobs?job=${enc(j.JobID)}`, class: "job-runs", "data-job-runs": j.JobID }, `${count} run${count === 1 ? "" : "s"} in history`));
      return h("tr", { "data-job-row": j.JobID }, h("td", {}, j.table), h("td", {}, j.JobID), h("td", {}, badge(j.JobState === "Ready" ? "SUCCEEDED" : j.JobState === "Running" ? "RUNNING" : "FAILED"), " ", j.JobState), h("td", {}, j.JobStart || "—"), h("td", {}, j.JobEnd || "—"), h("td", {}, j.LeaseUntil || "—"), h("td", {}, j.JobError || ""), h("td", {}, links), h("td", {}, reset));
    });
    const runs = only ? allRuns.filter((r) => String(r.job_id) === only) : allRuns;
    const hist = runs.map((r) => h("tr", {}, h("td", {}, h("a", { href: `#/execution/${enc(r.execution_arn)}` }, r.execution_arn.split(":").pop())), h("td", {}, r.job_id), h("td", {}, r.outcome), h("td", {}, r.started_at || ""), h("td", {}, r.ended_at || ""), h("td", {}, r.rows_loaded ?? ""), h("td", {}, r.error || "")));
    const empty = !rows.length ? h("div", { class: "card empty", id: "jobs-empty" },
      h("b", {}, "No jobs yet. "),
      "A job is an item keyed by ", h("code", {}, "JobID"), " in an item table: its ", h("code", {}, "JobState"), " (Ready / Running / Failed) is the lock that keeps runs of one job from overlapping. ",
      "Declare a table in eltflow.toml (", h("code", {}, "[tables.JobAudit] partition_key = \"JobID\""), ") and put an item: ",
      h("code", {}, `eltflow items put JobAudit --item '{"JobID": "101", "JobState": "Ready"}'`),
      " — or run ", h("code", {}, "eltflow demo"), ", which creates JobID 101 for the reference pipeline.") : null;
    $app.replaceChildren(h("h1", {}, "Jobs"), empty,
      rows.length ? h("table", { id: "jobs" }, h("thead", {}, h("tr", {}, ["Table", "JobID", "JobState", "JobStart", "JobEnd", "Lease until", "Error", "Runs", ""].map((c) => h("th", {}, c)))), h("tbody", {}, rows)) : null,
      h("h2", {}, only ? ["Run history of job ", only, " ", h("a", { href: "#/jobs", id: "runs-all" }, "(all jobs)")] : "Run history"),
      h("table", { id: "runs" }, h("thead", {}, h("tr", {}, ["Execution", "JobID", "Outcome", "Started", "Ended", "Rows", "Error"].map((c) => h("th", {}, c)))),
        h("tbody", {}, hist.length ? hist : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No runs recorded yet: a pipeline writes one row per run (public.etl_run_history for the reference pipeline).")))));
    live(true, async () => { if (location.hash.startsWith("#/jobs")) await jobsPage(params); }, 5000);
  }

  // ---- schedules ---------------------------------------------------------------------------
  async function schedulesPage() {
    const current = take();
    const data = await api("/schedules?next=3&fires=5");
    if (!current()) return;
    const items = data.Schedules || [];
    const rows = items.map((s) => {
      const enabled = s.State === "ENABLED";
      const toggle = h("button", { "data-schedule": s.Name }, enabled ? "Pause" : "Resume");
      toggle.onclick = async () => {
        try { await api(`/schedules/${enc(s.Name)}/${enabled ? "pause" : "resume"}`, { method: "POST", body: "{}" }); toast(enabled ? "Paused" : "Resumed"); await schedulesPage(); } catch (e) { toast(e.message); }
      };
      // One status per fire: the outcome of the execution it started (RUNNING, SUCCEEDED,
      // FAILED...), else the fire's own (SKIPPED, BUFFERED, FAILED).
      const fires = (s.LastFires || []).map((f) => h("div", { class: "fire" }, fmt(f.FireTime), " ", badge(f.Outcome || f.Status),
        f.ExecutionArn ? [" ", h("a", { href: `#/execution/${enc(f.ExecutionArn)}` }, "execution →")] : f.Reason ? h("span", { class: "muted" }, ` ${f.Reason}`) : null));
      return h("tr", { "data-schedule-row": s.Name }, h("td", {}, s.Name), h("td", {}, h("code", {}, s.ScheduleExpression), ` (${s.ScheduleExpressionTimezone})`),
        h("td", {}, h("a", { href: `#/machine/${enc(s.Target.StateMachine.split(":").pop())}` }, s.Target.StateMachine.split(":").pop())), h("td", {}, badge(s.State)),
        h("td", {}, (s.NextFires || []).map((t) => h("div", {}, fmt(t)))), h("td", {}, fires.length ? fires : h("span", { class: "muted" }, "none yet")), h("td", {}, toggle));
    });
    if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No schedules. Create one with `eltflow schedules create` or in eltflow.toml.")));
    $app.replaceChildren(h("h1", {}, "Schedules"), h("table", { id: "schedules" }, h("thead", {}, h("tr", {}, ["Name", "Expression", "Target", "State", "Next fires", "Last fires", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows)));
    live(true, async () => { if (location.hash.startsWith("#/schedules")) await schedulesPage(); }, 10000);
  }

  // ---- Data API statements -------------------------------------------------------------------
  // Newest first, each as DescribeStatement shows it, with the execution whose task submitted
  // it (statements run outside an execution, by `eltflow sql` or boto3, have none).
  const nsText = (ns) => {
    if (ns === undefined || ns === null || ns < 0) return "—";
    return msText(ns / 1e6, (ms) => ms.toFixed(ms < 10 ? 2 : 0));
  };
  const statementSql = (st) => (st.SubStatements ? st.SubStatements.map((x) => x.QueryString).join(";\n") : st.QueryString);
  const statementError = (st) => st.Error || (st.SubStatements || []).map((x) => x.Error).find(Boolean) || "";
  // The selected state's own logs (each invocation) and SQL (each statement its tasks
  // submitted), under its runs in the graph's state panel; `still()` says the panel is current.
  async function stateExtras(arn, name, panel, still) {
    const box = h("div", { class: "state-extras" });
    panel.append(box);
    const [logs, sql] = await Promise.all([
      api(`/executions/${enc(arn)}/logs?${new URLSearchParams({ state: name })}`).then((d) => d.logs || []),
      api(`/statements?${new URLSearchParams({ execution: arn, maxResults: "100" })}`).then((d) => (d.Statements || []).filter((x) => x.StateName === name)).catch(() => []),
    ]).catch((e) => { toast(e.message); return [[], []]; });
    if (!still()) return;
    box.replaceChildren(...[
      logs.length ? h("div", { class: "state-logs" }, h("b", {}, "Logs"), logs.map((r) => h("div", { class: "state-log" },
        h("div", { class: "muted" }, fmtMs(r.timestamp), " · ", r.function, r.error ? [" · ", h("span", { class: "run-error" }, r.error)] : null),
        h("pre", { class: "wrap" }, r.text || "(no output)")))) : null,
      sql.length ? h("div", { class: "state-sql" }, h("b", {}, "SQL"), sql.reverse().map((st) => h("div", { class: "state-statement", "data-statement": st.Id },
        badge(st.Status), " ", nsText(st.Duration), st.ResultRows >= 0 ? ` · ${st.ResultRows} rows` : "", h("span", { class: "muted" }, ` · ${fmtMs(st.CreatedAt)}`),
        h("pre", { class: "wrap" }, statementSql(st)), statementError(st) ? h("div", { class: "run-error" }, statementError(st)) : null))) : null,
    ].filter(Boolean));
  }
  // One statement as a table row; `extra` is the first column ("state": the state that ran it,
  // on an execution's SQL tab) or the last ("execution": a link to it, on the statements page).
  function statementRow(st, extra) {
    const sql = statementSql(st);
    const rowsOut = st.SubStatements ? st.SubStatements.reduce((n, x) => n + Math.max(0, x.ResultRows ?? 0), 0) : st.ResultRows;
    const error = statementError(st);
    return h("tr", { "data-statement": st.Id, class: `st-${st.Status}` },
      extra === "state" ? h("td", { class: "st-state" }, st.StateName || "—") : null,
      h("td", { class: "st-sql" }, h("pre", { class: "wrap" }, sql), h("div", { class: "muted" }, st.StatementName ? `${st.StatementName} · ` : "", st.Id)),
      h("td", {}, badge(st.Status)), h("td", {}, fmtMs(st.CreatedAt)), h("td", { class: "st-duration" }, nsText(st.Duration)),
      h("td", { class: "st-rows" }, rowsOut === undefined || rowsOut < 0 ? "—" : String(rowsOut)),
      h("td", { class: "st-error run-error" }, error),
      extra === "execution" ? h("td", { class: "st-by" }, st.ExecutionArn ? [h("a", { href: `#/execution/${enc(st.ExecutionArn)}`, class: "st-execution" }, st.ExecutionArn.split(":").pop()), st.StateName ? h("div", { class: "muted st-state" }, st.StateName) : null] : h("span", { class: "muted" }, "—")) : null);
  }
  // The execution page's SQL tab: the Data API statements its tasks (and their Lambda
  // handlers) submitted, newest first, with the state that submitted each.
  async function sqlTab(arn, box, current) {
    const data = await api(`/statements?${new URLSearchParams({ execution: arn, maxResults: "100" })}`);
    if (!current()) return;
    const rows = data.Statements || [];
    box.replaceChildren(rows.length
      ? h("table", { id: "exec-sql", class: "statements" }, h("thead", {}, h("tr", {}, ["State", "SQL", "Status", "Submitted", "Duration", "Rows", "Error"].map((c) => h("th", {}, c)))),
        h("tbody", {}, rows.map((st) => statementRow(st, "state"))))
      : h("p", { class: "muted" }, "No SQL: no task of this execution (nor a Lambda handler it invoked) submitted a Data API statement."));
  }
  async function statementsPage(params) {
    const route0 = routeNo;
    const PAGE = 50;
    const statusSel = h("select", { id: "st-status" }, ["", "SUBMITTED", "PICKED", "STARTED", "FINISHED", "FAILED", "ABORTED"].map((s) => h("option", { value: s }, s || "any status")));
    statusSel.value = params.get("status") || "";
    statusSel.onchange = () => { location.hash = `#/statements?status=${enc(statusSel.value)}`; };
    const body = h("tbody");
    let tokens = [null], pageNo = 0;
    const prev = h("button", { id: "st-prev", disabled: true }, "‹ Newer");
    const next = h("button", { id: "st-next", disabled: true }, "Older ›");
    const where = h("span", {}, "");
    prev.onclick = () => { if (pageNo > 0) { pageNo -= 1; refresh(); } };
    next.onclick = () => { if (tokens[pageNo + 1]) { pageNo += 1; refresh(); } };
    $app.replaceChildren(h("h1", {}, "Data API statements"), h("div", { class: "filters" }, statusSel),
      h("table", { id: "statements" }, h("thead", {}, h("tr", {}, ["SQL", "Status", "Submitted", "Duration", "Rows", "Error", "Execution"].map((c) => h("th", {}, c)))), body),
      h("div", { class: "pager" }, prev, where, next));
    async function refresh() {
      const q = new URLSearchParams({ maxResults: String(PAGE) });
      if (statusSel.value) q.set("status", statusSel.value);
      if (tokens[pageNo]) q.set("nextToken", tokens[pageNo]);
      const current = take();
      const data = await api(`/statements?${q}`);
      if (!current()) return;
      tokens = tokens.slice(0, pageNo + 1);
      if (data.NextToken) tokens.push(data.NextToken);
      const rows = data.Statements || [];
      body.replaceChildren(...rows.map((st) => statementRow(st, "execution")));
      if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, statusSel.value ? "No statements match." : "No statements yet: SQL submitted through the Data API (a Task, a Lambda handler, `eltflow sql`) appears here.")));
      prev.disabled = pageNo === 0;
      next.disabled = !data.NextToken;
      where.textContent = ` Page ${pageNo + 1} · ${rows.length} shown `;
    }
    await refresh();
    if (route0 === routeNo) live(true, async () => { if (pageNo === 0) await refresh(); }, 3000);
  }

  // ---- SNS topics ------------------------------------------------------------------------------
  async function topicsPage() {
    const current = take();
    const data = await api("/topics");
    if (!current()) return;
    const topics = data.Topics || [], notes = data.Notifications || [];
    const topicCards = topics.map((t) => h("div", { class: "card", "data-topic": t.Name },
      h("h2", {}, t.Name), h("div", { class: "muted" }, t.TopicArn),
      (t.Subscriptions || []).length
        ? h("table", { class: "subscriptions" }, h("thead", {}, h("tr", {}, ["Protocol", "Endpoint", "Subscription"].map((c) => h("th", {}, c)))),
          h("tbody", {}, t.Subscriptions.map((s) => h("tr", { "data-subscription": s.SubscriptionArn }, h("td", {}, s.Protocol), h("td", {}, s.Endpoint), h("td", { class: "muted" }, s.SubscriptionArn)))))
        : h("p", { class: "muted" }, "No subscriptions: a message published here is delivered nowhere.")));
    const noteRows = notes.map((n) => h("tr", { "data-message": n.MessageId },
      h("td", {}, fmtMs(n.Timestamp)), h("td", {}, String(n.TopicArn || "").split(":").pop()), h("td", {}, n.Subject || ""),
      h("td", {}, h("pre", { class: "wrap" }, pretty(n.Message))),
      h("td", {}, (n.Deliveries || []).map((d) => h("div", { class: "delivery" }, badge(d.Status === "delivered" ? "SUCCEEDED" : d.Status === "failed" ? "FAILED" : "RUNNING"), ` ${d.Protocol}: ${d.Endpoint}`, d.Attempts > 1 ? ` (${d.Attempts} attempts)` : "", d.Error ? h("div", { class: "run-error" }, d.Error) : null)))));
    $app.replaceChildren(h("h1", {}, "Topics"),
      topics.length ? h("div", { id: "topics" }, topicCards) : h("div", { class: "card empty", id: "topics-empty" }, "No topics. Declare one in eltflow.toml (", h("code", {}, "[topics.alerts]"), ") or create it with boto3's ", h("code", {}, "sns.create_topic"), "."),
      h("h2", {}, "Recent notifications"),
      h("table", { id: "notifications" }, h("thead", {}, h("tr", {}, ["Published", "Topic", "Subject", "Message", "Deliveries"].map((c) => h("th", {}, c)))),
        h("tbody", {}, noteRows.length ? noteRows : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No notifications yet (a message to a topic without subscriptions leaves no record).")))));
    live(true, async () => { if (location.hash.startsWith("#/topics")) await topicsPage(); }, 5000);
  }

  async function route() {
    const hash = location.hash || "#/executions";
    const [path, query] = hash.slice(1).split("?");
    const params = new URLSearchParams(query || "");
    const parts = path.split("/").filter(Boolean);
    for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === parts[0] || (parts[0] === "execution" && a.dataset.nav === "executions") || (parts[0] === "machine" && a.dataset.nav === "machines"));
    live(false);
    const mine = ++routeNo;
    try {
      if (parts[0] === "execution" && parts[1]) await executionPage(decodeURIComponent(parts.slice(1).join("/")));
      else if (parts[0] === "machines") await machinesPage();
      else if (parts[0] === "machine" && parts[1]) await machinePage(decodeURIComponent(parts[1]));
      else if (parts[0] === "jobs") await jobsPage(params);
      else if (parts[0] === "schedules") await schedulesPage();
      else if (parts[0] === "statements") await statementsPage(params);
      else if (parts[0] === "topics") await topicsPage();
      else await executionsPage(params);
    } catch (e) {
      if (mine !== routeNo) return; // the page was left before its request failed
      if (e instanceof Unauthorized) tokenPage(e.message);
      else $app.replaceChildren(h("div", { class: "card", id: "page-error" }, h("b", {}, "Could not load this page: "), e.message));
    }
  }
  window.addEventListener("hashchange", route);
  route();
  return { api };
})();
