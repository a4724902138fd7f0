// The execution page's Gantt timeline: one row per state run (from GET
// /api/executions/{arn}/states), its bar from the state's entry to its exit, and on it one
// segment per attempt (a retried Task's tries; the gaps between them are its Retry intervals),
// each coloured by its status. Times are milliseconds from the execution's start: the axis, the
// durations and each bar's tooltip.
"use strict";

const Timeline = (() => {
  const MAX_ROWS = 500; // a big Map has thousands of runs: the first ones tell the story
  const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 3e4, 6e4, 12e4, 3e5, 6e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];

  const time = (t) => (t ? new Date(t).getTime() : NaN);
  // 0 ms, 950 ms, 1,250 ms ... 9,999 ms, then seconds with their milliseconds, then minutes.
  function span(ms) {
    if (!(ms >= 0)) return "—";
    if (ms < 10000) return `${Math.round(ms).toLocaleString("en-US")} ms`;
    if (ms < 600000) return `${(ms / 1000).toFixed(3)} s`;
    return `${Math.floor(ms / 60000)} min ${((ms % 60000) / 1000).toFixed(3)} s`;
  }
  const offset = (ms) => `+${span(ms)}`;

  function div(cls, attrs = {}, text = null) {
    const e = document.createElement("div");
    e.className = cls;
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== null) e.textContent = text;
    return e;
  }

  // `runs`: the state runs; `execution`: DescribeExecution's answer (its start and stop bound
  // the axis; a running execution's axis ends now). `onSelect(name)` is called for a click.
  function render(container, runs, execution, onSelect) {
    const now = Date.now();
    const starts = runs.map((r) => time(r.start)).filter((t) => !Number.isNaN(t));
    const t0 = Math.min(time(execution.startDate) || Infinity, ...starts);
    const stop = time(execution.stopDate);
    const ends = runs.map((r) => time(r.end)).filter((t) => !Number.isNaN(t));
    const t1 = Math.max(Number.isNaN(stop) ? now : stop, ...ends, t0 + 1);
    const total = t1 - t0;
    const pct = (t) => `${(((t - t0) / total) * 100).toFixed(4)}%`;
    const width = (a, b) => `${((Math.max(0, b - a) / total) * 100).toFixed(4)}%`;

    const box = div("gantt", { id: "gantt", "data-total-ms": String(total) });
    // The axis: about eight ticks at a round step.
    const step = STEPS.find((s) => total / s <= 8) || STEPS[STEPS.length - 1];
    const axis = div("gantt-axis");
    for (let t = 0; t <= total * 0.92; t += step) { // none at the very end: its label would not fit
      const tick = div("gantt-tick", {}, offset(t));
      tick.style.left = pct(t0 + t);
      axis.append(tick);
    }
    box.append(div("gantt-label gantt-head", {}, "State"), axis, div("gantt-dur gantt-head", {}, "Duration"));

    const shown = runs.map((r, i) => ({ r, i })).sort((a, b) => time(a.r.start) - time(b.r.start) || a.i - b.i).slice(0, MAX_ROWS);
    for (const { r } of shown) {
      const start = time(r.start), end = Number.isNaN(time(r.end)) ? (r.status === "RUNNING" ? t1 : start) : time(r.end);
      const where = r.iteration && r.iteration.length ? ` in ${r.iteration.map((k) => `${k.map} #${k.index}`).join(" > ")}` : "";
      const label = div("gantt-label", { title: `${r.name} (${r.type})${where}` }, r.name);
      if (where) label.append(div("gantt-where muted", {}, where.slice(4)));
      const track = div("gantt-track");
      const attempts = r.attempts || [];
      const bar = div(`gantt-bar ${r.status}${attempts.length ? " has-attempts" : ""}`, {
        "data-start-ms": String(start - t0), "data-end-ms": String(end - t0),
        title: `${r.name}: ${r.status}, ${offset(start - t0)} → ${offset(end - t0)} (${span(end - start)})${r.retries ? `, ${r.retries} retr${r.retries > 1 ? "ies" : "y"}` : ""}`,
      });
      bar.style.left = pct(start);
      bar.style.width = width(start, end);
      track.append(bar);
      attempts.forEach((a, k) => {
        const from = time(a.start), to = Number.isNaN(time(a.end)) ? t1 : time(a.end);
        const seg = div(`gantt-attempt ${a.status}`, {
          "data-attempt": String(k + 1), "data-status": a.status, "data-start-ms": String(from - t0), "data-end-ms": String(to - t0),
          title: `${r.name}, attempt ${k + 1}: ${a.status}${a.error ? ` (${a.error})` : ""}, ${offset(from - t0)} → ${offset(to - t0)} (${span(to - from)})`,
        });
        seg.style.left = pct(from);
        seg.style.width = width(from, to);
        track.append(seg);
      });
      const row = [label, track, div("gantt-dur", {}, span(end - start) + (r.retries ? ` · ${r.retries + 1} tries` : ""))];
      const line = div(`gantt-row ${r.status}`, { "data-state": r.name, "data-status": r.status, "data-attempts": String(attempts.length) });
      line.append(...row);
      if (onSelect) line.addEventListener("click", () => onSelect(r.name));
      box.append(line);
    }
    const parts = [box];
    if (runs.length > shown.length) parts.push(div("muted", {}, `Showing the first ${shown.length} of ${runs.length} state runs.`));
    if (!runs.length) parts.push(div("muted", {}, "No state has run yet."));
    const legend = div("gantt-legend muted", {}, "Bars: each state run, entry to exit. Darker segments: each attempt of its work (a Task's retries; the gaps are Retry intervals). Times from the execution's start, in milliseconds.");
    container.replaceChildren(legend, ...parts);
  }

  return { render, span };
})();
