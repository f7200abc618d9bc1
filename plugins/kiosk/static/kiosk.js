// The kiosk tablet. On the idle screen: ask every 0.5 s whether a party was sent here (a cheap
// "has my version changed?", see views.poll), then open
// their signing page in place of the idle screen. On that signing page (and on a plugin's step
// page before signing, e.g. the ID check): ask every second whether it is still this party's
// turn; go back to idle (in place, so Back leads nowhere) when the officer cancels, a few seconds
// after the party signed or declined, or after 2 minutes without a touch; open the signing page
// again when a step before signing changed (the officer checked the ID document at the counter).
//
// Every navigation of the signing pages replaces the current history entry instead of adding one:
// links open with location.replace, forms are sent with fetch and their answer is written in place
// of the page. So after the party is done the tablet's history is as long as before the push, and
// Back cannot lead to the documents.
// Nothing is kept in local or session storage.
(function () {
  "use strict";
  try { window.localStorage.clear(); window.sessionStorage.clear(); } catch (e) { /* storage off */ }

  // A page written over this one (a form's answer) runs this script again; the old loops stop.
  var generation = (window.__kioskGeneration || 0) + 1;
  window.__kioskGeneration = generation;
  function current() { return window.__kioskGeneration === generation; }

  var idle = document.getElementById("kiosk-idle");
  if (idle) {
    // The first ask has no version: the full state (a push may be waiting). Then each ask carries
    // the version the tablet knows; "204 No Content" means nothing changed, and costs the server
    // next to nothing. Any other answer is the full state again, with the version to ask with.
    var pollUrl = idle.getAttribute("data-poll-url");
    var known = null;
    var poll = function () {
      if (!current()) { return; }
      var url = pollUrl + (known === null ? "" : "?v=" + encodeURIComponent(known));
      fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
        .then(function (r) {
          if (r.status === 204) { return null; }
          return r.json().then(function (body) { return {status: r.status, body: body}; });
        })
        .then(function (r) {
          if (!current()) { return; }
          if (r !== null) {
            if (r.status === 401) { window.location.replace(r.body.url || window.location.pathname); return; }
            if (r.body.url) { window.location.replace(r.body.url); return; }
            known = typeof r.body.version === "number" ? r.body.version : null;
          }
          window.setTimeout(poll, 500);
        }).catch(function () { window.setTimeout(poll, 2000); });
    };
    poll();
    return;
  }

  var watch = document.getElementById("kiosk-watch");
  if (!watch) { return; }
  var watchUrl = watch.getAttribute("data-watch-url");
  var lastTouch = Date.now();
  var touched = false;
  var finishedAt = null;
  var idleUrl = null;
  var steps = null;

  function sameOrigin(url) {
    try { return new URL(url, window.location.href).origin === window.location.origin; } catch (e) { return false; }
  }

  // --- navigation without history -------------------------------------------------------------
  function showAnswer(response) {
    if (!/text\/html/.test(response.headers.get("Content-Type") || "")) {
      window.location.replace(response.url);
      return null;
    }
    // The answer (after its redirect, if any) is shown in place: fetching it again would lose what
    // it says once (a flash: "We sent a code ..."). The address becomes the answer's, without a new
    // history entry; on the same page the method the party had picked stays picked.
    var picked = document.querySelector(".method-choice input:checked");
    var target = new URL(response.url);
    var here = new URL(window.location.href);
    if (picked && target.pathname === here.pathname) { target.hash = "method-" + picked.value; }
    return response.text().then(function (html) {
      window.history.replaceState(null, "", target.toString());
      document.open();
      document.write(html);
      document.close();
    });
  }

  function send(form, submitter) {
    var action = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action") ||
      window.location.href;
    var method = ((submitter && submitter.getAttribute("formmethod")) || form.getAttribute("method") || "get")
      .toLowerCase();
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    if (method !== "post") {
      var url = new URL(action, window.location.href);
      data.forEach(function (value, key) { if (typeof value === "string") { url.searchParams.append(key, value); } });
      window.location.replace(url.toString());
      return;
    }
    fetch(action, {method: "POST", body: data, credentials: "same-origin", cache: "no-store"})
      .then(showAnswer)
      .catch(function () { window.location.replace(window.location.href); });
  }

  function takeOverNavigation() {
    document.addEventListener("click", function (event) {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
        return;
      }
      var link = event.target.closest ? event.target.closest("a[href]") : null;
      if (!link || link.hasAttribute("download") || (link.target && link.target !== "_self")) { return; }
      var href = link.getAttribute("href");
      if (!href || href.charAt(0) === "#" || !sameOrigin(link.href)) { return; }
      var target = new URL(link.href);
      if (target.pathname === window.location.pathname && target.search === window.location.search && target.hash) {
        return;  // a jump within this page
      }
      event.preventDefault();
      window.location.replace(link.href);
    });
    // After every other handler (they may stop the submit, or fill hidden inputs first).
    window.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      var form = event.target;
      if (!sameOrigin(form.action || window.location.href)) { return; }
      event.preventDefault();
      send(form, event.submitter || null);
    });
    // form.submit() (BankID's finish) fires no submit event.
    HTMLFormElement.prototype.submit = function () { send(this, null); };
  }

  // From the start (a tap may come before the first answer). On the party's own link while they
  // are on a tablet too, this only means their history does not grow either.
  takeOverNavigation();
  ["pointerdown", "touchstart", "keydown", "scroll", "input"].forEach(function (kind) {
    window.addEventListener(kind, function () { lastTouch = Date.now(); touched = true; },
                            {passive: true, capture: true});
  });
  var check = function () {
    if (!current()) { return; }
    var headers = {"Accept": "application/json"};
    fetch(watchUrl + (touched ? "?touched=1" : ""), {credentials: "same-origin", cache: "no-store", headers: headers})
      .then(function (r) {
        if (r.status === 404) {
          // The push ended (the officer cancelled, or sent another party): back to idle. The answer
          // names the idle screen when it comes to a tablet: this page may have had no answer yet
          // (a cancel before its first question left it on the documents). No idle screen named
          // and none known: not a kiosk tablet (the party's own link), nothing to do.
          return r.json().catch(function () { return {}; }).then(function (body) {
            var to = (body && body.idle_url) || idleUrl;
            if (to && current()) { window.location.replace(to); }
            return null;
          });
        }
        return r.json();
      })
      .then(function (s) {
        if (s === null || !current()) { return; }
        idleUrl = s.idle_url;
        if (s.state === "idle") { window.location.replace(s.idle_url); return; }
        if (s.state === "signed" || s.state === "declined") {
          finishedAt = finishedAt || Date.now();
          if (Date.now() - finishedAt > 6000) { window.location.replace(s.end_url); return; }
        }
        if (Date.now() - lastTouch > s.timeout * 1000) { window.location.replace(s.end_url); return; }
        if (steps === null) {
          steps = s.steps;
        } else if (s.steps !== steps) {
          // A step before signing changed elsewhere (the officer checked the ID at the counter).
          window.location.replace(s.open_url);
          return;
        }
        window.setTimeout(check, 1000);
      })
      .catch(function () { window.setTimeout(check, 2000); });
  };
  check();
}());
