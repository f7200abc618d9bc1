// The kiosk tablet. On the idle screen: ask every 0.7 s whether a party was sent here, then open
// their signing page in place of the idle screen. On that signing page: ask every second whether
// it is still this party's turn; go back to idle (in place, so Back leads nowhere) when the officer
// cancels, a few seconds after the party signed or declined, or after 2 minutes without a touch.
// Nothing is kept in local or session storage.
(function () {
  "use strict";
  try { window.localStorage.clear(); window.sessionStorage.clear(); } catch (e) { /* storage off */ }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return {status: r.status, body: body}; }); });
  }

  var idle = document.getElementById("kiosk-idle");
  if (idle) {
    var stateUrl = idle.getAttribute("data-state-url");
    var poll = function () {
      getJSON(stateUrl).then(function (r) {
        if (r.body.url) { window.location.replace(r.body.url); return; }
        if (r.status === 401) { window.location.replace(r.body.url || window.location.pathname); return; }
        window.setTimeout(poll, 700);
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
  ["pointerdown", "touchstart", "keydown", "scroll", "input"].forEach(function (kind) {
    window.addEventListener(kind, function () { lastTouch = Date.now(); touched = true; },
                            {passive: true, capture: true});
  });
  var check = function () {
    var headers = {"Accept": "application/json"};
    fetch(watchUrl + (touched ? "?touched=1" : ""), {credentials: "same-origin", cache: "no-store", headers: headers})
      .then(function (r) {
        if (r.status === 404) {
          // The push ended (the officer cancelled, or sent another party): back to idle. Never
          // answered at all: not a kiosk tablet (the party's own link), nothing to do.
          if (idleUrl) { window.location.replace(idleUrl); }
          return null;
        }
        return r.json();
      })
      .then(function (s) {
        if (s === null) { return; }
        idleUrl = s.idle_url;
        if (s.state === "idle") { window.location.replace(s.idle_url); return; }
        if (s.state === "signed" || s.state === "declined") {
          finishedAt = finishedAt || Date.now();
          if (Date.now() - finishedAt > 6000) { window.location.replace(s.end_url); return; }
        }
        if (Date.now() - lastTouch > s.timeout * 1000) { window.location.replace(s.end_url); return; }
        window.setTimeout(check, 1000);
      })
      .catch(function () { window.setTimeout(check, 2000); });
  };
  check();
}());
