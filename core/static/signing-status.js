/* The page after signing: while other parties sign or the documents are being sealed, ask the
   server now and then what is true (/s/<token>/status); when it changes, put the new card in place
   (e.g. the download once the documents are sealed) and move focus to its heading so that screen
   readers say it. Without this script the page is right whenever it is loaded. */
(function () {
  "use strict";

  var card = document.querySelector("[data-status-url]");
  if (!card || !window.fetch) { return; }
  var url = card.getAttribute("data-status-url");
  var outcome = card.getAttribute("data-outcome");
  // Sealing takes seconds: look often at first. Other parties may take days: look rarely.
  var delay = outcome === "sealing" ? 2000 : 15000;
  var longest = outcome === "sealing" ? 15000 : 120000;

  function replaceCard() {
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("section.done");
        if (!fresh) { window.location.reload(); return; }
        var adopted = document.importNode(fresh, true);
        card.replaceWith(adopted);
        document.title = doc.title || document.title;
        var heading = adopted.querySelector("h1");
        if (heading) { heading.focus(); }
        card = adopted;
        if (adopted.hasAttribute("data-status-url")) {
          outcome = adopted.getAttribute("data-outcome");
          delay = outcome === "sealing" ? 2000 : 15000;
          schedule();
        }
      })
      .catch(function () { window.location.reload(); });
  }

  function check() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        return type.indexOf("application/json") === 0 ? response.json() : { outcome: "changed" };
      })
      .then(function (data) {
        if (data.outcome && data.outcome !== outcome) { return replaceCard(); }
        delay = Math.min(Math.round(delay * 1.3), longest);
        schedule();
      })
      .catch(function () {
        delay = Math.min(delay * 2, 300000);  // offline for a while: keep trying, less often
        schedule();
      });
  }

  function schedule() { window.setTimeout(check, delay); }

  schedule();
}());
