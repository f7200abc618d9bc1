// What each tablet shows, asked every 2 s: on the case page's kiosk panel (this case's tablets)
// and on the tablet overview (all of them), so the officer sees the party open, sign and finish
// without reloading; a tablet back to idle says so.
(function () {
  "use strict";
  var panel = document.querySelector("[data-progress-url]");
  if (!panel) { return; }
  var url = panel.getAttribute("data-progress-url");
  function poll() {
    fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var showing = body.devices.map(function (d) { return String(d.id); });
        Array.prototype.forEach.call(panel.querySelectorAll(".kiosk-progress"), function (row) {
          if (showing.indexOf(row.getAttribute("data-device")) < 0) {
            row.setAttribute("data-state", "idle");
            row.querySelector(".kiosk-state").textContent = panel.getAttribute("data-idle-text");
          }
        });
        body.devices.forEach(function (d) {
          var row = panel.querySelector('.kiosk-progress[data-device="' + d.id + '"]');
          if (row) {
            row.setAttribute("data-state", d.state);
            row.querySelector(".kiosk-state").textContent = d.text;
          }
        });
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
