/* The signer page: page viewer, compare by SHA-256 in the browser, method choice, signature pad.
   Everything works without this script except drawing; forms post normally. */
(function () {
  "use strict";

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function setupViewer(viewer) {
    var tools = viewer.querySelector(".viewer-tools");
    if (!tools) { return; }
    var pages = viewer.querySelector(".pages");
    var figures = Array.from(viewer.querySelectorAll(".page"));
    var current = viewer.querySelector("[data-current]");
    var zoomLabel = viewer.querySelector("[data-zoom]");
    var zoom = 100;
    var index = 0;
    var loading = null;
    tools.hidden = false;
    // Long documents come in pieces: the next piece loads when its link scrolls near, or when
    // "next page" goes past the last page loaded (without this script the link opens a page).
    function loadMore() {
      var more = pages.querySelector("[data-more-pages]");
      if (!more) { return Promise.resolve(false); }
      if (loading) { return loading; }
      var holder = more.parentNode;
      loading = fetch(more.href + "&fragment=1", { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      }).then(function (html) {
        var range = document.createRange();
        range.selectNode(holder);
        holder.replaceWith(range.createContextualFragment(html));
        figures = Array.from(viewer.querySelectorAll(".page"));
        watch();
        document.dispatchEvent(new CustomEvent("sigill:pages-added"));
        return true;
      }).catch(function () { return false; }).finally(function () { loading = null; });
      return loading;
    }
    var observer = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { loadMore(); }
    }, { root: pages, rootMargin: "1200px 0px" }) : null;
    function watch() {
      var more = pages.querySelector(".more-pages");
      if (observer && more) { observer.observe(more); }
    }
    watch();
    function show(i) {
      if (i >= figures.length && pages.querySelector("[data-more-pages]")) {
        loadMore().then(function (added) { if (added) { show(i); } });
        return;
      }
      index = Math.max(0, Math.min(figures.length - 1, i));
      pages.scrollTop = figures[index].offsetTop - 8;
      current.textContent = String(index + 1);
    }
    function setZoom(z) {
      zoom = Math.max(50, Math.min(300, z));
      pages.style.setProperty("--zoom", zoom / 100);
      zoomLabel.textContent = zoom + " %";
    }
    viewer.querySelector("[data-prev]").addEventListener("click", function () { show(index - 1); });
    viewer.querySelector("[data-next]").addEventListener("click", function () { show(index + 1); });
    viewer.querySelector("[data-zoom-in]").addEventListener("click", function () { setZoom(zoom + 25); });
    viewer.querySelector("[data-zoom-out]").addEventListener("click", function () { setZoom(zoom - 25); });
    pages.addEventListener("scroll", function () {
      var top = pages.scrollTop + pages.clientHeight / 3;
      for (var i = figures.length - 1; i >= 0; i--) {
        if (figures[i].offsetTop <= top) { index = i; break; }
      }
      current.textContent = String(index + 1);
    }, { passive: true });
    pages.addEventListener("keydown", function (e) {
      if (e.key === "PageDown" || e.key === "ArrowRight") { show(index + 1); e.preventDefault(); }
      if (e.key === "PageUp" || e.key === "ArrowLeft") { show(index - 1); e.preventDefault(); }
    });
  }

  function setupCompare(form) {
    var input = form.querySelector("input[type=file]");
    var result = form.querySelector(".compare-result");
    var button = form.querySelector("[data-show-differences]");
    var note = form.querySelector("[data-upload-note]");
    if (!(window.crypto && window.crypto.subtle)) {
      result.textContent = result.dataset.unsupported;
      return;
    }
    button.hidden = true;
    note.hidden = true;
    input.addEventListener("change", function () {
      button.hidden = true;
      note.hidden = true;
      result.className = "compare-result";
      var file = input.files && input.files[0];
      if (!file) { result.textContent = ""; return; }
      file.arrayBuffer().then(function (data) {
        return window.crypto.subtle.digest("SHA-256", data);
      }).then(function (digest) {
        var same = hex(digest) === input.dataset.sha256;
        result.textContent = same ? result.dataset.same : result.dataset.different;
        result.className = "compare-result " + (same ? "same" : "different");
        button.hidden = same;
        note.hidden = same;
      });
    });
  }

  function setupMethodChoice(form) {
    var choice = form.querySelector(".method-choice");
    if (!choice) { return; }
    var sections = Array.from(form.querySelectorAll(".method"));
    function update() {
      var picked = choice.querySelector("input:checked").value;
      sections.forEach(function (s) { s.hidden = s.dataset.method !== picked; });
    }
    var wanted = (location.hash || "").replace("#method-", "");
    choice.querySelectorAll("input").forEach(function (radio) {
      if (radio.value === wanted) { radio.checked = true; }
      radio.addEventListener("change", update);
    });
    choice.hidden = false;
    update();
  }

  // A refusal about one input (a wrong SMS code, the consent box) is shown at that input, which is
  // marked autofocus; the method's section may have been hidden at load, so focus it here.
  function focusRefusedInput(form) {
    var input = form.querySelector("[aria-invalid='true'][autofocus], button[autofocus]");
    if (input && document.activeElement !== input) {
      input.focus();
    }
  }

  function setupPad(form) {
    var canvas = document.getElementById("touch-pad");
    if (!canvas || !window.SignaturePad) { return; }
    var pad = new window.SignaturePad(canvas, { penColor: "#0b1a3a", minWidth: 0.8, maxWidth: 2.6 });
    var error = document.getElementById("touch-error");
    function resize() {
      var data = pad.toData();
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (data.length) { pad.fromData(data); }
    }
    window.addEventListener("resize", resize);
    resize();
    if (canvas.dataset.strokes) {
      try { pad.fromData(JSON.parse(canvas.dataset.strokes)); } catch (e) { /* a fresh pad */ }
    }
    pad.addEventListener("endStroke", function () { error.hidden = true; });
    document.getElementById("touch-clear").addEventListener("click", function () {
      pad.clear();
      canvas.focus();
    });
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || submitter.value !== "touch") { return; }
      if (pad.isEmpty()) {
        event.preventDefault();
        error.hidden = false;
        canvas.focus();
        return;
      }
      document.getElementById("touch-strokes").value = JSON.stringify(pad.toData());
      document.getElementById("touch-png").value = pad.toDataURL("image/png");
      document.getElementById("touch-width").value = String(canvas.offsetWidth);
      document.getElementById("touch-height").value = String(canvas.offsetHeight);
    });
  }

  function preventDoubleSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      var submitter = event.submitter;
      if (submitter && submitter.name === "method") {
        setTimeout(function () { submitter.disabled = true; }, 0);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".viewer").forEach(setupViewer);
    document.querySelectorAll("form.compare").forEach(setupCompare);
    var form = document.getElementById("sign-form");
    if (form) {
      setupMethodChoice(form);
      setupPad(form);
      preventDoubleSubmit(form);
      focusRefusedInput(form);
    }
  });
})();
