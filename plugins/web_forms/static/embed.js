// Inside another site's frame (the embed snippet), tell that page how tall the form is, so its
// frame fits the form without a scroll bar. Only to the origins the office listed (data-origins):
// the browser drops a message to any other parent. Nothing else is sent.
(function () {
  "use strict";
  if (window.parent === window) return;
  var script = document.currentScript;
  var origins = ((script && script.getAttribute("data-origins")) || "").split(" ").filter(Boolean);
  if (!origins.length) return;
  var last = -1;
  function send() {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    origins.forEach(function (origin) {
      window.parent.postMessage({ type: "sigill-form-height", height: height }, origin);
    });
  }
  if (window.ResizeObserver) new ResizeObserver(send).observe(document.body);
  window.addEventListener("load", send);
  send();
}());
