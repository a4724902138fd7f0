// Draws an ASL definition as an SVG graph, each state coloured by its status (the status of
// each state comes from the API's /executions/{arn}/states: the server folds the history).
//
// Layout: elkjs (vendor/elk.bundled.js, the Eclipse Layout Kernel), layered algorithm over one
// hierarchical graph: a Parallel state is a compound node holding one compound node per
// branch, a Map state a compound node holding its ItemProcessor's states. ELK lays the whole
// hierarchy out at once (hierarchyHandling INCLUDE_CHILDREN), so nested boxes are sized from
// their contents and stay inside their parents at any depth, and edges are routed around the
// boxes instead of under them. Coordinates come back absolute (json.*Coords ROOT).
//
// The path taken: every run of a state names the state whose exit led to it (`previous`), so
// the edges an execution actually followed are drawn bold and the others faded.
//
// Fit, zoom and pan: the SVG is scaled down (never up) to the width of its box; + and - zoom
// into it (also Ctrl/⌘ + wheel), dragging the background pans, "Fit" shows the whole graph.
"use strict";

const Graph = (() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const LEAF_H = 34, CHAR_W = 7, MIN_W = 110, MAX_W = 240, PAD = 12, HEAD = 24, MARGIN = 16;
  const ROOT_OPTIONS = {
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.hierarchyHandling": "INCLUDE_CHILDREN",
    "elk.json.shapeCoords": "ROOT",
    "elk.json.edgeCoords": "ROOT",
    "elk.edgeRouting": "ORTHOGONAL",
    "elk.layered.spacing.nodeNodeBetweenLayers": "34",
    "elk.spacing.nodeNode": "28",
    "elk.spacing.edgeNode": "14",
    "elk.spacing.edgeEdge": "10",
    "elk.layered.spacing.edgeNodeBetweenLayers": "14",
    // Keep the definition's order of states and transitions where the layering allows it,
    // so a refresh or a small change to the definition does not reshuffle the picture.
    "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    // A loop's back edge is the one against the definition's order (a poll loop's "Check ->
    // Wait"), not whichever the heuristic picks: measured on the reference pipelines this
    // drew them 20-40 % narrower (warehouse-lock: 1206 px wide instead of 2078).
    "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
    "elk.padding": `[top=${MARGIN},left=${MARGIN},bottom=${MARGIN},right=${MARGIN}]`,
  };
  const CONTAINER_OPTIONS = {
    "elk.direction": "DOWN",
    "elk.padding": `[top=${HEAD + 10},left=${PAD},bottom=${PAD},right=${PAD}]`,
    // An empty Map or Parallel still draws as a box with its label.
    "elk.nodeSize.constraints": "MINIMUM_SIZE",
    "elk.nodeSize.minimum": "(150, 64)",
  };
  const BRANCH_OPTIONS = {
    "elk.direction": "DOWN",
    "elk.padding": "[top=10,left=10,bottom=10,right=10]",
    "elk.nodeSize.constraints": "MINIMUM_SIZE",
    "elk.nodeSize.minimum": "(60, 40)",
  };
  // definition text -> Promise of {graph, info}: a live refresh repaints every second, the
  // layout of an unchanged definition is computed once.
  const layouts = new Map();

  function targets(state) {
    const out = [];
    if (state.Next) out.push({ to: state.Next, kind: "next" });
    if (state.Default) out.push({ to: state.Default, kind: "next" });
    for (const c of state.Choices || []) if (c.Next) out.push({ to: c.Next, kind: "next" });
    for (const c of state.Catch || []) if (c.Next) out.push({ to: c.Next, kind: "catch" });
    return out;
  }

  const isContainer = (st) => st.Type === "Parallel" || st.Type === "Map";
  const leafWidth = (name) => Math.round(Math.min(MAX_W, Math.max(MIN_W, name.length * CHAR_W + 28)));
  function shorten(text, width) {
    const max = Math.max(4, Math.floor((width - 16) / CHAR_W));
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  // The ELK graph of one (sub)machine. Ids are paths ("Fan#0/Each/One"): unique even where a
  // definition repeats a state name in two branches. `info` maps each id to what it draws.
  function elkMachine(machine, prefix, info) {
    const states = machine.States || {};
    const children = [], edges = [];
    for (const [name, st] of Object.entries(states)) {
      const id = prefix + name;
      info.set(id, { kind: isContainer(st) ? "container" : "leaf", name, state: st });
      const node = { id };
      if (st.Type === "Parallel") {
        node.layoutOptions = CONTAINER_OPTIONS;
        node.children = (st.Branches || []).map((branch, i) => {
          const bid = `${id}#${i}`;
          info.set(bid, { kind: "branch", name, index: i });
          const sub = elkMachine(branch, `${bid}/`, info);
          return { id: bid, layoutOptions: BRANCH_OPTIONS, children: sub.children, edges: sub.edges };
        });
      } else if (st.Type === "Map") {
        const sub = elkMachine(st.ItemProcessor || st.Iterator || { States: {} }, `${id}/`, info);
        Object.assign(node, { layoutOptions: CONTAINER_OPTIONS, children: sub.children, edges: sub.edges });
      } else {
        node.width = leafWidth(name);
        node.height = LEAF_H;
      }
      children.push(node);
      targets(st).forEach((t, k) => {
        if (!(t.to in states)) return; // the validator reports it; draw what exists
        const eid = `${id}->${k}`;
        info.set(eid, { kind: "edge", from: name, to: t.to, type: t.kind });
        edges.push({ id: eid, sources: [id], targets: [prefix + t.to] });
      });
    }
    return { children, edges };
  }

  function layout(definition) {
    const key = JSON.stringify(definition);
    if (!layouts.has(key)) {
      if (typeof ELK === "undefined") return Promise.reject(new Error("the layout library (vendor/elk.bundled.js) did not load"));
      const info = new Map();
      const sub = elkMachine(definition, "", info);
      const graph = { id: "\u0000root", layoutOptions: ROOT_OPTIONS, children: sub.children, edges: sub.edges };
      const promise = new ELK().layout(graph).then((laid) => ({ graph: laid, info }));
      promise.catch(() => layouts.delete(key));
      if (layouts.size > 20) layouts.delete(layouts.keys().next().value);
      layouts.set(key, promise);
    }
    return layouts.get(key);
  }

  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  // The edges this execution followed: each run names the state whose exit led to it.
  function takenEdges(runs) {
    const taken = new Set();
    for (const r of runs || []) if (r.previous) taken.add(`${r.previous}\u0000${r.name}`);
    return taken;
  }

  function paint(laid, info, opts) {
    const { status, onSelect, selected, taken, note } = opts;
    const W = Math.ceil(laid.width), H = Math.ceil(laid.height);
    const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "data-layout": "elk", class: opts.runs ? "has-run" : "" });
    const defs = el("defs", {}, svg);
    for (const [id, cls] of [["arrow", "arrow"], ["arrow-taken", "arrow taken"]]) {
      const marker = el("marker", { id, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
      el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: cls }, marker);
    }
    // Boxes first (outer before inner), then edges, then states: nothing hides a state.
    const boxes = el("g", { class: "boxes" }, svg), lines = el("g", { class: "edges" }, svg), leaves = el("g", { class: "leaves" }, svg);
    const click = (g, name) => g.addEventListener("click", (ev) => { ev.stopPropagation(); if (onSelect) onSelect(name); });
    function walk(node) {
      for (const n of node.children || []) {
        const meta = info.get(n.id);
        if (meta.kind === "branch") {
          el("rect", { x: n.x, y: n.y, width: n.width, height: n.height, "data-branch": `${meta.name}#${meta.index}` }, el("g", { class: "group" }, boxes));
        } else {
          const st = status[meta.name] || "NOT_REACHED";
          const container = meta.kind === "container";
          const g = el("g", { class: `node ${st}${container ? " container" : ""}${selected === meta.name ? " selected" : ""}`, "data-state": meta.name, "data-status": st, "data-type": meta.state.Type }, container ? boxes : leaves);
          el("rect", { x: n.x, y: n.y, width: n.width, height: n.height }, g);
          if (container) {
            const extra = note ? note(meta.name) : "";
            el("text", { x: n.x + 8, y: n.y + 17, class: "box-label" }, g).textContent = shorten(`${meta.name} (${meta.state.Type})${extra ? ` · ${extra}` : ""}`, n.width);
          } else {
            el("text", { x: n.x + n.width / 2, y: n.y + n.height / 2 + 4, "text-anchor": "middle" }, g).textContent = shorten(meta.name, n.width);
          }
          el("title", {}, g).textContent = `${meta.name} — ${meta.state.Type} — ${st}`;
          click(g, meta.name);
        }
        walk(n);
      }
      for (const e of node.edges || []) {
        const meta = info.get(e.id);
        for (const s of e.sections || []) {
          const pts = [s.startPoint, ...(s.bendPoints || []), s.endPoint];
          const on = taken.has(`${meta.from}\u0000${meta.to}`);
          el("path", { d: pts.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" "), class: `edge ${meta.type}${on ? " taken" : ""}`, "marker-end": `url(#${on ? "arrow-taken" : "arrow"})`, "data-from": meta.from, "data-to": meta.to }, lines);
        }
      }
    }
    walk(laid);
    return { svg, W, H };
  }

  // Zoom and pan by moving the viewBox; the view survives repaints of the same definition.
  function viewer(container, svg, W, H, key) {
    const view = container.__view && container.__view.key === key ? container.__view : { key, scale: 1, x: 0, y: 0 };
    container.__view = view;
    const apply = () => {
      view.scale = Math.min(8, Math.max(1, view.scale));
      const w = W / view.scale, h = H / view.scale;
      view.x = Math.min(Math.max(0, view.x), W - w);
      view.y = Math.min(Math.max(0, view.y), H - h);
      svg.setAttribute("viewBox", `${view.x} ${view.y} ${w} ${h}`);
      svg.classList.toggle("zoomed", view.scale > 1);
    };
    const zoom = (factor, cx = 0.5, cy = 0.5) => {
      const w = W / view.scale, h = H / view.scale;
      view.scale *= factor;
      view.x += (w - W / view.scale) * cx;
      view.y += (h - H / view.scale) * cy;
      apply();
    };
    const button = (label, title, cls, fn) => {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = label; b.title = title; b.className = cls;
      b.addEventListener("click", (ev) => { ev.stopPropagation(); fn(); });
      return b;
    };
    const tools = document.createElement("div");
    tools.className = "graph-tools";
    tools.append(button("+", "zoom in", "zoom-in", () => zoom(1.5)), button("−", "zoom out", "zoom-out", () => zoom(1 / 1.5)),
      button("Fit", "show the whole graph", "zoom-fit", () => { view.scale = 1; apply(); }));
    svg.addEventListener("wheel", (ev) => {
      if (!ev.ctrlKey && !ev.metaKey) return; // a plain wheel scrolls the page
      ev.preventDefault();
      const r = svg.getBoundingClientRect();
      zoom(ev.deltaY < 0 ? 1.2 : 1 / 1.2, (ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height);
    }, { passive: false });
    let drag = null;
    svg.addEventListener("pointerdown", (ev) => {
      if (view.scale === 1 || ev.target.closest(".node")) return;
      drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y };
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      const r = svg.getBoundingClientRect(), k = W / view.scale / r.width;
      view.x = drag.vx - (ev.clientX - drag.x) * k;
      view.y = drag.vy - (ev.clientY - drag.y) * k;
      apply();
    });
    const stop = () => { drag = null; };
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
    apply();
    return tools;
  }

  // Paints `definition` into `container`; returns a promise settled once painted. Repaints of
  // one container are ordered: a paint whose layout finishes after a newer one started is
  // dropped. `extra.runs` (the execution's state runs) highlights the path taken; `extra.note`
  // (state name -> text) adds a note to a Map or Parallel box's label.
  async function render(container, definition, status, onSelect, selected, extra = {}) {
    const no = (container.__paints || 0) + 1;
    container.__paints = no;
    let laid;
    try {
      laid = await layout(definition);
    } catch (e) {
      if (container.__paints === no) {
        const p = document.createElement("p");
        p.className = "form-error";
        p.textContent = `Could not draw the graph: ${e.message}`;
        container.replaceChildren(p);
      }
      return;
    }
    if (container.__paints !== no) return;
    const { svg, W, H } = paint(laid.graph, laid.info, { status: status || {}, onSelect, selected, runs: extra.runs, taken: takenEdges(extra.runs), note: extra.note });
    const tools = viewer(container, svg, W, H, JSON.stringify(definition));
    container.replaceChildren(tools, svg);
    container.dataset.painted = String(no);
  }

  // ---- Map iterations ---------------------------------------------------------------------
  // The state runs carry their Map iteration path (`iteration`: [{map, run, index}], outermost
  // first) and the execution its iterations with their statuses (`iterations`). `picks` maps a
  // Map state's name to the iteration chosen in the picker, {run, index} (`run`: the Map's run
  // in `runs`); a run is shown when every Map iteration it ran in is the picked one (or that
  // Map has no pick).
  const fits = (path, picks) => (path || []).every((k) => { const p = picks[k.map]; return !p || (p.run === k.run && p.index === k.index); });
  // A state's status among the shown runs: a running run if any, else its last (the server's rule).
  function statusOf(runs) {
    const out = {};
    for (const r of runs) if (out[r.name] !== "RUNNING") out[r.name] = r.status;
    return out;
  }
  const pathText = (path) => (path || []).map((k) => `${k.map} #${k.index}`).join(" > ");

  // What the execution page shows for the current picks: the runs and statuses, a note per Map
  // box, the picker of a Map state and a banner saying which iterations are shown.
  function iterationView(states, picks, onPick) {
    const iterations = states.iterations || [];
    const runs = (states.runs || []).filter((r) => fits(r.iteration, picks));
    const ofMap = (map) => iterations.filter((it) => it.map === map && fits(it.iteration, picks));
    const chosen = (map) => iterations.find((it) => it.map === map && picks[map] && it.run === picks[map].run && it.index === picks[map].index);
    // A pick stays only while the iterations around it are the picked ones too.
    function prune(next) {
      for (let changed = true; changed;) {
        changed = false;
        for (const map of Object.keys(next)) {
          const it = iterations.find((x) => x.map === map && x.run === next[map].run && x.index === next[map].index);
          if (!it || !fits(it.iteration, next)) { delete next[map]; changed = true; }
        }
      }
      return next;
    }
    function pick(map, value) {
      const next = { ...picks };
      delete next[map];
      if (value) { const [run, index] = value.split(":").map(Number); next[map] = { run, index }; }
      onPick(prune(next));
    }
    function picker(map) {
      const its = ofMap(map);
      if (!its.length) return null;
      const many = new Set(its.map((it) => it.run)).size > 1; // the Map ran more than once
      const select = document.createElement("select");
      select.id = "iteration-picker";
      select.dataset.map = map;
      select.append(new Option(`all iterations (${its.length})`, ""));
      for (const it of its) select.append(new Option(`#${it.index} — ${it.status}${many ? ` (run from event ${states.runs[it.run].eventIds[0]})` : ""}`, `${it.run}:${it.index}`));
      select.value = picks[map] ? `${picks[map].run}:${picks[map].index}` : "";
      select.addEventListener("change", () => pick(map, select.value));
      const counts = {};
      for (const it of its) counts[it.status] = (counts[it.status] || 0) + 1;
      const box = document.createElement("div");
      box.className = "iteration-picker";
      const label = document.createElement("label");
      label.append("Iteration ", select);
      const summary = document.createElement("span");
      summary.className = "muted";
      summary.textContent = ` ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(" · ")}`;
      box.append(label, summary);
      return box;
    }
    function banner() {
      const shown = Object.keys(picks).map(chosen).filter(Boolean);
      if (!shown.length) return null;
      const box = document.createElement("span");
      box.id = "iteration-banner";
      const all = document.createElement("button");
      all.type = "button"; all.id = "iterations-all"; all.textContent = "show all iterations";
      all.addEventListener("click", () => onPick({}));
      box.append(`Showing ${shown.map((it) => pathText([...it.iteration, { map: it.map, index: it.index }])).sort((a, b) => a.length - b.length).pop()} `, all);
      return box;
    }
    function note(map) {
      const its = ofMap(map);
      if (!its.length) return "";
      const it = chosen(map);
      return it ? `iteration #${it.index} of ${its.length}` : `${its.length} iterations`;
    }
    const status = Object.keys(picks).length ? statusOf(runs) : states.status;
    return { runs, status, picker, banner, note };
  }

  return { render, layout, targets, iterationView, pathText };
})();
