// The credits banner (views/templates/_credits_banner.html): a warning can
// be dismissed for the rest of the tab's session (until its location's
// usage reaches the next threshold, which changes its data-key), and a
// live notice replaces the location's earlier warning rather than
// stacking under it.
(function () {
  "use strict";
  var store = "parley.dismissedCredits";

  function dismissed() {
    try { return JSON.parse(sessionStorage.getItem(store) || "{}"); } catch (e) { return {}; }
  }

  function tidy() {
    var box = document.getElementById("credit-banner");
    if (!box) return;
    var gone = dismissed(), seen = {};
    var items = box.querySelectorAll("[data-location]");
    for (var i = items.length - 1; i >= 0; i--) {
      var el = items[i], loc = el.getAttribute("data-location");
      if (seen[loc] || gone[el.getAttribute("data-key")]) el.remove();
      else seen[loc] = true;
    }
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-dismiss-credit]");
    if (!btn) return;
    var el = btn.closest("[data-location]");
    if (!el) return;
    var gone = dismissed();
    gone[el.getAttribute("data-key")] = true;
    try { sessionStorage.setItem(store, JSON.stringify(gone)); } catch (e) { /* private mode: dismiss this page only */ }
    el.remove();
  });
  document.addEventListener("htmx:afterSwap", tidy);
  document.addEventListener("htmx:oobAfterSwap", tidy);
})();
