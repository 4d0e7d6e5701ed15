// Parley's menu button. On a narrow screen the sidebar is a top bar and
// its navigation hides behind the Menu button; the stylesheet shows it
// while the button's aria-expanded is "true". This file loads in <head>
// without defer, so the page never flashes the menu open: the "js" class
// it sets is what lets the stylesheet collapse the menu (without scripts
// the links simply stay listed).
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function menuButton() { return document.querySelector(".menu-btn[aria-controls]"); }
  function isOpen(btn) { return btn.getAttribute("aria-expanded") === "true"; }
  function setOpen(btn, open) { btn.setAttribute("aria-expanded", open ? "true" : "false"); }

  // The button toggles the menu; a click anywhere outside the open menu
  // closes it. (A link in the menu loads a page whose menu starts closed.)
  document.addEventListener("click", function (e) {
    var btn = menuButton();
    if (!btn) { return; }
    if (btn.contains(e.target)) {
      setOpen(btn, !isOpen(btn));
      return;
    }
    var menu = document.getElementById(btn.getAttribute("aria-controls"));
    if (isOpen(btn) && menu && !menu.contains(e.target)) { setOpen(btn, false); }
  });

  // Escape closes the open menu and puts the focus back on its button.
  document.addEventListener("keydown", function (e) {
    var btn = menuButton();
    if (e.key === "Escape" && btn && isOpen(btn)) {
      setOpen(btn, false);
      btn.focus();
    }
  });

  // htmx keeps a copy of the page for the Back button just before a
  // boosted link replaces it; keep that copy with the menu closed.
  document.addEventListener("htmx:beforeHistorySave", function () {
    var btn = menuButton();
    if (btn) { setOpen(btn, false); }
  });
})();
