// Draws an ASL definition as an SVG graph, each state coloured by its status (the status of
// each state comes from the API's /executions/{arn}/states: the server folds the history).
// Layout (hand-written, no library): states are placed in layers by their longest forward
// distance from StartAt (back edges of loops are ignored for layering); Parallel and Map states
// are containers whose branches are laid out recursively side by side, each container sized
// from its contents, so nested containers stay inside their parents at any depth.
"use strict";

const Graph = (() => {
  const NODE_W = 170, NODE_H = 34, GAP_X = 28, GAP_Y = 38, PAD = 16, LABEL_H = 22;
  const SVG_NS = "http://www.w3.org/2000/svg";

  function targets(state) {
    const out = [];
    if (state.Next) out.push({ to: state.Next, kind: "next" });
    if (state.Default) out.push({ to: state.Default, kind: "next" });
    for (const c of state.Choices || []) if (c.Next) out.push({ to: c.Next, kind: "next" });
    for (const c of state.Catch || []) if (c.Next) out.push({ to: c.Next, kind: "catch" });
    return out;
  }

  function layers(machine) {
    const states = machine.States || {};
    const depth = {};
    const onPath = new Set();
    const order = [];
    // Longest-path layering over a DFS that skips edges closing a cycle.
    function visit(name, d) {
      if (!(name in states) || onPath.has(name)) return;
      if (depth[name] !== undefined && depth[name] >= d) return;
      if (depth[name] === undefined) order.push(name);
      depth[name] = d;
      onPath.add(name);
      for (const t of targets(states[name])) visit(t.to, d + 1);
      onPath.delete(name);
    }
    visit(machine.StartAt, 0);
    for (const name of Object.keys(states)) if (depth[name] === undefined) { depth[name] = 0; order.push(name); }
    const rows = [];
    for (const name of order) (rows[depth[name]] = rows[depth[name]] || []).push(name);
    return rows.map((r) => r || []);
  }

  // Returns {w, h, nodes: [{name, x, y, w, h, state, children?}]} for one (sub)machine.
  function layout(machine) {
    const states = machine.States || {};
    const sized = {};
    for (const [name, st] of Object.entries(states)) {
      if (st.Type === "Parallel" || st.Type === "Map") {
        const subs = st.Type === "Parallel" ? (st.Branches || []) : [st.ItemProcessor || st.Iterator || { States: {} }];
        const inner = subs.map(layout);
        const w = Math.max(NODE_W, inner.reduce((a, b) => a + b.w, 0) + GAP_X * Math.max(0, inner.length - 1)) + 2 * PAD;
        const h = Math.max(...inner.map((i) => i.h), NODE_H) + 2 * PAD + LABEL_H;
        sized[name] = { w, h, inner };
      } else {
        sized[name] = { w: NODE_W, h: NODE_H };
      }
    }
    const rows = layers(machine);
    const rowW = rows.map((r) => r.reduce((a, n) => a + sized[n].w, 0) + GAP_X * Math.max(0, r.length - 1));
    const W = Math.max(NODE_W, ...rowW);
    const nodes = [];
    let y = 0;
    rows.forEach((row, i) => {
      let x = (W - rowW[i]) / 2;
      const rowH = Math.max(...row.map((n) => sized[n].h));
      for (const name of row) {
        const s = sized[name];
        const node = { name, x, y: y + (rowH - s.h) / 2, w: s.w, h: s.h, state: states[name] };
        if (s.inner) {
          let cx = x + PAD;
          node.children = s.inner.map((sub) => {
            const placed = { dx: cx, dy: node.y + PAD + LABEL_H, sub };
            cx += sub.w + GAP_X;
            return placed;
          });
        }
        nodes.push(node);
        x += s.w + GAP_X;
      }
      y += rowH + GAP_Y;
    });
    return { w: W, h: Math.max(NODE_H, y - GAP_Y), nodes };
  }

  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function draw(parent, lay, ox, oy, status, onSelect, selected) {
    const pos = {};
    for (const n of lay.nodes) pos[n.name] = { x: n.x + ox, y: n.y + oy, w: n.w, h: n.h };
    for (const n of lay.nodes) {
      for (const t of targets(n.state)) {
        const a = pos[n.name], b = pos[t.to];
        if (!b) continue;
        const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y;
        let d;
        if (y2 <= y1) {
          d = `M${x1},${y1} C${x1 + 90},${y1 + 40} ${x2 + 90},${y2 - 40} ${x2},${y2}`;
        } else {
          // An edge skipping layers would run under the states in between (and look like an
          // edge of theirs): route it down the right of everything it passes instead.
          const lo = Math.min(x1, x2) - 8, hi = Math.max(x1, x2) + 8;
          const between = Object.values(pos).filter((q) => q.y >= y1 && q.y + q.h <= y2);
          if (between.some((q) => q.x < hi && q.x + q.w > lo)) {
            const dx = Math.max(x1, x2, ...between.map((q) => q.x + q.w)) + 18;
            d = `M${x1},${y1} C${x1},${y1 + 24} ${dx},${y1 + 8} ${dx},${y1 + 32} L${dx},${y2 - 32} C${dx},${y2 - 8} ${x2},${y2 - 24} ${x2},${y2}`;
          } else {
            d = `M${x1},${y1} C${x1},${y1 + 20} ${x2},${y2 - 20} ${x2},${y2}`;
          }
        }
        el("path", { d, class: `edge ${t.kind}`, "marker-end": "url(#arrow)", "data-from": n.name, "data-to": t.to }, parent);
      }
    }
    for (const n of lay.nodes) {
      const p = pos[n.name];
      const st = status[n.name] || "NOT_REACHED";
      const g = el("g", { class: `node ${st}${n.children ? " container" : ""}${selected === n.name ? " selected" : ""}`, "data-state": n.name, "data-status": st }, parent);
      if (n.children) {
        el("rect", { x: p.x, y: p.y, width: p.w, height: p.h }, g);
        const label = el("text", { x: p.x + 8, y: p.y + 16 }, g);
        label.textContent = `${n.name} (${n.state.Type})`;
        for (const c of n.children) {
          // Children are placed relative to this layout's origin (dx, dy), like the node
          // itself: both offsets apply, at every depth (a Map in a Parallel branch used to be
          // drawn without the outer vertical offset, outside its box).
          const sub = el("g", { class: "group" }, parent);
          el("rect", { x: c.dx + ox - 4, y: c.dy + oy - 4, width: c.sub.w + 8, height: c.sub.h + 8 }, sub);
          draw(parent, c.sub, c.dx + ox, c.dy + oy, status, onSelect, selected);
        }
      } else {
        el("rect", { x: p.x, y: p.y, width: p.w, height: p.h }, g);
        const t = el("text", { x: p.x + p.w / 2, y: p.y + p.h / 2 + 4, "text-anchor": "middle" }, g);
        t.textContent = n.name.length > 24 ? n.name.slice(0, 22) + "…" : n.name;
        el("title", {}, g).textContent = `${n.name} — ${n.state.Type} — ${st}`;
      }
      g.addEventListener("click", (ev) => { ev.stopPropagation(); onSelect && onSelect(n.name); });
    }
  }

  function render(container, definition, status, onSelect, selected) {
    const lay = layout(definition);
    // Natural size, scaled down (never up) to the box by the viewBox: a narrow window shows
    // the whole graph instead of clipping it.
    const W = lay.w + 2 * PAD + 100, H = lay.h + 2 * PAD;
    const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", style: `max-width:100%;height:auto` });
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#879596" }, marker);
    draw(svg, lay, PAD, PAD, status || {}, onSelect, selected);
    container.replaceChildren(svg);
  }

  return { render, layout };
})();
