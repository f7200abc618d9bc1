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
