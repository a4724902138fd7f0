// The eltflow console: a small hash-routed page over the JSON API (/api/...).
"use strict";

const App = (() => {
  const $app = document.getElementById("app");
  let timer = null;
  let token = new URLSearchParams(location.search).get("token") || sessionStorage.getItem("eltflow-token") || "";
  if (token) sessionStorage.setItem("eltflow-token", token);

  class Unauthorized extends Error {}

  async function api(path, opts = {}) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`/api${path}`, { ...opts, headers });
    const text = await res.text();
    let body = {};
    try { body = text ? JSON.parse(text) : {}; } catch { body = { message: text }; }
    if (res.status === 401) throw new Unauthorized(body.message || "a token is required");
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
  const dur = (a, b) => {
    if (!a) return "—";
    const ms = (b ? new Date(b) : new Date()) - new Date(a);
    return ms < 1000 ? `${ms} ms` : ms < 60000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.floor(ms / 60000)} m ${Math.round((ms % 60000) / 1000)} s`;
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
  async function executionsPage(params) {
    const route0 = routeNo, current = take();
    const machines = (await api("/state-machines")).stateMachines || [];
    if (!current()) return;
    const statusSel = h("select", { id: "f-status" }, ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"].map((s) => h("option", { value: s }, s || "any status")));
    const machineSel = h("select", { id: "f-machine" }, h("option", { value: "" }, "any state machine"), machines.map((m) => h("option", { value: m.name }, m.name)));
    statusSel.value = params.get("status") || ""; machineSel.value = params.get("machine") || "";
    const body = h("tbody");
    const onFilter = () => { location.hash = `#/executions?status=${enc(statusSel.value)}&machine=${enc(machineSel.value)}`; };
    statusSel.onchange = onFilter; machineSel.onchange = onFilter;
    $app.replaceChildren(
      h("h1", {}, "Executions"),
      h("div", { class: "filters" }, machineSel, statusSel),
      h("table", { id: "executions" }, h("thead", {}, h("tr", {}, ["Name", "State machine", "Status", "Started", "Duration"].map((c) => h("th", {}, c)))), body),
    );
    async function refresh() {
      const q = new URLSearchParams();
      if (statusSel.value) q.set("statusFilter", statusSel.value);
      if (machineSel.value) q.set("stateMachine", machineSel.value);
      const current = take();
      const data = await api(`/executions?${q}`);
      if (!current()) return;
      body.replaceChildren(...(data.executions || []).map((e) => {
        const tr = h("tr", { class: "clickable", "data-arn": e.executionArn }, h("td", {}, e.name), h("td", {}, e.stateMachineArn.split(":").pop()), h("td", {}, badge(e.status)), h("td", {}, fmt(e.startDate)), h("td", {}, dur(e.startDate, e.stopDate)));
        tr.onclick = () => (location.hash = `#/execution/${enc(e.executionArn)}`);
        return tr;
      }));
      if (!data.executions || !data.executions.length) body.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No executions yet. Start one from a state machine page or with `eltflow start`.")));
    }
    await refresh();
    if (route0 === routeNo) live(true, refresh);
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
    let selected = null, tab = "graph", eventPage = 0;
    const EVENTS_PER_PAGE = 25; // as the Step Functions console pages its event view
    const head = h("div"), graphBox = h("div", { class: "graph", id: "graph" }), detail = h("div", { class: "card", id: "state-detail" }, h("p", { class: "muted" }, "Select a state to see its input and output."));
    const tabs = h("div", { class: "tabs" }), tabBody = h("div");
    $app.replaceChildren(head, tabs, tabBody);
    async function refresh() {
      const current = take();
      // Per-state runs come folded from the server (the same fold the CLI prints).
      const [ex, events, def, states] = await Promise.all([
        api(`/executions/${enc(arn)}`), allEvents(arn), api(`/executions/${enc(arn)}/definition`),
        api(`/executions/${enc(arn)}/states`),
      ]);
      if (!current()) return;
      const { status, runs } = states;
      const stop = h("button", { class: "danger", id: "btn-stop", disabled: ex.status !== "RUNNING" }, "Stop");
      stop.onclick = async () => { try { await api(`/executions/${enc(arn)}/stop`, { method: "POST", body: "{}" }); toast("Stop requested"); refresh(); } catch (e) { toast(e.message); } };
      const redrive = h("button", { class: "primary", id: "btn-redrive", disabled: !["FAILED", "ABORTED", "TIMED_OUT"].includes(ex.status) }, "Redrive");
      redrive.onclick = async () => { try { await api(`/executions/${enc(arn)}/redrive`, { method: "POST", body: "{}" }); toast("Redriven"); refresh(); } catch (e) { toast(e.message); } };
      head.replaceChildren(
        h("h1", {}, ex.name, " ", badge(ex.status)),
        h("div", { class: "card row" },
          h("div", { class: "grow" },
            h("div", {}, h("b", {}, "State machine: "), h("a", { href: `#/machine/${enc(ex.stateMachineArn.split(":").pop())}` }, ex.stateMachineArn.split(":").pop())),
            h("div", {}, h("b", {}, "Started: "), fmt(ex.startDate), "  ", h("b", {}, "Duration: "), dur(ex.startDate, ex.stopDate)),
            h("div", {}, h("b", {}, "Redrives: "), String(ex.redriveCount || 0)),
            ex.error ? h("div", { id: "exec-error" }, h("b", {}, "Error: "), ex.error, ex.cause ? " — " : "", causeView(ex.cause)) : null),
          h("div", {}, stop, " ", redrive)),
      );
      tabs.replaceChildren(...[["graph", "Graph"], ["table", "States"], ["events", `Events (${events.length})`], ["io", "Input / output"]].map(([k, label]) => {
        const b = h("button", { class: tab === k ? "active" : "", "data-tab": k }, label);
        b.onclick = () => { tab = k; refresh(); };
        return b;
      }));
      if (tab === "graph") {
        Graph.render(graphBox, def.definition, status, (name) => { selected = name; refresh(); }, selected);
        const runsOf = runs.filter((r) => r.name === selected);
        detail.replaceChildren(...(selected ? [h("h2", {}, selected), ...(runsOf.length ? [] : [h("p", { class: "muted" }, "Not reached in this execution.")]), ...runsOf.map((r) => h("div", { class: "run" }, badge(r.status), " ", dur(r.start, r.end), r.retries ? ` · ${r.retries} retr${r.retries > 1 ? "ies" : "y"}` : "",
          r.error ? h("div", { class: "run-error" }, h("b", {}, r.error), r.cause ? ": " : "", causeView(r.cause)) : null,
          h("div", { class: "row" }, h("div", { class: "grow" }, h("b", {}, "Input"), h("pre", {}, pretty(r.input))), h("div", { class: "grow" }, h("b", {}, "Output"), h("pre", {}, pretty(r.output))))))] : [h("p", { class: "muted" }, "Select a state to see its input and output.")]));
        tabBody.replaceChildren(
          h("div", { class: "legend" }, ["SUCCEEDED", "FAILED", "RUNNING", "CAUGHT", "NOT_REACHED"].map((s) => badge(s))),
          h("div", { class: "row" }, h("div", { class: "grow" }, graphBox), h("div", { style: "width:420px" }, detail)));
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
        tabBody.replaceChildren(pager, h("table", { id: "events" }, h("thead", {}, h("tr", {}, ["ID", "Type", "Step", "Timestamp", "Details"].map((c) => h("th", {}, c)))),
          h("tbody", {}, shown.map((e) => {
            const detailsKey = Object.keys(e).find((k) => k.endsWith("EventDetails"));
            const d = detailsKey ? e[detailsKey] : null;
            const kind = /(Failed|TimedOut|Aborted)$/.test(e.type) ? "ev-fail" : /Succeeded$/.test(e.type) ? "ev-ok" : "";
            return h("tr", { class: kind }, h("td", {}, String(e.id)), h("td", {}, e.type), h("td", {}, (d && d.name) || ""), h("td", {}, fmt(e.timestamp)), h("td", {}, d ? h("pre", {}, pretty(d)) : ""));
          }))));
      } else {
        tabBody.replaceChildren(h("div", { class: "row" }, h("div", { class: "grow card" }, h("h2", {}, "Input"), h("pre", {}, pretty(ex.input))), h("div", { class: "grow card" }, h("h2", {}, "Output"), h("pre", { id: "exec-output" }, pretty(ex.output)))));
      }
      live(ex.status === "RUNNING", refresh, 1000);
    }
    await refresh();
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
    const input = h("textarea", { rows: 6, id: "start-input" }, "{}");
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
        h("div", { class: "card", style: "width:420px" }, h("h2", {}, "Start an execution"), execName, h("div", {}, "Input"), input, startError, h("div", {}, start))),
      h("h2", {}, "Versions"),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Version"), h("th", {}, "Created"))), h("tbody", {}, (m.versions || []).map((v) => h("tr", {}, h("td", {}, String(v.version)), h("td", {}, fmt(v.creationDate)))))),
      h("h2", {}, "Definition"), h("pre", { id: "definition" }, JSON.stringify(def, null, 2)));
    live(false);
  }

  // ---- jobs (audit items + run history) ------------------------------------------------------
  async function jobsPage() {
    const current = take();
    const data = await api("/jobs");
    if (!current()) return;
    const rows = (data.jobs || []).map((j) => {
      const reset = h("button", { "data-job": j.JobID, class: "danger" }, "Reset to Ready");
      reset.onclick = async () => {
        if (!confirm(`Reset job ${j.JobID} to Ready?`)) return;
        try { await api(`/jobs/${enc(j.table)}/${enc(j.JobID)}/reset`, { method: "POST", body: "{}" }); toast("Reset"); jobsPage(); } catch (e) { toast(e.message); }
      };
      return h("tr", {}, h("td", {}, j.table), h("td", {}, j.JobID), h("td", {}, badge(j.JobState === "Ready" ? "SUCCEEDED" : j.JobState === "Running" ? "RUNNING" : "FAILED"), " ", j.JobState), h("td", {}, j.JobStart || "—"), h("td", {}, j.JobEnd || "—"), h("td", {}, j.LeaseUntil || "—"), h("td", {}, j.JobError || ""), h("td", {}, reset));
    });
    const hist = (data.runs || []).map((r) => h("tr", {}, h("td", {}, h("a", { href: `#/execution/${enc(r.execution_arn)}` }, r.execution_arn.split(":").pop())), h("td", {}, r.job_id), h("td", {}, r.outcome), h("td", {}, r.started_at || ""), h("td", {}, r.ended_at || ""), h("td", {}, r.rows_loaded ?? ""), h("td", {}, r.error || "")));
    $app.replaceChildren(h("h1", {}, "Jobs"),
      h("table", { id: "jobs" }, h("thead", {}, h("tr", {}, ["Table", "JobID", "JobState", "JobStart", "JobEnd", "Lease until", "Error", ""].map((c) => h("th", {}, c)))), h("tbody", {}, rows)),
      h("h2", {}, "Run history"),
      h("table", { id: "runs" }, h("thead", {}, h("tr", {}, ["Execution", "JobID", "Outcome", "Started", "Ended", "Rows", "Error"].map((c) => h("th", {}, c)))), h("tbody", {}, hist)));
    live(true, async () => { if (location.hash.startsWith("#/jobs")) await jobsPage(); }, 5000);
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
      const fires = (s.LastFires || []).map((f) => h("div", {}, fmt(f.FireTime), " ", badge(f.Status === "STARTED" ? "SUCCEEDED" : f.Status === "FAILED" ? "FAILED" : "PENDING"), " ", f.Status,
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
      else if (parts[0] === "jobs") await jobsPage();
      else if (parts[0] === "schedules") await schedulesPage();
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
