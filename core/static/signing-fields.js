/* The signer's fields: saved as the party types, on the page images on wide screens, one at a time
   with "Next" on phones. Without this script the fields are a plain form with a save button.

   Each save names the revision the page had; a field changed meanwhile in another tab or on another
   device comes back as a conflict, and the party chooses which value to keep. After every save the
   consent text and the digest the signature binds are replaced by the server's.

   Saves go out one after another and are numbered. A save reads the field's revision when it goes
   out, so a value typed while the previous save was on its way builds on that save, not on what
   the page had before it (else the page's own earlier value came back as "changed elsewhere"). An
   answer about a field that has been saved again since (or typed in) is not shown: the newer save's
   answer tells. Signing waits for the saves on their way too. */
(function () {
  "use strict";

  var DELAY = 700;
  var WIDE = "(min-width: 900px)";

  var section = document.getElementById("fields");
  var form = document.getElementById("fields-form");
  if (!section || !form) { return; }
  var texts = JSON.parse(document.getElementById("fields-texts").textContent);
  var items = Array.from(form.querySelectorAll(".fill"));
  var status = form.querySelector(".fill-status");
  var csrf = form.querySelector('input[name="csrf_token"]').value;
  var dirty = {};
  var timers = {};
  var queue = Promise.resolve();
  var current = 0;
  var made = 0;       // saves made so far; each save's number
  var latest = {};    // name -> the number of the latest save that carries the field
  var unanswered = 0; // saves made and not answered yet

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }

  var INPUT = "input:not([type=hidden]), textarea, select";

  function nameOf(item) { return item.dataset.name; }

  // The field's inputs live in its control box, which moves onto the page image on wide screens.
  function find(item, selector) { return item.control ? item.control.querySelector(selector) : null; }
  function findAll(item, selector) { return item.control ? Array.from(item.control.querySelectorAll(selector)) : []; }

  function valueOf(item) {
    var type = item.dataset.type;
    if (type === "checkbox") { return find(item, "input[type=checkbox]").checked ? "yes" : ""; }
    if (type === "radio") {
      var chosen = find(item, "input[type=radio]:checked");
      return chosen ? chosen.value : "";
    }
    var control = find(item, INPUT);
    return control ? control.value : null;
  }

  function setValue(item, value) {
    var type = item.dataset.type;
    if (type === "checkbox") {
      find(item, "input[type=checkbox]").checked = value === true;
    } else if (type === "radio") {
      findAll(item, "input[type=radio]").forEach(function (r) { r.checked = r.value === value; });
    } else {
      var control = find(item, INPUT);
      if (control) { control.value = value === null || value === undefined ? "" : String(value); }
    }
    mark(item);
  }

  function editable(item) {
    return !!find(item, "input:not([type=hidden]):not([disabled]):not([readonly]), textarea:not([readonly]), " +
                        "select:not([disabled])");
  }

  // --- saving ---------------------------------------------------------------------------------

  function schedule(item, now) {
    var name = nameOf(item);
    dirty[name] = item;
    clearTimeout(timers[name]);
    timers[name] = setTimeout(flush, now ? 0 : DELAY);
  }

  function flush() {
    var batch = Object.keys(dirty);
    if (!batch.length) { return queue; }
    var number = ++made;
    var values = {};
    batch.forEach(function (name) {
      clearTimeout(timers[name]);
      values[name] = valueOf(dirty[name]);
      latest[name] = number;
    });
    dirty = {};
    unanswered += 1;
    status.textContent = texts.saving;
    queue = queue.then(function () {
      // Read now, not when the save was made: the save before it may have been answered meanwhile.
      var revisions = {};
      batch.forEach(function (name) { revisions[name] = revisionOf(byName(name)); });
      return fetch(section.dataset.saveUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ values: values, revisions: revisions })
      }).then(function (response) {
        if ((response.headers.get("Content-Type") || "").indexOf("application/json") === -1) {
          window.location.reload();  // the link changed state (signed elsewhere, revoked ...)
          return null;
        }
        return response.json();
      }).then(function (body) {
        unanswered -= 1;
        if (body) { answered(body, batch, number); }
      }, function () {
        unanswered -= 1;
        batch.forEach(function (name) { dirty[name] = byName(name); });
        status.textContent = texts.offline;
      });
    });
    return queue;
  }

  function byName(name) {
    return items.find(function (item) { return nameOf(item) === name; });
  }

  function revisionOf(item) { return parseInt(item.dataset.revision, 10) || 0; }

  // Typed in since, or carried by a save made after the one numbered `number`: that save will tell.
  function newerThan(name, number) { return name in dirty || (latest[name] || 0) > number; }

  function answered(body, batch, number) {
    if (body.redirect) { window.location.href = body.redirect; return; }
    batch.forEach(function (name) {
      var item = byName(name);
      var saved = body.revisions && name in body.revisions;
      // Revisions only grow: "keep mine" may already have taken a newer one from a conflict.
      if (saved) { item.dataset.revision = Math.max(revisionOf(item), body.revisions[name]); }
      if (newerThan(name, number)) { return; }
      var errors = (body.errors || {})[name];
      showError(item, errors ? errors.join(" ") : "");
      var conflict = (body.conflicts || {})[name];
      if (conflict) {
        showConflict(item, conflict);
      } else if (saved) {
        hideConflict(item, body.revisions[name]);
      }
    });
    // Fields this page did not send but another tab or device changed: shown, never taken silently.
    Object.keys(body.current || {}).forEach(function (name) {
      var item = byName(name);
      if (!item || batch.indexOf(name) !== -1 || newerThan(name, number)) { return; }
      if (body.current[name].revision > revisionOf(item)) {
        showConflict(item, body.current[name]);
      }
    });
    // Only the latest save's answer says what the page now is: an earlier one is not "Saved."
    // while a newer save is on its way, and its digest binds values the page no longer shows.
    if (number !== made) { return; }
    status.textContent = body.ok ? texts.saved : "";
    // The digest the signature binds is taken only while the page shows what is stored: with a
    // value refused or changed elsewhere on screen, signing waits (and the server would refuse).
    if (problem()) { return; }
    attention.hidden = true;
    if (body.consent_text) {
      var consent = document.getElementById("consent-text");
      if (consent) { consent.textContent = body.consent_text; }
    }
    if (body.documents_digest) {
      document.querySelectorAll('input[name="documents_digest"]').forEach(function (input) {
        input.value = body.documents_digest;
      });
    }
  }

  // The first field with a refused value or a change from elsewhere to decide on.
  function problem() {
    return items.find(function (item) {
      return item.classList.contains("has-error") || !item.querySelector(".conflict").hidden;
    });
  }

  function showError(item, message) {
    item.querySelector(".error").textContent = message;
    item.classList.toggle("has-error", !!message);
    var control = find(item, INPUT);
    if (control) {
      if (message) { control.setAttribute("aria-invalid", "true"); } else { control.removeAttribute("aria-invalid"); }
    }
    mark(item);
  }

  function showConflict(item, conflict) {
    var box = item.querySelector(".conflict");
    var shown = conflict.value === null || conflict.value === "" ? texts.empty : String(conflict.value);
    box.querySelector("p").textContent = format(texts.conflict, { value: shown });
    box.hidden = false;
    box.dataset.value = JSON.stringify(conflict.value);
    box.dataset.revision = conflict.revision;
  }

  // A save of this page's value answered at `revision` settles a change from elsewhere it had shown.
  function hideConflict(item, revision) {
    var box = item.querySelector(".conflict");
    if (!box.hidden && (parseInt(box.dataset.revision, 10) || 0) <= revision) { box.hidden = true; }
  }

  function resolve(item, useTheirs) {
    var box = item.querySelector(".conflict");
    item.dataset.revision = box.dataset.revision;
    box.hidden = true;
    if (useTheirs) { setValue(item, JSON.parse(box.dataset.value)); }
    schedule(item, true);  // the answer brings the digest of what the page now shows
  }

  items.forEach(function (item) {
    // Listened to on the control's own box: on wide screens it moves onto the page image, out of the list.
    item.control = item.querySelector(".fill-control");
    if (item.control) {
      item.control.addEventListener("input", function () { schedule(item, false); mark(item); });
      item.control.addEventListener("change", function () { schedule(item, true); mark(item); });
    }
    item.querySelector("[data-keep-mine]").addEventListener("click", function () { resolve(item, false); });
    item.querySelector("[data-use-theirs]").addEventListener("click", function () { resolve(item, true); });
  });
  form.querySelector("[data-save-button]").hidden = true;
  form.addEventListener("submit", function (event) { event.preventDefault(); flush(); });

  // Signing waits for the last save (still to be made, or on its way), so the digest it binds is the
  // one of what was typed; and it stops at a refused value, a change from elsewhere or a save that
  // failed, which signing would otherwise lose or sign unseen: the party is told and taken to the field.
  function waitForSaves(event) {
    var pending = Object.keys(dirty).length > 0 || unanswered > 0;
    if (!pending && !problem()) { return; }
    var submitter = event.submitter || event.target;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (!pending) { stopAtProblem(); return; }
    flush().then(function () {
      if (stopAtProblem()) { return; }
      if (event.type === "submit") { event.target.requestSubmit(submitter); } else { submitter.click(); }
    });
  }

  function stopAtProblem() {
    // A save that did not reach the server (the connection dropped) stops signing too: the
    // signature would bind what is stored, not what the page shows.
    var unsaved = Object.keys(dirty);
    var item = unsaved.length ? byName(unsaved[0]) : problem();
    if (!item) { return false; }
    attention.textContent = unsaved.length ? texts.offline : texts.attention;
    attention.hidden = false;
    if (!stepBar.hidden) { show(items.indexOf(item)); }
    focusField(item);
    return true;
  }

  var signForm = document.getElementById("sign-form");
  var attention = document.createElement("div");
  attention.className = "flash flash-error";
  attention.id = "fields-attention";
  attention.setAttribute("role", "alert");
  attention.textContent = texts.attention;
  attention.hidden = true;
  if (signForm) {
    signForm.insertBefore(attention, signForm.firstChild);
    signForm.addEventListener("submit", waitForSaves, true);
    signForm.addEventListener("click", function (event) {
      if (event.target.closest("button[type=button]")) { waitForSaves(event); }
    }, true);
  }

  // --- on the page images ------------------------------------------------------------------------

  function figureOf(element) {
    var doc = document.getElementById("document-" + element.dataset.document);
    return doc ? doc.querySelector('figure.page[data-page="' + element.dataset.page + '"]') : null;
  }

  function place(element, figure) {
    var box = element.dataset.box.split(",").map(parseFloat);
    var layer = figure.querySelector(".field-layer");
    if (!layer) {
      layer = document.createElement("div");
      layer.className = "field-layer";
      figure.insertBefore(layer, figure.querySelector("figcaption"));
      // The layer covers the page image exactly, whatever the zoom and the screen.
      var image = figure.querySelector("img");
      var fit = function () { layer.style.height = image.clientHeight + "px"; };
      if (window.ResizeObserver) { new ResizeObserver(fit).observe(image); }
      image.addEventListener("load", fit);
      fit();
    }
    var spot = document.createElement("div");
    spot.style.left = box[0] * 100 + "%";
    spot.style.top = box[1] * 100 + "%";
    spot.style.width = box[2] * 100 + "%";
    spot.style.height = box[3] * 100 + "%";
    layer.appendChild(spot);
    return spot;
  }

  function mark(item) {
    if (!item.spot) { return; }
    item.spot.classList.toggle("missing", item.classList.contains("has-error"));
    if (item.marker) {
      var value = valueOf(item);
      var shown = item.dataset.type === "checkbox" ? (value ? "✓" : "") : (value || "");
      item.marker.textContent = item.querySelector(".auto") ? item.dataset.label : shown;
    }
  }

  // Wide screens: the field's own control sits in its box on the page. Phones: a marker shows
  // where the field is and what it holds; tapping it goes to the field in the list.
  function layout(wide) {
    items.forEach(function (item, index) {
      var figure = figureOf(item);
      if (!figure) { return; }
      if (!item.spot) {
        item.spot = place(item, figure);
        item.spot.className = "field-spot";
        item.spot.dataset.type = item.dataset.type;
        item.home = item.control || item.querySelector(".auto");
        item.marker = document.createElement("span");
        item.marker.className = "field-value";
        item.spot.addEventListener("click", function () {
          if (!item.spot.contains(item.home)) { show(index); }
        });
      }
      var control = item.home;
      var onPage = wide && control && control.classList.contains("fill-control") && editable(item);
      if (onPage && control.parentNode !== item.spot) {
        item.placeholder = item.placeholder || document.createComment("field");
        control.parentNode.insertBefore(item.placeholder, control);
        item.spot.textContent = "";
        item.spot.appendChild(control);
        // In its box on the page the field shows its label until something is typed.
        var input = find(item, "input[type=text], input[type=email], input[type=tel], textarea");
        if (input && !input.placeholder) { input.placeholder = item.dataset.label; }
        item.spot.title = item.dataset.label;
      } else if (!onPage && item.placeholder && control.parentNode === item.spot) {
        item.placeholder.parentNode.insertBefore(control, item.placeholder);
        item.spot.textContent = "";
      }
      if (!onPage && !item.spot.contains(item.marker)) { item.spot.appendChild(item.marker); }
      item.spot.classList.toggle("live", !!onPage);
      item.classList.toggle("on-page", !!onPage);
      mark(item);
    });
    stepper(!wide);
  }

  document.querySelectorAll("#other-fields .other").forEach(function (other) {
    var figure = figureOf(other);
    if (!figure) { return; }
    var spot = place(other, figure);
    spot.className = "field-spot other";
    spot.textContent = other.querySelector("dd").textContent;
    spot.title = other.querySelector("dt").textContent;
  });

  // --- one at a time on a phone ------------------------------------------------------------------

  var stepBar = form.querySelector(".fill-stepper");
  var count = stepBar.querySelector(".count");

  function show(index) {
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach(function (item, i) {
      item.hidden = stepBar.hidden ? false : i !== current;
      if (item.spot) { item.spot.classList.toggle("current", i === current); }
    });
    count.textContent = format(texts.of, { n: current + 1, total: items.length });
    stepBar.querySelector("[data-previous]").disabled = current === 0;
  }

  function stepper(on) {
    stepBar.hidden = !on || items.length < 2;
    show(current);
  }

  stepBar.querySelector("[data-previous]").addEventListener("click", function () {
    show(current - 1);
    focusField(items[current]);
  });
  stepBar.querySelector("[data-next]").addEventListener("click", function () {
    flush();
    if (current === items.length - 1) {
      var sign = document.getElementById("sign");
      if (sign) { sign.scrollIntoView({ block: "start" }); }
      return;
    }
    show(current + 1);
    focusField(items[current]);
  });

  function focusField(item) {
    var control = find(item, INPUT) || item;
    item.scrollIntoView({ block: "nearest" });
    control.focus({ preventScroll: true });
  }

  var media = window.matchMedia(WIDE);
  layout(media.matches);
  media.addEventListener("change", function (event) { layout(event.matches); });
  // A long document's later pages load as they are viewed: place the fields that are on them.
  document.addEventListener("sigill:pages-added", function () { layout(media.matches); });
  window.SigillFields = { flush: flush };
})();
