// Parley's own browser code. Kept small: htmx does the heavy lifting.
(function () {
  "use strict";
  // Every htmx request carries the CSRF token from the page's meta tag, in
  // case a fragment was swapped in from a page whose body lacks hx-headers.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && !e.detail.headers["X-CSRF-Token"]) {
      e.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });
})();
