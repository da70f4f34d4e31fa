// The page script of kg.viz.render_html: tooltips, side panel, search box, and physics that settles.
// Every string in the data comes from news articles and is untrusted: it is read with JSON.parse and
// shown only through textContent or as a vis-network label (drawn on the canvas), never as HTML.
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("kg-data").textContent);
  var ENTITY_KINDS = { Actor: true, WeaponSystem: true, Place: true };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function shorten(text, width) {
    text = String(text);
    return text.length <= width ? text : text.slice(0, width - 1) + "…";
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  // A tooltip (full = false) or the side panel (full = true) for one node, built element by element.
  function describe(node, full) {
    var k = node.kg;
    var box = el("div", "kg-tip");
    box.appendChild(el("div", "kg-tip-label", k.label));
    var kind = [k.kind, k.subtype].filter(Boolean).join(" · ");
    var reported = ENTITY_KINDS[k.kind]
      ? plural(k.count, "mention") + " in " + plural(k.articles, "article")
      : plural(k.count, "sentence");
    box.appendChild(el("div", "kg-tip-kind", kind + " — " + reported));
    (k.details || []).forEach(function (pair) {
      var row = el("div", "kg-tip-detail");
      row.appendChild(el("span", "kg-tip-name", pair[0] + ": "));
      row.appendChild(el("span", null, full ? pair[1] : shorten(pair[1], 160)));
      box.appendChild(row);
    });
    var evidence = full ? k.evidence : k.evidence.slice(0, 2);
    evidence.forEach(function (pair) {
      box.appendChild(el("blockquote", "kg-tip-quote", full ? pair[0] : shorten(pair[0], 300)));
      box.appendChild(el("div", "kg-tip-source", "— " + pair[1]));
    });
    if (!full && k.evidence.length > evidence.length) {
      box.appendChild(el("div", "kg-tip-more", "+" + (k.evidence.length - evidence.length) + " more: click the node"));
    }
    if (full) box.appendChild(el("div", "kg-tip-iri", k.iri));
    return box;
  }

  var byId = {};
  data.nodes.forEach(function (node) {
    byId[node.id] = node;
    node.title = describe(node, false);   // an Element, so vis-network never parses it as HTML
  });
  data.edges.forEach(function (edge) {
    var from = byId[edge.from], to = byId[edge.to];
    var tip = el("div", "kg-tip");
    tip.appendChild(el("div", "kg-tip-label", edge.kg.label + (edge.kg.weight > 1 ? " ×" + edge.kg.weight : "")));
    tip.appendChild(el("div", "kg-tip-kind", (from ? from.kg.label : "") + " → " + (to ? to.kg.label : "")));
    edge.title = tip;
  });

  var container = document.getElementById("kg-network");
  var progress = document.getElementById("kg-progress");
  var details = document.getElementById("kg-details");
  var detailsBody = document.getElementById("kg-details-body");
  var status = document.getElementById("kg-status");

  function ready() {
    progress.hidden = true;
    document.body.setAttribute("data-kg-ready", "1");
  }

  var network = new vis.Network(container, { nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges) },
                                data.options);
  window.kgNetwork = network;   // for tests and for the browser console
  if (data.nodes.length === 0) {
    container.appendChild(el("p", null, "Nothing to show: the graph is empty."));
    container.lastChild.id = "kg-empty";
    ready();
  }
  network.on("stabilizationProgress", function (p) {
    progress.textContent = "Laying out the graph… " + Math.round(100 * p.iterations / p.total) + " %";
  });
  // Settle once, then stop: a graph that keeps moving cannot be read.
  network.once("stabilizationIterationsDone", function () {
    network.setOptions({ physics: { enabled: false } });
    ready();
  });

  function showDetails(id) {
    var node = byId[id];
    if (!node) return;
    detailsBody.replaceChildren(describe(node, true));
    details.hidden = false;
  }
  network.on("selectNode", function (params) { showDetails(params.nodes[0]); });
  network.on("deselectNode", function (params) { if (!params.nodes.length) details.hidden = true; });

  // Search: exact label, then prefix, then substring; entities before events and statements.
  var options = document.getElementById("kg-labels");
  var seen = {};
  data.nodes.forEach(function (node) {
    if (!ENTITY_KINDS[node.kg.kind] || seen[node.kg.label]) return;
    seen[node.kg.label] = true;
    var option = document.createElement("option");
    option.value = node.kg.label;
    options.appendChild(option);
  });

  function find(text) {
    var query = text.trim().toLocaleLowerCase();
    if (!query) return null;
    var best = null, bestScore = Infinity;
    data.nodes.forEach(function (node) {
      var label = node.kg.label.toLocaleLowerCase();
      var match = label === query ? 0 : label.indexOf(query) === 0 ? 1 : label.indexOf(query) > 0 ? 2 : -1;
      if (match < 0) return;
      var score = match * 2 + (ENTITY_KINDS[node.kg.kind] ? 0 : 1);
      if (score < bestScore) { best = node; bestScore = score; }
    });
    return best;
  }

  function select(text) {
    var node = find(text);
    if (!node) {
      status.textContent = text.trim() ? "No node matches “" + text.trim() + "”." : "";
      return;
    }
    status.textContent = "";
    network.selectNodes([node.id]);
    network.focus(node.id, { scale: 1.3, animation: { duration: 400, easingFunction: "easeInOutQuad" } });
    showDetails(node.id);
  }

  var input = document.getElementById("kg-search");
  document.getElementById("kg-search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    select(input.value);
  });
  // Picking a label from the datalist selects it at once. Only that: a second focus() started while
  // the first is animating leaves the view half-way (Enter fires both "change" and "submit").
  input.addEventListener("input", function (event) {
    if (event.inputType === undefined || event.inputType === "insertReplacementText") select(input.value);
  });
})();
