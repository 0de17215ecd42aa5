// Leaderboard interactions: sortable columns, the model filter, and the seen/unseen switch.
// Pages stay complete without JavaScript; this only sorts, hides and switches.
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell ? cell.getAttribute("data-sort") : "";
    if (!numeric) return raw.toLowerCase();
    var value = parseFloat(raw);
    return isNaN(value) ? null : value;
  }

  function sortTable(table, index, header) {
    var numeric = header.getAttribute("data-kind") === "num";
    var descending = header.getAttribute("aria-sort") !== "descending";
    table.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      if (x === y) return 0;
      if (x === null) return 1;   // missing values always last
      if (y === null) return -1;
      var order = x < y ? -1 : 1;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (header, index) {
      header.addEventListener("click", function () { sortTable(table, index, header); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortTable(table, index, header); }
      });
    });
  });

  var filter = document.getElementById("filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var needle = filter.value.trim().toLowerCase();
      document.querySelectorAll("table.overview tbody tr").forEach(function (row) {
        var name = row.children[0].textContent.toLowerCase();
        row.hidden = needle !== "" && name.indexOf(needle) === -1;
      });
    });
  }

  document.querySelectorAll('input[name="split"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      document.querySelectorAll(".split-view").forEach(function (view) {
        view.hidden = view.getAttribute("data-split") !== radio.value;
      });
    });
  });
})();
