// The result page's "Print" button (shown only with JavaScript on; the browser's own print works too).
(function () {
  "use strict";
  var button = document.getElementById("kiosk-print-now");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
}());
