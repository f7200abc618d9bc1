// The stamp page: "Select all" ticks every case that can be ticked.
(function () {
  "use strict";
  var all = document.getElementById("stamp-all");
  if (!all) { return; }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name='case']:not(:disabled)"));
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = boxes.every(function (b) { return b.checked; });
    });
  });
}());

// After signing: each signed case's state, polled until none is being sealed any more.
(function () {
  "use strict";
  var list = document.getElementById("stamp-progress");
  if (!list || !window.fetch) { return; }
  var items = Array.prototype.slice.call(list.querySelectorAll("li[data-case]"));
  // The manifest names every case of the stamp signature (a list of 1,000 ids would not fit a URL).
  var query = list.dataset.manifest ? "manifest=" + encodeURIComponent(list.dataset.manifest)
    : items.map(function (li) { return "case=" + encodeURIComponent(li.dataset.case); }).join("&");
  var rounds = 0;
  function poll() {
    rounds += 1;
    fetch(list.dataset.url + "?" + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (states) {
        var busy = false;
        items.forEach(function (li) {
          var state = states[li.dataset.case];
          if (!state) { return; }
          li.dataset.outcome = state.outcome;
          li.querySelector(".stamp-state").textContent = state.text;
          if (state.outcome === "sealing" || state.outcome === "signing") { busy = true; }
          if (state.outcome === "sealing_failed" && !li.querySelector("a.stamp-retry")) {
            var retry = document.createElement("a");  // the page lists the failed seal with its button
            retry.className = "stamp-retry";
            retry.href = list.dataset.page;
            retry.textContent = list.dataset.retryLabel;
            li.appendChild(document.createTextNode(" "));
            li.appendChild(retry);
          }
        });
        if (busy && rounds < 300) { setTimeout(poll, 2000); }
      })
      .catch(function () { if (rounds < 300) { setTimeout(poll, 5000); } });
  }
  poll();
}());
