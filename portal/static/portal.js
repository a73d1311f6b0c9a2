// hookgate portal: small progressive enhancements. Every page works
// without this file.
(function () {
  "use strict";

  // Copy buttons: data-copy names the element whose value or text to copy.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    var el = document.querySelector(btn.getAttribute("data-copy"));
    if (!el) return;
    var text = el.value !== undefined && el.tagName !== "PRE" ? el.value : el.textContent;
    var done = function () {
      var old = btn.textContent;
      btn.textContent = "Copied";
      btn.setAttribute("aria-live", "polite");
      setTimeout(function () { btn.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(el, text); done(); });
    } else {
      fallback(el, text);
      done();
    }
  });

  function fallback(el, text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "absolute";
    ta.style.left = "-9999px";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selectable */ }
    document.body.removeChild(ta);
  }

  // Confirmations on dangerous forms and buttons.
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    var msg = f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-confirm-click]");
    if (b && !window.confirm(b.getAttribute("data-confirm-click"))) ev.preventDefault();
  });

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  // Job progress (recoveries, replays): data-poll is the state URL.
  document.querySelectorAll("[data-poll]").forEach(function (box) {
    var url = box.getAttribute("data-poll");
    var set = function (name, v) {
      box.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
        if (el.tagName === "PROGRESS") { el.max = Math.max(1, v.total); el.value = v.done; }
        else el.textContent = v[name];
      });
    };
    var tick = function () {
      getJSON(url).then(function (s) {
        set("status", s); set("done", s); set("total", s); set("succeeded", s); set("failed", s); set("progress", s);
        var err = box.querySelector('[data-field="error"]');
        if (err && s.error) { err.textContent = s.error; err.hidden = false; }
        if (!s.finished || s.succeeded + s.failed < s.done) setTimeout(tick, 1000);
      }).catch(function () { setTimeout(tick, 3000); });
    };
    setTimeout(tick, 500);
  });

  // A pending delivery: reload when its state changes.
  document.querySelectorAll("[data-watch]").forEach(function (box) {
    var url = box.getAttribute("data-watch");
    var status = box.getAttribute("data-status");
    var attempts = box.getAttribute("data-attempts");
    var tries = 0;
    var tick = function () {
      getJSON(url).then(function (s) {
        if (s.status !== status || String(s.attempts) !== attempts) { window.location.reload(); return; }
        if (++tries < 120) setTimeout(tick, 500);
      }).catch(function () { setTimeout(tick, 2000); });
    };
    setTimeout(tick, 300);
  });

  // Live panels: data-refresh (ms) re-fetches the page's fragment.
  document.querySelectorAll("[data-refresh]").forEach(function (box) {
    var every = parseInt(box.getAttribute("data-refresh"), 10) || 5000;
    var stamp = document.getElementById("refreshed");
    var tick = function () {
      var u = new URL(window.location.href);
      u.searchParams.set("fragment", "1");
      fetch(u.toString(), { credentials: "same-origin" }).then(function (r) {
        if (r.redirected || !r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      }).then(function (html) {
        box.innerHTML = html;
        if (stamp) stamp.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
      }).catch(function () { /* keep the last view */ }).then(function () { setTimeout(tick, every); });
    };
    setTimeout(tick, every);
  });
})();
