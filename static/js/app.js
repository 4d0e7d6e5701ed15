// Parley's own browser code. htmx does the heavy lifting; this file keeps
// the live Chats screen honest: which socket messages to send, removing
// duplicates after out-of-band swaps, hiding rows that left the current
// filter, the live/offline indicator and reconnecting, typing, the tab
// title count, busy controls and request errors, and the phone
// simulator's scroll position.
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

  // A 422 in HTML carries the form again with its errors next to the
  // fields: show it (htmx does not swap 4xx responses by default). A 422 in
  // plain text is a refusal to show next to the control (requestError).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status === 422 && /text\/html/.test(xhr.getResponseHeader("Content-Type") || "")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // Busy and failed requests. htmx disables the control (hx-disabled-elt)
  // and adds .htmx-request while a request runs; aria-busy says so to
  // assistive technology. A failure is shown in the role=alert element of
  // the nearest [data-request-errors] area, in the server's words or, when
  // Parley could not be reached, as such. Nothing is swapped on a failure,
  // so typed text stays.
  function requestElt(e) { return e.detail.requestConfig ? e.detail.requestConfig.elt : e.detail.elt; }
  function errorSlot(elt) {
    var area = elt && elt.closest && elt.closest("[data-request-errors]");
    return area ? area.querySelector("[data-request-error]") : null;
  }
  function showRequestError(e, text) {
    var elt = requestElt(e);
    if (!elt || elt.closest("[data-quiet-errors]")) { return; }
    var slot = errorSlot(elt);
    if (!slot) { return; }
    slot.textContent = text;
    slot.hidden = false;
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = requestElt(e);
    if (!elt || !elt.setAttribute) { return; }
    elt.setAttribute("aria-busy", "true");
    if (!elt.closest("[data-quiet-errors]")) { // a new attempt clears the last error
      var slot = errorSlot(elt);
      if (slot) { slot.hidden = true; slot.textContent = ""; }
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = requestElt(e);
    if (elt && elt.removeAttribute) { elt.removeAttribute("aria-busy"); }
  });
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var text = xhr && /text\/plain/.test(xhr.getResponseHeader("Content-Type") || "") ? xhr.responseText.trim() : "";
    showRequestError(e, text || "Parley could not do that (error " + (xhr ? xhr.status : "?") + ") — try again.");
  });
  document.addEventListener("htmx:sendError", function (e) { showRequestError(e, "Could not reach Parley — try again."); });
  document.addEventListener("htmx:timeout", function (e) { showRequestError(e, "Could not reach Parley — try again."); });

  // The new-chat form's Subject field is for email: shown while the To
  // looks like an email address.
  document.addEventListener("input", function (e) {
    var id = e.target.dataset ? e.target.dataset.subjectFor : "";
    var field = id ? document.getElementById(id) : null;
    if (field) { field.hidden = e.target.value.indexOf("@") < 0; }
  });

  // Ctrl+Enter (⌘+Enter on a Mac) in the reply box sends; Enter alone
  // keeps its newline.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || !t.dataset || !t.dataset.typing) { return; }
    var form = t.closest("form");
    if (!form) { return; }
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button && button.disabled) { return; } // already sending
    form.requestSubmit(button || undefined);
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
  // header re-rendered for another change arrives with no avatars. The
  // rows' viewers come through #presence (a row may not be on this screen)
  // and are moved into the row when it is.
  var viewers = {};
  function takePresence() {
    document.querySelectorAll("#presence > [data-viewers]").forEach(function (p) {
      var id = p.dataset.viewers;
      viewers[id] = p.innerHTML;
      var el = document.getElementById(id);
      if (el) { el.innerHTML = p.innerHTML; }
      p.remove();
    });
  }
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

  // The row whose thread is loading: its socket copy (opening it made it
  // Open) can arrive before the thread does.
  var opening = null;
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = requestElt(e);
    if (elt && elt.classList && elt.classList.contains("conv-row")) { opening = elt.id; }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = requestElt(e);
    if (elt && elt.id === opening) { queueMicrotask(function () { opening = null; }); }
  });

  // A row belongs in the list only if it matches the list's filter, or is
  // the conversation open on screen (opening a New one makes it Open: it
  // stays in the New list while it is open).
  function matches(row, list) {
    if (row.id === "conv-" + currentThread() || row.id === opening) { return true; }
    var f = list.dataset;
    var st = row.dataset.status;
    if ((f.status === "active" || f.status === "") && st === "closed") { return false; }
    if (f.status && f.status !== "active" && f.status !== "all" && st !== f.status) { return false; }
    if (f.assignee === "mine" && row.dataset.assignee !== me()) { return false; }
    if (f.assignee === "unassigned" && row.dataset.assignee !== "") { return false; }
    if (f.inbox && f.inbox !== "0" && row.dataset.inbox !== f.inbox) { return false; }
    // A row the server found by its messages' text (data-text-match)
    // stays, and so do its live updates, which carry no snippet.
    if (row.dataset.textMatch) { textMatched[row.id] = true; }
    if (f.q && row.dataset.search.indexOf(f.q.toLowerCase()) < 0 && !textMatched[row.id]) { return false; }
    return true;
  }
  var textMatched = {};

  // After socket frames are swapped in: drop duplicates (a row inserted at
  // the top replaces its older copy; a timeline item already shown keeps
  // its place), drop rows outside the filter, refresh counts.
  var listWasEmpty = null;
  function tidy() {
    takePresence();
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
      var isEmpty = list.children.length === 0;
      if (empty) { empty.hidden = !isEmpty; }
      // Emptied live (the last row closed): ask what the filter now hides.
      if (empty && isEmpty && listWasEmpty === false) {
        var q = new URLSearchParams({ status: list.dataset.status || "active", assignee: list.dataset.assignee || "",
          inbox: list.dataset.inbox || "0", q: list.dataset.q || "" });
        htmx.ajax("GET", "/chats/empty?" + q.toString(), { target: empty, swap: "innerHTML" });
      }
      listWasEmpty = isEmpty;
      markCurrent(list);
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

  // An action's response and the socket both carry the action's timeline
  // items (the response in case the socket is down). The first to land
  // wins: an item whose id (ev-N, the event id) is already on the page is
  // not inserted again, whichever path brings it.
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var frag = e.detail.fragment;
    if (!frag || !frag.querySelectorAll || !e.detail.target.classList.contains("timeline")) { return; }
    frag.querySelectorAll("[id^=ev-]").forEach(function (el) {
      if (document.getElementById(el.id)) { el.remove(); }
    });
  });

  // The open conversation's row: marked as the current page (and styled),
  // without an unread badge, and read on the server as soon as this agent
  // can see it (the tab is visible).
  var readSent = {};
  function markCurrent(list) {
    var id = currentThread();
    list.querySelectorAll('.conv-row[aria-current]').forEach(function (r) {
      if (r.id !== "conv-" + id) { r.removeAttribute("aria-current"); }
    });
    var row = id ? document.getElementById("conv-" + id) : null;
    if (!row) { return; }
    row.setAttribute("aria-current", "page");
    var badge = row.querySelector(".unread");
    if (!badge || document.visibilityState !== "visible") { return; }
    badge.remove();
    row.classList.remove("is-unread");
    if (socket && viewing === id && readSent[id] !== row.dataset.activity) {
      readSent[id] = row.dataset.activity;
      send({ read: id });
    }
  }

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

  // Reconnecting. The ws extension retries after abnormal closes (a server
  // that died, a failed handshake) with htmx.config.wsReconnectDelay: a
  // jittered back-off capped at reconnectCap, so a server back after a
  // restart is found within seconds (the default grows to a minute). A
  // server going away (1001) or dropping a slow socket (1008) is a clean
  // close the extension leaves alone: this file retries those the same way.
  // Coming back online, or to the tab, retries at once.
  var reconnectCap = 5000;
  function backoff(n) {
    var d = Math.min(reconnectCap, 500 * Math.pow(2, Math.min(n, 10)));
    return d / 2 + Math.random() * d / 2;
  }
  htmx.config.wsReconnectDelay = backoff;
  var wrapper = null;     // the socket wrapper, kept while closed to reconnect it
  var liveState = "connecting";
  var ownRetry = null;    // this file's timer for clean closes
  var ownRetries = 0;
  var current = null;     // the WebSocket that last opened
  function reconnectNow() {
    if (liveState !== "offline" || !wrapper || !chats()) { return; }
    clearTimeout(ownRetry);
    ownRetry = null;
    wrapper.reconnect();
  }
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { reconnectNow(); tidy(); }
  });

  document.addEventListener("htmx:wsConnecting", function () {
    liveState = "connecting";
    setLive("connecting", "Connecting…");
  });
  document.addEventListener("htmx:wsOpen", function (e) {
    socket = e.detail.socketWrapper;
    wrapper = socket;
    current = e.detail.event && e.detail.event.target;
    liveState = "live";
    ownRetries = 0;
    viewing = currentThread();
    // Ask for everything after the newest event this page shows.
    send({ resume: seq, view: viewing });
    setLive("live", "Live");
  });
  document.addEventListener("htmx:wsClose", function (e) {
    var ws = e.detail.event && e.detail.event.target;
    // The open socket closing while a newer one connects is a replacement
    // (reconnect() closes the open one first), not news.
    if (liveState === "connecting" && ws && ws === current) { return; }
    socket = null;
    wrapper = e.detail.socketWrapper;
    liveState = "offline";
    var code = e.detail.event && e.detail.event.code;
    if (code === 4001) { window.location.href = "/login"; return; } // signed out
    setLive("offline", "Offline — reconnecting");
    if ((code === 1001 || code === 1008) && chats()) {
      clearTimeout(ownRetry);
      ownRetry = setTimeout(reconnectNow, backoff(ownRetries++));
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
    showHit();
  }
  // A thread opened from a search result (?hl=message id) shows that
  // message, marked, instead of the newest (when the timeline holds it).
  function showHit() {
    var hl = new URLSearchParams(window.location.search).get("hl");
    var t = threadEl();
    var m = hl && t && t.querySelector('[data-msg="' + Number(hl) + '"]');
    if (!m || m.classList.contains("msg-hit")) { return; }
    m.classList.add("msg-hit");
    m.scrollIntoView({ block: "center" });
  }
  document.addEventListener("DOMContentLoaded", adopt);
  document.addEventListener("htmx:afterSettle", adopt);

  // Times arrive in UTC; show them in the agent's own time zone, and keep
  // the list's relative times ("5m") current without a re-render.
  // The profile's time zone and clock (<body data-tz data-clock24>) win
  // over the browser's.
  var prefs = document.body ? document.body.dataset : {};
  function fmt(o) {
    if (prefs.tz) { o.timeZone = prefs.tz; }
    if (o.hour && prefs.clock24) { o.hourCycle = prefs.clock24 === "1" ? "h23" : "h12"; }
    try { return new Intl.DateTimeFormat(undefined, o); } catch (e) { delete o.timeZone; return new Intl.DateTimeFormat(undefined, o); }
  }
  var clock = fmt({ month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  var day = fmt({ month: "short", day: "numeric" });
  var dayYear = fmt({ month: "short", day: "numeric", year: "numeric" });
  var full = fmt({ year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  function relative(t) {
    var s = (Date.now() - t.getTime()) / 1000;
    if (s < 60) { return "just now"; }
    if (s < 3600) { return Math.floor(s / 60) + "m"; }
    if (s < 86400) { return Math.floor(s / 3600) + "h"; }
    return (s < 365 * 86400 ? day : dayYear).format(t);
  }
  function localTimes(root) {
    if (!root || !root.querySelectorAll) { return; }
    var els = Array.prototype.slice.call(root.querySelectorAll("time[datetime]"));
    if (root.matches && root.matches("time[datetime]")) { els.push(root); }
    els.forEach(function (el) {
      var t = new Date(el.getAttribute("datetime"));
      if (isNaN(t.getTime())) { return; }
      if (el.classList.contains("conv-time")) {
        el.textContent = relative(t);
      } else if (!el.dataset.local) {
        el.dataset.local = "1";
        el.textContent = (el.classList.contains("date") ? day : clock).format(t);
      }
      el.title = full.format(t);
    });
  }
  // Every element htmx inserts, by any path (a swap, an out-of-band swap of
  // an action's response, a socket frame), gets htmx:load: one place to
  // format times, so an event reads the same whichever path brought it.
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:load", function (e) { localTimes(e.target); });
  document.addEventListener("htmx:wsAfterMessage", function () { localTimes(document); });
  setInterval(function () { localTimes(document); }, 30000);

  // The phone simulator polls its thread every second and swaps it whole:
  // keep the reader's place, and stay at the bottom if they were there
  // (new texts then come into view).
  var phoneScroll = null;
  document.addEventListener("htmx:beforeSwap", function (e) {
    var el = document.getElementById("phone-screen");
    if (!el || !e.detail.target || !e.detail.target.contains(el)) { return; }
    phoneScroll = { top: el.scrollTop, atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < 8 };
  });
  function restorePhone() {
    var el = document.getElementById("phone-screen");
    if (!el) { return; }
    if (!phoneScroll || phoneScroll.atBottom) {
      el.scrollTop = el.scrollHeight;
    } else {
      el.scrollTop = phoneScroll.top;
    }
    phoneScroll = null;
  }
  document.addEventListener("htmx:afterSwap", restorePhone);
  document.addEventListener("DOMContentLoaded", restorePhone);

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
