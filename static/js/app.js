// Parley's own browser code. htmx does the heavy lifting; this file keeps
// the live Chats screen honest: which socket messages to send, removing
// duplicates after out-of-band swaps, hiding rows that left the current
// filter, the live/offline indicator, typing and the tab title count.
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

  // A 422 carries the form again with its errors next to the fields:
  // show it (htmx does not swap 4xx responses by default).
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr && e.detail.xhr.status === 422) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  var socket = null;     // the ws extension's socket wrapper, while open
  var viewing = null;    // the conversation id the socket was told we view
  var seq = 0;           // the newest event this page reflects
  var knownNew = {};     // conversation ids already counted as New (for the sound)

  function chats() { return document.getElementById("chats"); }
  function me() { var c = chats(); return c ? c.dataset.me : ""; }

  function send(msg) {
    if (socket) { socket.send(JSON.stringify(msg)); }
  }

  function threadEl() { return document.querySelector("#thread-pane .thread[data-conv]"); }
  function currentThread() {
    var t = threadEl();
    return t ? Number(t.dataset.conv) : 0;
  }

  // Tell the server which thread we look at, so it subscribes the socket
  // and sends what happened since the thread was rendered.
  function syncView() {
    var id = currentThread();
    if (id !== viewing) {
      viewing = id;
      var t = threadEl();
      send({ view: id, since: t ? Number(t.dataset.seq) : 0 });
    }
  }

  // Who is viewing each conversation, as last told by the server: a row or
  // header re-rendered for another change arrives with no avatars.
  var viewers = {};
  function restoreViewers() {
    document.querySelectorAll(".viewers[id]").forEach(function (el) {
      if (el.innerHTML === "" && viewers[el.id]) { el.innerHTML = viewers[el.id]; }
    });
  }

  function setLive(state, text) {
    var el = document.getElementById("live-state");
    if (!el) { return; }
    el.dataset.state = state;
    el.querySelector(".live-text").textContent = text;
  }

  // A row belongs in the list only if it matches the list's filter.
  function matches(row, list) {
    var f = list.dataset;
    var st = row.dataset.status;
    if ((f.status === "active" || f.status === "") && st === "closed") { return false; }
    if (f.status && f.status !== "active" && f.status !== "all" && st !== f.status) { return false; }
    if (f.assignee === "mine" && row.dataset.assignee !== me()) { return false; }
    if (f.assignee === "unassigned" && row.dataset.assignee !== "") { return false; }
    if (f.inbox && f.inbox !== "0" && row.dataset.inbox !== f.inbox) { return false; }
    if (f.q && row.dataset.search.indexOf(f.q.toLowerCase()) < 0) { return false; }
    return true;
  }

  // After socket frames are swapped in: drop duplicates (a row inserted at
  // the top replaces its older copy; a timeline item already shown keeps
  // its place), drop rows outside the filter, refresh counts.
  function tidy() {
    var seen = {};
    document.querySelectorAll("#conv-list > .conv-row, .timeline > [id^=ev-]").forEach(function (el) {
      if (seen[el.id]) { el.remove(); } else { seen[el.id] = true; }
    });
    document.querySelectorAll(".timeline").forEach(inOrder);
    var list = document.getElementById("conv-list");
    if (list) {
      list.querySelectorAll(".conv-row").forEach(function (row) {
        if (!matches(row, list)) { row.remove(); }
      });
      var empty = document.getElementById("conv-list-empty");
      if (empty) { empty.hidden = list.children.length > 0; }
    }
    restoreViewers();
    document.querySelectorAll(".viewers [data-user]").forEach(function (a) {
      if (a.dataset.user === me()) { a.remove(); }
    });
    document.querySelectorAll(".typing [data-user]").forEach(function (t) {
      if (t.dataset.user === me()) { t.remove(); }
    });
    countNew();
  }

  // An action's own response also carries its new timeline items (in case
  // the socket is down), and its socket copy can land before or after it,
  // in either order with the response's settle: tidy after every swap,
  // once per burst.
  var tidyQueued = false;
  function tidySoon() {
    if (tidyQueued) { return; }
    tidyQueued = true;
    queueMicrotask(function () { tidyQueued = false; tidy(); });
  }
  document.addEventListener("htmx:afterSwap", tidySoon);
  document.addEventListener("htmx:oobAfterSwap", tidySoon);

  // Timeline items are appended as they arrive, which is not always the
  // order they happened: a change handed to the server's publisher late
  // still sends its items. Each carries its event id (data-seq); move any
  // item that landed after a newer one back to its place.
  function inOrder(timeline) {
    var items = Array.prototype.slice.call(timeline.querySelectorAll(":scope > [data-seq]"));
    var sorted = items.slice().sort(function (a, b) { return Number(a.dataset.seq) - Number(b.dataset.seq); });
    if (sorted.every(function (el, i) { return el === items[i]; })) { return; }
    sorted.forEach(function (el) { timeline.appendChild(el); });
  }

  // The tab title shows how many New conversations the list holds.
  function countNew() {
    if (!document.getElementById("conv-list")) { return; }
    var baseTitle = document.title.replace(/^\(\d+\) /, "");
    var rows = document.querySelectorAll('#conv-list > .conv-row[data-status="new"]');
    var fresh = false;
    rows.forEach(function (r) {
      if (!knownNew[r.id]) { knownNew[r.id] = true; fresh = true; }
    });
    document.title = (rows.length ? "(" + rows.length + ") " : "") + baseTitle;
    if (fresh && localStorage.getItem("parley.sound") === "on") { beep(); }
  }

  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.12);
    } catch (e) { /* sound is optional */ }
  }

  document.addEventListener("htmx:wsConnecting", function () { setLive("connecting", "Connecting…"); });
  document.addEventListener("htmx:wsOpen", function (e) {
    socket = e.detail.socketWrapper;
    viewing = currentThread();
    // Ask for everything after the newest event this page shows.
    send({ resume: seq, view: viewing });
    setLive("live", "Live");
  });
  document.addEventListener("htmx:wsClose", function (e) {
    socket = null;
    var code = e.detail.event && e.detail.event.code;
    if (code === 4001) { window.location.href = "/login"; return; } // signed out
    setLive("offline", "Offline — reconnecting");
    // The ws extension reconnects by itself only after abnormal closes; a
    // server going away (1001) or dropping a slow socket (1008) also means
    // "come back and catch up".
    if ((code === 1001 || code === 1008) && chats()) {
      var wrapper = e.detail.socketWrapper;
      setTimeout(function () { if (chats()) { wrapper.reconnect(); } }, 1000 + Math.random() * 2000);
    }
  });
  document.addEventListener("htmx:wsAfterMessage", function (e) {
    var re = /data-seq="(\d+)"/g, m;
    while ((m = re.exec(e.detail.message)) !== null) {
      if (Number(m[1]) > seq) { seq = Number(m[1]); }
    }
    if (e.detail.message.indexOf('id="resync"') >= 0) { window.location.reload(); return; }
    var vr = /innerHTML:#((?:thread-)?viewers-\d+)/g, v;
    while ((v = vr.exec(e.detail.message)) !== null) {
      var el = document.getElementById(v[1]);
      if (el) { viewers[v[1]] = el.innerHTML; }
    }
    tidy();
    if (e.detail.message.indexOf("beforeend:#timeline-") >= 0) { scrollThread(); }
  });

  // Keep the open thread showing its newest message.
  function scrollThread() {
    var t = threadEl();
    var tl = t && t.querySelector(".timeline");
    if (tl) { tl.scrollTop = tl.scrollHeight; }
  }

  // A fresh page (or a swapped-in Chats module) starts from its own sequence.
  function adopt() {
    var sound = document.getElementById("sound-toggle");
    if (sound && !sound.dataset.bound) {
      sound.dataset.bound = "1";
      sound.checked = localStorage.getItem("parley.sound") === "on";
      sound.addEventListener("change", function () {
        localStorage.setItem("parley.sound", sound.checked ? "on" : "off");
      });
    }
    var c = chats();
    if (c && Number(c.dataset.seq) > seq) { seq = Number(c.dataset.seq); }
    knownNew = {};
    tidy();
    syncView();
    scrollThread();
  }
  document.addEventListener("DOMContentLoaded", adopt);
  document.addEventListener("htmx:afterSettle", adopt);

  // Times arrive in UTC; show them in the agent's own time zone, and keep
  // the list's relative times ("5m") current without a re-render.
  var clock = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  var day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
  var dayYear = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", year: "numeric" });
  function relative(t) {
    var s = (Date.now() - t.getTime()) / 1000;
    if (s < 60) { return "just now"; }
    if (s < 3600) { return Math.floor(s / 60) + "m"; }
    if (s < 86400) { return Math.floor(s / 3600) + "h"; }
    return (s < 365 * 86400 ? day : dayYear).format(t);
  }
  function localTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var t = new Date(el.getAttribute("datetime"));
      if (isNaN(t.getTime())) { return; }
      if (el.classList.contains("conv-time")) {
        el.textContent = relative(t);
      } else if (!el.dataset.local) {
        el.dataset.local = "1";
        el.textContent = clock.format(t);
      }
      el.title = t.toLocaleString();
    });
  }
  document.addEventListener("DOMContentLoaded", localTimes);
  document.addEventListener("htmx:afterSettle", localTimes);
  document.addEventListener("htmx:wsAfterMessage", localTimes);
  setInterval(localTimes, 30000);

  // Typing: at most one notice every 3 seconds while keys are pressed.
  var lastTyping = 0;
  document.addEventListener("input", function (e) {
    var id = e.target.dataset && e.target.dataset.typing;
    if (!id || Date.now() - lastTyping < 3000) { return; }
    lastTyping = Date.now();
    send({ typing: Number(id) });
  });
  // A typing notice fades when no newer one comes.
  setInterval(function () {
    document.querySelectorAll(".typing [data-at]").forEach(function (t) {
      if (Date.now() - Number(t.dataset.at) > 6000) { t.remove(); }
    });
  }, 1000);
})();
