/* BankID on the signer page: start an order, show the server's QR frame every second, show BankID's
   messages, and submit the signing form once BankID has confirmed. The QR secret stays on the server;
   the server calls BankID's collect at most every 2 seconds however often this page asks. */
(function () {
  "use strict";

  var POLL_MS = 1000;
  var MAX_NETWORK_ERRORS = 5;

  function setup(root) {
    var form = root.closest("form");
    var startButtons = root.querySelector("[data-bankid-start]");
    var progress = root.querySelector("[data-bankid-progress]");
    var qr = document.getElementById("bankid-qr");
    var qrHint = root.querySelector("[data-qr-hint]");
    var openLink = document.getElementById("bankid-open");
    var message = document.getElementById("bankid-message");
    var cancelButton = document.getElementById("bankid-cancel");
    var retryButton = document.getElementById("bankid-retry");
    var finishButton = document.getElementById("bankid-finish");
    var orderInput = document.getElementById("bankid-order");
    var consent = document.getElementById("consent");
    var methodInput = document.getElementById("bankid-method");
    var order = null;        // the pending order's id
    var device = "other";
    var timer = null;
    var busy = false;
    var submitting = false;
    var networkErrors = 0;

    if (window.matchMedia && window.matchMedia("(pointer: coarse)").matches) {
      // Phones and tablets: BankID is most likely on this very device.
      var same = document.getElementById("bankid-same");
      var other = document.getElementById("bankid-other");
      same.classList.add("primary");
      other.classList.remove("primary");
      startButtons.insertBefore(same, other);
    }

    function post(url, extra) {
      var data = new FormData(form);
      Object.keys(extra).forEach(function (key) { data.set(key, extra[key]); });
      return fetch(url, {
        method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          // The link changed state (signed elsewhere, revoked ...): the page says what happened.
          submitting = true;
          window.location.reload();
          return null;
        }
        return response.json();
      });
    }

    function stopPolling() {
      if (timer) { clearTimeout(timer); timer = null; }
    }

    function schedule() {
      stopPolling();
      timer = setTimeout(poll, POLL_MS);
    }

    function say(text, isError) {
      message.textContent = text || "";
      message.className = "bankid-message" + (isError ? " flash flash-error" : "");
      message.setAttribute("role", isError ? "alert" : "status");
    }

    function showQr(state) {
      var show = Boolean(state.qr_svg);
      qr.hidden = qrHint.hidden = !show;
      if (show && qr.dataset.qr !== state.qr) {
        qr.innerHTML = state.qr_svg;
        qr.dataset.qr = state.qr;
      }
      if (!show) { qr.dataset.qr = ""; }
      openLink.hidden = !state.autostart;
      if (state.autostart) { openLink.href = state.autostart; }
    }

    function fail(text) {
      stopPolling();
      order = null;
      showQr({});
      cancelButton.hidden = true;
      finishButton.hidden = true;
      say(text, true);
      retryButton.hidden = false;
      retryButton.focus();
    }

    function finish(state) {
      stopPolling();
      showQr({});
      cancelButton.hidden = true;
      say(state.message, false);
      orderInput.value = String(state.order);
      finishButton.hidden = false;
      if (consent) { consent.checked = true; }  // confirmed when the order was started
      // After a refused attempt the page shows why; the signer presses the button again.
      if (!submitting && !document.getElementById("sign-error")) { submit(); }
    }

    function submit() {
      if (consent && !consent.checked) {
        consent.reportValidity();
        return;
      }
      submitting = true;
      finishButton.disabled = true;
      methodInput.disabled = false;
      form.submit();
    }

    function handle(result) {
      if (!result) { return; }
      var state = result.data || {};
      if (!result.ok || state.status === "gone" || state.status === "refused" || state.status === "error") {
        fail(result.message || state.message);
        return;
      }
      device = state.same_device ? "same" : "other";
      if (state.status === "pending") {
        order = state.order;
        orderInput.value = String(state.order);
        showQr(state);
        say(state.message, false);
        cancelButton.hidden = false;
        retryButton.hidden = true;
        schedule();
      } else if (state.status === "complete") {
        finish(state);
      } else {
        fail(state.message);
      }
    }

    function offline() {
      networkErrors += 1;
      if (networkErrors >= MAX_NETWORK_ERRORS) {
        fail(root.dataset.offline);
      } else {
        schedule();
      }
    }

    // An answer is about the order it asked for: one that arrives after that order was cancelled or
    // replaced (the signer tried again) is dropped, else it put the old order's QR code back and
    // the page polled that order instead of the new one.
    function poll() {
      if (!order) { return; }
      if (busy) { schedule(); return; }  // the answer about an earlier order is still on its way
      busy = true;
      var asked = order;
      post(root.dataset.collect, { order: asked }).then(function (result) {
        if (order !== asked) { return; }
        networkErrors = 0;
        handle(result);
      }, function () {
        if (order === asked) { offline(); }
      }).then(function () { busy = false; });
    }

    function start(chosen) {
      if (consent && !consent.checked) {
        consent.reportValidity();
        consent.focus();
        return;
      }
      device = chosen;
      startButtons.hidden = true;
      progress.hidden = false;
      retryButton.hidden = true;
      finishButton.hidden = true;
      showQr({});
      say(root.dataset.starting, false);
      cancelButton.hidden = true;
      post(root.dataset.start, { device: chosen }).then(function (result) {
        handle(result);
        if (result && result.ok && result.data.status === "pending") {
          if (chosen === "same" && result.data.autostart) {
            window.location.href = result.data.autostart;
          } else {
            cancelButton.focus();
          }
        }
      }, function () { fail(root.dataset.offline); });
    }

    function cancel() {
      var ending = order;
      stopPolling();
      order = null;
      if (!ending) { return; }
      post(root.dataset.cancel, { order: ending }).then(handle, function () { fail(root.dataset.offline); });
    }

    startButtons.querySelectorAll("[data-device]").forEach(function (button) {
      button.addEventListener("click", function () { start(button.dataset.device); });
    });
    cancelButton.addEventListener("click", cancel);
    finishButton.addEventListener("click", submit);
    retryButton.addEventListener("click", function () { start(device); });

    // Leaving the page ends a QR order (nobody can scan it any more). A same-device order lives on:
    // the signer is in the BankID app and comes back through the return link.
    window.addEventListener("pagehide", function () {
      if (!order || submitting || device === "same" || !navigator.sendBeacon) { return; }
      var data = new FormData();
      data.set("csrf_token", form.querySelector("[name=csrf_token]").value);
      data.set("order", order);
      navigator.sendBeacon(root.dataset.cancel, data);
      order = null;
      stopPolling();
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { window.location.reload(); }  // back/forward cache: ask the server again
    });

    var initial = JSON.parse(root.dataset.state || "{}");
    if (initial.status) {
      if (consent) { consent.checked = true; }
      handle({ ok: true, data: initial, message: initial.message });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("bankid");
    if (root) { setup(root); }
  });
})();
