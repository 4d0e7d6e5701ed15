// Desktop notifications and the profile's preferences in the browser.
// The signed-in user's choices come from <body data-*> (Layout.User):
// data-notify="on" shows a notification, while the tab is hidden, for a
// new conversation in the user's inboxes and for a new message in a
// conversation assigned to them; the socket's frames (htmx:wsAfterMessage
// on the Chats screen) carry the list rows that say so. Permission is
// asked only when the user ticks the box on the profile, never on load.
// Also here: the profile's time zone list, the sound preference, and the
// copy buttons of one-time links and new tokens.
(function () {
  "use strict";
  var body = document.body;
  if (!body) { return; }
  var prefs = body.dataset;
  var supported = "Notification" in window;

  // What the list already showed: a row's id → "status|activity".
  var seen = {};
  function remember(row) { seen[row.id] = row.dataset.status + "|" + row.dataset.activity; }
  function rowText(row, sel) {
    var el = row.querySelector(sel);
    return el ? el.textContent.trim() : "";
  }
  function notify(title, row) {
    try {
      var n = new Notification(title, { body: rowText(row, ".conv-preview"), tag: row.id, icon: "/static/img/favicon.svg" });
      n.onclick = function () { window.focus(); window.location.href = row.getAttribute("href"); n.close(); };
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  }
  // consider decides whether a row that just arrived deserves a notification.
  function consider(row) {
    var before = seen[row.id];
    remember(row);
    if (prefs.notify !== "on" || !supported || Notification.permission !== "granted" || document.visibilityState !== "hidden") { return; }
    var name = rowText(row, ".conv-name") || "Someone";
    var wasNew = before && before.indexOf("new|") === 0;
    if (row.dataset.status === "new" && !wasNew) {
      notify("New conversation: " + name, row);
    } else if (row.dataset.assignee === prefs.userId && row.classList.contains("is-unread") &&
        before !== row.dataset.status + "|" + row.dataset.activity) {
      notify("New message from " + name, row);
    }
  }
  function adoptRows(root) {
    root.querySelectorAll(".conv-row[id^=conv-]").forEach(remember);
  }
  document.addEventListener("DOMContentLoaded", function () { adoptRows(document); });
  document.addEventListener("htmx:afterSettle", function (e) { if (!e.detail || !e.detail.socketWrapper) { adoptRows(document); } });
  document.addEventListener("htmx:wsAfterMessage", function (e) {
    var msg = e.detail && e.detail.message;
    if (typeof msg !== "string" || msg.indexOf("conv-row") < 0) { return; }
    var t = document.createElement("template");
    t.innerHTML = msg;
    t.content.querySelectorAll(".conv-row[id^=conv-]").forEach(consider);
  });

  // The sound preference: the Chats screen's toggle is per browser; a
  // change saved on the profile is applied to this browser once.
  if (prefs.sound && localStorage.getItem("parley.soundPref") !== prefs.sound) {
    localStorage.setItem("parley.soundPref", prefs.sound);
    localStorage.setItem("parley.sound", prefs.sound);
  }

  function profileHelpers() {
    // The desktop-notifications box asks for permission when ticked.
    var box = document.getElementById("notify-desktop");
    var err = document.getElementById("notify-desktop-error");
    function refuse(text) {
      box.checked = false;
      if (err) { err.textContent = text; err.hidden = false; }
    }
    if (box && !box.dataset.bound) {
      box.dataset.bound = "1";
      if (!supported) {
        box.disabled = true;
        if (err) { err.textContent = "This browser cannot show desktop notifications."; err.hidden = false; }
      }
      box.addEventListener("change", function () {
        if (err) { err.hidden = true; }
        if (!box.checked || !supported || Notification.permission === "granted") { return; }
        if (Notification.permission === "denied") {
          refuse("Notifications are blocked for this site: allow them in the browser's site settings, then tick again.");
          return;
        }
        Notification.requestPermission().then(function (p) {
          if (p !== "granted") { refuse("Parley may not show notifications: the browser's permission was not given."); }
        });
      });
    }
    // Every IANA zone the browser knows, for the searchable list.
    var list = document.querySelector("datalist[data-timezones]");
    if (list && !list.dataset.filled && Intl.supportedValuesOf) {
      list.dataset.filled = "1";
      var have = {};
      list.querySelectorAll("option").forEach(function (o) { have[o.value] = true; });
      Intl.supportedValuesOf("timeZone").forEach(function (z) {
        if (have[z]) { return; }
        var o = document.createElement("option");
        o.value = z;
        list.appendChild(o);
      });
    }
  }
  document.addEventListener("DOMContentLoaded", profileHelpers);
  document.addEventListener("htmx:afterSettle", profileHelpers);

  // Copy buttons: data-copy names the input whose value to copy.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) { return; }
    var input = document.querySelector(btn.dataset.copy);
    if (!input) { return; }
    input.select();
    var done = function () { btn.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
