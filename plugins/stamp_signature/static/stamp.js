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

// Only the methods every ticked case allows are shown (all the page offers while none is ticked).
(function () {
  "use strict";
  var blocks = Array.prototype.slice.call(document.querySelectorAll("[data-stamp-method]"));
  var none = document.getElementById("stamp-no-common");
  if (!blocks.length) { return; }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name='case']"));
  function update() {
    var allowed = null;
    boxes.forEach(function (box) {
      if (!box.checked) { return; }
      var row = box.closest("li[data-methods]");
      var names = row ? row.dataset.methods.split(" ") : [];
      allowed = allowed === null ? names : allowed.filter(function (n) { return names.indexOf(n) !== -1; });
    });
    var shown = 0;
    blocks.forEach(function (block) {
      block.hidden = allowed !== null && allowed.indexOf(block.dataset.stampMethod) === -1;
      if (!block.hidden) { shown += 1; }
    });
    if (none) { none.hidden = shown > 0; }
  }
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  var all = document.getElementById("stamp-all");
  if (all) { all.addEventListener("change", update); }
  update();
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
