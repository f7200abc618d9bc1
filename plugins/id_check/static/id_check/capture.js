/* The ID photo inputs of the capture forms: each chosen photo is measured in the browser
   (capture_quality.js, with the server's limits) and a "take it again" message is shown at the
   input, which then refuses to submit until a good photo is chosen. The server checks again. */
(function () {
  "use strict";

  function check(input, form) {
    var limits = JSON.parse(form.getAttribute("data-limits"));
    var messages = JSON.parse(form.getAttribute("data-messages"));
    var out = document.getElementById(input.id + "-check");
    input.setCustomValidity("");
    if (out) { out.textContent = ""; }
    var file = input.files && input.files[0];
    if (!file || !window.SigillIdCheck) { return; }
    var url = URL.createObjectURL(file);
    var image = new Image();
    image.onload = function () {
      var result = window.SigillIdCheck.measureCapture(image, image.naturalWidth, image.naturalHeight, limits);
      URL.revokeObjectURL(url);
      var text = result.problems.map(function (p) { return messages[p] || p; }).join(" ");
      input.setCustomValidity(text);
      input.setAttribute("aria-invalid", text ? "true" : "false");
      if (out) { out.textContent = text; }
    };
    image.onerror = function () { URL.revokeObjectURL(url); };  // the server says what is wrong
    image.src = url;
  }

  document.querySelectorAll("form[data-id-check]").forEach(function (form) {
    form.querySelectorAll("input[data-id-photo]").forEach(function (input) {
      input.addEventListener("change", function () { check(input, form); });
    });
  });
}());
