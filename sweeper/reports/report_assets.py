"""The stylesheet and the small vanilla JavaScript inlined into every report.html.

The script makes every `table.sortable` sortable (click a header; numbers sort as
numbers, empty cells last) and filterable (the text box above it: rows that
contain every typed word stay), and applies a view given in the address,
`report.html#sort=objective&order=desc&filter=mse` (sort and filter the results
table), so a view can be shared as a link. It writes what it did into the DOM,
which is what the headless-browser test reads:

- `<body data-rendered="1">` once the script has run to its end;
- on each table `data-visible-rows`, `data-sort-column`, `data-sort-order`;
- `data-plots` on the body: how many plotly figures drew their SVG;
- every uncaught error, unhandled promise rejection and `console.error` as a line
  in `<pre id="js-errors">` (the error hook is installed in `<head>`, before
  any other script, by `ERROR_HOOK`).

No library: DataTables needs jQuery and list.js/tablesort are not on PyPI to
vendor; sorting and filtering a table of at most a few hundred rows is a few
dozen lines, and nothing loads from the network when the page is opened.
"""

from __future__ import annotations

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; padding: 0 24px 48px; max-width: 1400px; color: #1d2330; background: #fff; }
h1 { font-size: 22px; margin: 20px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #dde1e8; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav a { margin-right: 14px; }
.meta { color: #4a5263; margin: 2px 0; }
.best { background: #eef7ee; border-left: 4px solid #3a8f3a; padding: 6px 10px; margin: 10px 0; }
.empty { background: #fff6e0; border-left: 4px solid #d49b00; padding: 6px 10px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0; }
th, td { border: 1px solid #dde1e8; padding: 3px 8px; text-align: right; white-space: nowrap; }
th { background: #f3f5f8; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 10px; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 10px; }
tr.failed td { background: #fdecec; }
tr.pruned td { background: #f2f2f2; color: #666; }
tr.is-best td { background: #eef7ee; font-weight: 600; }
.filter { margin: 6px 0; }
.filter input { width: 320px; padding: 3px 6px; font: inherit; }
.count { color: #4a5263; margin-left: 10px; }
ul.reasons li { margin: 2px 0; }
code, .reason { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
figure { margin: 12px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eef0f4; }
figcaption { color: #4a5263; font-size: 13px; }
.plot { margin: 8px 0 16px; }
#js-errors:empty { display: none; }
#js-errors { background: #fdecec; color: #8a1010; padding: 6px 10px; white-space: pre-wrap; }
"""

# First script of the page: every later error, whoever raises it, lands in #js-errors.
ERROR_HOOK = """
(function () {
  var pending = [];
  function record(message) {
    var box = document.getElementById("js-errors");
    if (box) { box.textContent += message + "\\n"; } else { pending.push(message); }
  }
  window.addEventListener("error", function (event) {
    record("error: " + event.message + " (" + event.filename + ":" + event.lineno + ")");
  });
  window.addEventListener("unhandledrejection", function (event) {
    record("unhandled rejection: " + event.reason);
  });
  var consoleError = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };
  window.sweeperFlushErrors = function () { pending.forEach(record); pending = []; };
})();
"""

TABLES = """
(function () {
  function key(row, column) {
    var cell = row.cells[column];
    if (!cell) { return ""; }
    var value = cell.getAttribute("data-sort");
    return value === null ? cell.textContent.trim() : value;
  }
  function isNumber(text) { return text !== "" && !isNaN(Number(text)); }
  function compare(a, b) {
    if (a === "" || b === "") { return (a === "") - (b === ""); }
    if (isNumber(a) && isNumber(b)) { return Number(a) - Number(b); }
    if (isNumber(a) !== isNumber(b)) { return isNumber(a) ? -1 : 1; }
    return a.localeCompare(b, undefined, {numeric: true});
  }
  function sortTable(table, column, order) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r, s) {
      var a = key(r, column), b = key(s, column);
      if (a === "" || b === "") { return compare(a, b); }  // empty cells last either way
      return order === "desc" ? compare(b, a) : compare(a, b);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      var sorted = order === "desc" ? "descending" : "ascending";
      th.setAttribute("aria-sort", i === column ? sorted : "none");
    });
    table.setAttribute("data-sort-column", table.tHead.rows[0].cells[column].textContent.trim());
    table.setAttribute("data-sort-order", order);
  }
  function filterTable(table, text) {
    var words = text.toLowerCase().split(/\\s+/).filter(Boolean), shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var haystack = row.textContent.toLowerCase();
      row.hidden = !words.every(function (w) { return haystack.indexOf(w) >= 0; });
      if (!row.hidden) { shown += 1; }
    });
    table.setAttribute("data-visible-rows", String(shown));
    var count = document.getElementById(table.id + "-count");
    if (count) { count.textContent = shown + " of " + table.tBodies[0].rows.length + " rows"; }
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.title = "click to sort";
      th.addEventListener("click", function () {
        var again = th.getAttribute("aria-sort") === "ascending";
        sortTable(table, i, again ? "desc" : "asc");
      });
    });
    var input = document.getElementById(table.id + "-filter");
    if (input) {
      input.addEventListener("input", function () { filterTable(table, input.value); });
    }
    filterTable(table, "");
  });
  // A view in the address: #sort=COLUMN&order=asc|desc&filter=WORDS (the results table).
  var view = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  var results = document.getElementById("results");
  if (results && (view.has("sort") || view.has("filter"))) {
    var names = Array.prototype.map.call(results.tHead.rows[0].cells, function (th) {
      return th.textContent.trim();
    });
    if (view.has("sort")) {
      var column = names.indexOf(view.get("sort"));
      if (column < 0) { throw new Error("no column " + view.get("sort") + " to sort by"); }
      sortTable(results, column, view.get("order") === "desc" ? "desc" : "asc");
    }
    if (view.has("filter")) {
      var box = document.getElementById("results-filter");
      box.value = view.get("filter");
      filterTable(results, box.value);
    }
  }
  var divs = document.querySelectorAll(".plotly-graph-div");
  var drawn = Array.prototype.filter.call(divs, function (div) {
    return div.querySelector(".main-svg") !== null;
  });
  document.body.setAttribute("data-plots", String(drawn.length));
  window.sweeperFlushErrors();
  document.body.setAttribute("data-rendered", "1");
})();
"""
