// The query page of kg serve: SPARQL editor (CodeMirror 5), canned queries with their parameters as form
// fields, results as a sortable table with links, CSV/JSON downloads and a graph of the results.
// Every value shown comes from the store, i.e. from news articles, and is untrusted: it is put into the page
// with textContent or as an attribute set through the DOM, never as HTML. Canned queries go to
// /api/query/NAME with their parameters (bound as RDF terms by the server); free SPARQL goes to /sparql.
"use strict";
(function () {
  var root = document.getElementById("kg-query");
  var ID_BASE = root.getAttribute("data-id-base");
  var ONTOLOGY = ID_BASE.replace(/id\/$/, "ontology#");
  var ENTITY_PATHS = { actor: true, weaponsystem: true, place: true };
  var NUMERIC = /#(integer|decimal|double|float|int|long|short|nonNegativeInteger|positiveInteger)$/;
  var canned = JSON.parse(document.getElementById("kg-canned").textContent);
  var initial = JSON.parse(document.getElementById("kg-initial").textContent);
  var byName = {};
  canned.forEach(function (q) { byName[q.name] = q; });

  var $ = function (id) { return document.getElementById(id); };
  var resultBox = $("kg-result"), errorBox = $("kg-error"), statusBox = $("kg-status");
  var table = $("kg-table"), graphFrame = $("kg-graph"), graphWrap = $("kg-graph-wrap"), tableWrap = $("kg-table-wrap");
  var state = { vars: [], rows: [], sortColumn: null, sortDescending: false, graphUrl: null, current: null };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // -- links ------------------------------------------------------------------------------------
  // Our IRIs open the UI's own pages; other http(s) IRIs (Wikidata, GeoNames) open in a new tab;
  // anything else (urn:, javascript:, ...) is shown as text.
  function hrefFor(iri) {
    if (iri.indexOf(ID_BASE) === 0) {
      var rest = iri.slice(ID_BASE.length);
      if (ENTITY_PATHS[rest.split("/")[0]]) {
        return "/entity/" + rest.split("/").map(encodeURIComponent).join("/");
      }
      var article = /^article\/([A-Za-z0-9_-]+)$/.exec(rest);
      if (article) return "/article/" + article[1];
      return "/resource?iri=" + encodeURIComponent(iri);
    }
    if (/^https?:\/\/[^\s<>"'`\\]+$/i.test(iri)) return iri;
    return null;
  }

  function shortIri(iri) {
    if (iri.indexOf(ID_BASE) === 0) return "kgid:" + iri.slice(ID_BASE.length);
    if (iri.indexOf(ONTOLOGY) === 0) return "kg:" + iri.slice(ONTOLOGY.length);
    if (iri.indexOf("http://www.wikidata.org/entity/") === 0) return "wd:" + iri.slice(31);
    return iri;
  }

  // -- the editor -------------------------------------------------------------------------------
  var editor = CodeMirror.fromTextArea($("kg-sparql"), {
    mode: "application/sparql-query", lineNumbers: true, matchBrackets: true, indentUnit: 2,
    viewportMargin: Infinity,
    extraKeys: { "Ctrl-Enter": function () { runSparql(); }, "Cmd-Enter": function () { runSparql(); } }
  });
  window.kgEditor = editor;   // for tests and the browser console

  // -- canned queries ---------------------------------------------------------------------------
  var cannedForm = $("kg-canned-form"), fields = $("kg-canned-fields");
  var INPUT_TYPES = { integer: "number", date: "date", iri: "url", literal: "text" };

  function selectCanned(name, values, run) {
    var query = byName[name];
    if (!query) return showError("no canned query " + name);
    state.current = name;
    Array.prototype.forEach.call(document.querySelectorAll(".canned-button"), function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-name") === name ? "true" : "false");
    });
    $("kg-canned-title").textContent = name;
    $("kg-canned-answers").textContent = query.answers;
    $("kg-canned-sparql").textContent = query.sparql;
    fields.textContent = "";
    query.params.forEach(function (param) {
      var row = el("p", "field");
      var id = "kg-param-" + param.name;
      var label = el("label", null, param.name + (param.required ? " *" : ""));
      label.htmlFor = id;
      var input = el("input");
      input.id = id;
      input.name = param.name;
      input.type = param.kind === "iri" ? "text" : (INPUT_TYPES[param.kind] || "text");
      input.required = param.required;
      input.placeholder = param.doc;
      input.title = param.kind + (param.required ? ", required" : ", optional") + ": " + param.doc;
      if (values && values[param.name] !== undefined) input.value = values[param.name];
      row.appendChild(label);
      row.appendChild(input);
      row.appendChild(el("span", "muted", param.doc));
      fields.appendChild(row);
    });
    cannedForm.hidden = false;
    var missing = query.params.some(function (p) { return p.required && !(values && values[p.name]); });
    if (run && !missing) runCanned();
    else if (missing) {
      var first = fields.querySelector("input:required");
      if (first) first.focus();
    }
  }

  function cannedValues() {
    var values = {};
    Array.prototype.forEach.call(fields.querySelectorAll("input"), function (input) {
      if (input.value.trim() !== "") values[input.name] = input.value.trim();
    });
    return values;
  }

  function runCanned() {
    var name = state.current;
    var values = cannedValues();
    var search = new URLSearchParams(values);
    var base = "/api/query/" + encodeURIComponent(name);
    var graph = new URLSearchParams({ name: name });
    Object.keys(values).forEach(function (k) { graph.append("param." + k, values[k]); });
    var page = new URLSearchParams({ name: name });
    Object.keys(values).forEach(function (k) { page.append(k, values[k]); });
    history.replaceState(null, "", "/query?" + page.toString());
    fetchResults(fetch(base + (search.toString() ? "?" + search.toString() : ""),
                       { headers: { Accept: "application/sparql-results+json" } }), {
      csv: base + "?" + withParams(search, { format: "csv", download: "1" }),
      json: base + "?" + withParams(search, { format: "json", download: "1" }),
      filename: name,
      graph: "/ui/graph?" + graph.toString()
    });
  }

  function withParams(search, extra) {
    var copy = new URLSearchParams(search);
    Object.keys(extra).forEach(function (k) { copy.set(k, extra[k]); });
    return copy.toString();
  }

  function runSparql() {
    var text = editor.getValue();
    history.replaceState(null, "", "/query?" + new URLSearchParams({ sparql: text }).toString());
    state.current = null;
    fetchResults(fetch("/sparql", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded",
                 Accept: "application/sparql-results+json, text/turtle;q=0.9" },
      body: new URLSearchParams({ query: text }).toString()
    }), {
      csv: "/sparql?" + new URLSearchParams({ query: text, format: "csv" }).toString(),
      json: "/sparql?" + new URLSearchParams({ query: text, format: "json" }).toString(),
      filename: "query",
      graph: "/ui/graph?" + new URLSearchParams({ sparql: text }).toString()
    });
  }

  // -- results ----------------------------------------------------------------------------------
  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function fetchResults(request, links) {
    errorBox.hidden = true;
    statusBox.textContent = "running…";
    resultBox.hidden = false;
    resultBox.setAttribute("aria-busy", "true");
    request.then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var truncated = response.headers.get("X-KG-Truncated") === "true";
      return response.text().then(function (body) {
        resultBox.removeAttribute("aria-busy");
        if (!response.ok) {
          var message = body;
          try { message = JSON.parse(body).error || body; } catch (e) { /* plain text */ }
          resultBox.hidden = true;
          return showError(response.status + ": " + message.trim());
        }
        if (type.indexOf("json") < 0) return showText(body, links);
        showResults(JSON.parse(body), truncated, links);
      });
    }).catch(function (error) {
      resultBox.hidden = true;
      showError("the request failed: " + error);
    });
  }

  function setDownloads(links, enabled) {
    [["kg-download-csv", "csv"], ["kg-download-json", "json"]].forEach(function (pair) {
      var a = $(pair[0]);
      if (enabled) {
        a.href = links[pair[1]];
        a.setAttribute("download", links.filename + "." + pair[1]);
        a.removeAttribute("aria-disabled");
      } else {
        a.removeAttribute("href");
        a.setAttribute("aria-disabled", "true");
      }
    });
  }

  function showText(body, links) {
    state.vars = ["result"];
    state.rows = [];
    statusBox.textContent = "RDF answer (CONSTRUCT/DESCRIBE)";
    setDownloads(links, false);
    table.tHead.textContent = "";
    table.tBodies[0].textContent = "";
    var row = table.tBodies[0].insertRow();
    var cell = row.insertCell();
    cell.appendChild(el("pre", null, body));
    state.graphUrl = null;
    showView("table");
  }

  function showResults(data, truncated, links) {
    setDownloads(links, true);
    state.graphUrl = links.graph;
    graphFrame.removeAttribute("src");
    state.sortColumn = null;
    if (data.boolean !== undefined) {
      state.vars = ["answer"];
      state.rows = [{ answer: { type: "literal", value: String(data.boolean) } }];
    } else {
      state.vars = data.head.vars;
      state.rows = data.results.bindings;
    }
    var n = state.rows.length;
    statusBox.textContent = n + " row" + (n === 1 ? "" : "s") +
      (truncated ? " (cut at " + root.getAttribute("data-max-rows") + ": more rows were left out)" : "");
    renderHead();
    renderBody();
    showView(graphWrap.hidden ? "table" : "graph");
  }

  function renderHead() {
    var head = table.tHead;
    head.textContent = "";
    var row = head.insertRow();
    state.vars.forEach(function (name, index) {
      var th = el("th");
      th.setAttribute("scope", "col");
      var sorted = state.sortColumn === index;
      th.setAttribute("aria-sort", sorted ? (state.sortDescending ? "descending" : "ascending") : "none");
      var button = el("button", "sort", name);
      button.type = "button";
      button.title = "sort by " + name;
      button.appendChild(el("span", "arrow", sorted ? (state.sortDescending ? " ▼" : " ▲") : ""));
      button.addEventListener("click", function () { sortBy(index); });
      th.appendChild(button);
      row.appendChild(th);
    });
  }

  function termCell(term) {
    var td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      var href = hrefFor(term.value);
      if (href) {
        var a = el("a", null, shortIri(term.value));
        a.href = href;
        a.title = term.value;
        if (href.charAt(0) !== "/") {
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          a.className = "external";
        }
        td.appendChild(a);
      } else {
        td.textContent = term.value;
      }
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      if (term.datatype && NUMERIC.test(term.datatype)) td.className = "n";
      if (term.value.length > 160) td.classList.add("long");
    }
    return td;
  }

  function renderBody() {
    var body = table.tBodies[0];
    body.textContent = "";
    var fragment = document.createDocumentFragment();
    state.rows.forEach(function (binding) {
      var tr = el("tr");
      state.vars.forEach(function (name) { tr.appendChild(termCell(binding[name])); });
      fragment.appendChild(tr);
    });
    body.appendChild(fragment);
  }

  function sortKey(term) {
    if (!term) return null;
    if (term.type === "literal" && term.datatype && NUMERIC.test(term.datatype)) return Number(term.value);
    if (term.type === "literal" && /^-?\d+(\.\d+)?$/.test(term.value)) return Number(term.value);
    return term.value.toLocaleLowerCase();
  }

  function sortBy(index) {
    state.sortDescending = state.sortColumn === index ? !state.sortDescending : false;
    state.sortColumn = index;
    var name = state.vars[index];
    var direction = state.sortDescending ? -1 : 1;
    state.rows = state.rows.map(function (row, position) { return [row, position]; }).sort(function (a, b) {
      var x = sortKey(a[0][name]), y = sortKey(b[0][name]);
      if (x === null || y === null) {   // unbound last, whichever the direction
        if (x === y) return a[1] - b[1];
        return x === null ? 1 : -1;
      }
      var order = (typeof x === "number" && typeof y === "number") ? x - y
        : String(x).localeCompare(String(y), undefined, { numeric: true });
      return order !== 0 ? direction * order : a[1] - b[1];
    }).map(function (pair) { return pair[0]; });
    renderHead();
    renderBody();
  }

  function showView(view) {
    var graph = view === "graph" && state.graphUrl;
    graphWrap.hidden = !graph;
    tableWrap.hidden = !!graph;
    $("kg-show-table").setAttribute("aria-selected", graph ? "false" : "true");
    $("kg-show-graph").setAttribute("aria-selected", graph ? "true" : "false");
    $("kg-show-graph").disabled = !state.graphUrl;
    if (graph && graphFrame.getAttribute("src") !== state.graphUrl) {
      graphFrame.src = state.graphUrl;
      $("kg-graph-open").href = state.graphUrl;
    }
  }

  // -- wiring -----------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll(".canned-button"), function (button) {
    button.addEventListener("click", function () { selectCanned(button.getAttribute("data-name"), {}, true); });
  });
  cannedForm.addEventListener("submit", function (event) { event.preventDefault(); runCanned(); });
  $("kg-sparql-form").addEventListener("submit", function (event) { event.preventDefault(); runSparql(); });
  $("kg-show-table").addEventListener("click", function () { showView("table"); });
  $("kg-show-graph").addEventListener("click", function () { showView("graph"); });

  if (initial.name && byName[initial.name]) {
    selectCanned(initial.name, initial.params, true);
  } else if (initial.sparql) {
    editor.setValue(initial.sparql);
    runSparql();
  }
  document.body.setAttribute("data-kg-ready", "1");
})();
