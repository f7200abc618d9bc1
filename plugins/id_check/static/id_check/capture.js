/* The ID photo inputs of the capture forms (the signer's step page, the office's in-person check).

   1. Each chosen photo is measured in the browser (capture_quality.js, with the server's limits);
      a "take it again" message is shown at the input, which then refuses to submit until a good
      photo is chosen. The server checks again.
   2. On a computer (a fine pointer) with a camera, a "Use the camera" button opens the webcam
      (getUserMedia) with an outline to fit the document in; "Take the photo" measures the frame,
      says what to do when it must be taken again, and otherwise puts the photo into the input as
      if it had been chosen. Phones and tablets use the file input's own camera (capture). */
(function () {
  "use strict";

  function json(form, name) {
    try { return JSON.parse(form.getAttribute(name) || "{}"); } catch (e) { return {}; }
  }

  function problemsText(problems, messages) {
    return problems.map(function (p) { return messages[p] || p; }).join(" ");
  }

  function show(input, text) {
    var out = document.getElementById(input.id + "-check");
    input.setCustomValidity(text);
    input.setAttribute("aria-invalid", text ? "true" : "false");
    if (out) { out.textContent = text; }
  }

  function check(input, form) {
    var file = input.files && input.files[0];
    show(input, "");
    input.removeAttribute("aria-invalid");
    if (!file || !window.SigillIdCheck) { return; }
    var url = URL.createObjectURL(file);
    var image = new Image();
    image.onload = function () {
      var result = window.SigillIdCheck.measureCapture(image, image.naturalWidth, image.naturalHeight,
                                                       json(form, "data-limits"));
      URL.revokeObjectURL(url);
      show(input, problemsText(result.problems, json(form, "data-messages")));
    };
    image.onerror = function () { URL.revokeObjectURL(url); };  // the server says what is wrong
    image.src = url;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function camera(input, form) {
    var texts = json(form, "data-camera");
    var open = el("button", {type: "button", "class": "id-camera-open"}, texts.use || "Use the camera");
    input.parentNode.insertBefore(open, input.nextSibling);
    var panel = null, stream = null;

    function close() {
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
      stream = null;
      if (panel) { panel.remove(); }
      panel = null;
      open.hidden = false;
      open.focus();
    }

    open.addEventListener("click", function () {
      panel = el("div", {"class": "id-camera", role: "group", "aria-label": texts.use || ""});
      panel.style.cssText = "position:relative;max-width:100%;margin:.5rem 0";
      var frame = el("div", {});
      frame.style.cssText = "position:relative;display:inline-block;max-width:100%";
      var video = el("video", {autoplay: "", playsinline: "", muted: ""});
      video.muted = true;
      video.style.cssText = "display:block;max-width:100%;height:auto;background:#000";
      var outline = el("div", {"class": "id-camera-outline", "aria-hidden": "true"});
      // An ID-1 card or a passport's data page (ratio ~1.42-1.59) filling most of the frame.
      outline.style.cssText = "position:absolute;left:8%;right:8%;top:14%;bottom:14%;border:3px dashed #fff;" +
                              "border-radius:12px;box-shadow:0 0 0 9999px rgba(0,0,0,.35);pointer-events:none";
      var hint = el("p", {"class": "hint"}, texts.fit || "");
      var said = el("p", {"class": "field-error", "aria-live": "polite", id: input.id + "-camera-message"});
      var take = el("button", {type: "button", "class": "primary"}, texts.take || "Take the photo");
      var cancel = el("button", {type: "button"}, texts.cancel || "Cancel");
      frame.appendChild(video);
      frame.appendChild(outline);
      [frame, hint, said, take, cancel].forEach(function (n) { panel.appendChild(n); });
      open.hidden = true;
      open.parentNode.insertBefore(panel, open.nextSibling);
      cancel.addEventListener("click", close);
      take.disabled = true;
      navigator.mediaDevices.getUserMedia({video: {facingMode: "environment", width: {ideal: 1920},
                                                   height: {ideal: 1080}}, audio: false})
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          return video.play();
        })
        .then(function () { take.disabled = false; take.focus(); })
        .catch(function () { said.textContent = texts.failed || ""; });

      take.addEventListener("click", function () {
        var w = video.videoWidth, h = video.videoHeight;
        if (!w || !h) { return; }
        var canvas = el("canvas", {});
        canvas.width = w;
        canvas.height = h;
        canvas.getContext("2d").drawImage(video, 0, 0, w, h);
        var result = window.SigillIdCheck.measureCapture(canvas, w, h, json(form, "data-limits"));
        var text = problemsText(result.problems, json(form, "data-messages"));
        said.textContent = text;
        if (text) { return; }  // the camera stays open: take it again
        canvas.toBlob(function (blob) {
          var transfer = new DataTransfer();
          transfer.items.add(new File([blob], "camera-" + input.name + ".jpg", {type: "image/jpeg"}));
          input.files = transfer.files;
          close();
          show(input, "");
          var out = document.getElementById(input.id + "-check");
          if (out) { out.textContent = texts.taken || ""; }
        }, "image/jpeg", 0.92);
      });
    });
  }

  var wantsCamera = window.matchMedia && window.matchMedia("(pointer: fine)").matches &&
                    navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.DataTransfer;
  document.querySelectorAll("form[data-id-check]").forEach(function (form) {
    form.querySelectorAll("input[data-id-photo]").forEach(function (input) {
      input.addEventListener("change", function () { check(input, form); });
      // A photo chosen before this script ran (a slow page, or a form the browser restored on
      // "back") is measured now, so its "take it again" message is never missing.
      if (input.files && input.files.length) { check(input, form); }
      if (wantsCamera) { camera(input, form); }
    });
  });
}());
