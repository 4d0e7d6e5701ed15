// The broadcast page's "All" box ticks every chat of the reply dashboard.
// Bound once on the document (htmx runs this file again after a boosted
// navigation), so it also serves a table swapped in by a tab.
(function () {
  "use strict";
  if (window.parleyBroadcasts) { return; }
  window.parleyBroadcasts = true;
  document.addEventListener("change", function (e) {
    if (e.target.id !== "bc-all") { return; }
    document.querySelectorAll("#bc-bulk input[name=conv]").forEach(function (b) { b.checked = e.target.checked; });
  });
})();
