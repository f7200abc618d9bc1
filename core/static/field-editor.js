/* The field editor: place fields on document pages with the mouse or the keyboard, then save.

   Positions are fractions of the page as viewed (x, y from the top-left corner, w, h), the way the
   server stores them. The server checks everything again when the fields are saved and answers
   with errors by field, which are shown on the fields they belong to. */
(function () {
  "use strict";

  var STEP = 0.005;
  var BIG_STEP = 0.05;
  var MIN_SIZE = 0.01;
  // Default sizes in points (width, height): converted to fractions of the page they land on.
  var SIZES = {
    text: [180, 18], textarea: [260, 60], number: [100, 18], date: [100, 18], email: [200, 18],
    phone: [140, 18], personal_number: [140, 18], checkbox: [14, 14], radio: [120, 40], select: [150, 18],
    signature: [180, 50], initials: [60, 24], name: [180, 18], date_signed: [100, 18]
  };
  var CHOICES = ["radio", "select"];
  var AUTOMATIC = ["signature", "name", "date_signed"];
  var RANGED = ["number", "date"];
  var TEXTS = ["text", "textarea", "initials", "email"];

  var root = document.getElementById("field-editor");
  if (!root) { return; }
  var data = JSON.parse(document.getElementById("fe-data").textContent);
  var texts = data.texts;
  var typeLabels = {};
  data.types.forEach(function (t) { typeLabels[t[0]] = t[1]; });
  var assigneeLabels = {};
  data.assignees.forEach(function (a, i) { assigneeLabels[a[0]] = { label: a[1], colour: i % 6 }; });

  var version = root.dataset.version ? parseInt(root.dataset.version, 10) : null;
  var fields = data.fields.map(function (f, i) { return Object.assign({ _id: i + 1 }, f); });
  var nextId = fields.length + 1;
  var selected = null;
  var dirty = false;
  var errorsById = {};

  var pages = Array.from(root.querySelectorAll(".fe-page"));
  var props = document.getElementById("fe-props");
  var status = document.getElementById("fe-status");
  var list = document.getElementById("fe-list");

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; }).replace(/%%/g, "%");
  }

  function say(text) { status.textContent = text; }

  function pageOf(field) {
    return pages.find(function (p) {
      return parseInt(p.dataset.document, 10) === field.document && parseInt(p.dataset.page, 10) === field.page;
    });
  }

  function clamp(field) {
    field.w = Math.min(1, Math.max(MIN_SIZE, field.w));
    field.h = Math.min(1, Math.max(MIN_SIZE, field.h));
    field.x = Math.min(1 - field.w, Math.max(0, field.x));
    field.y = Math.min(1 - field.h, Math.max(0, field.y));
  }

  function round(v) { return Math.round(v * 10000) / 10000; }

  function changed() {
    dirty = true;
    say(texts.unsaved);
  }

  // --- drawing ---------------------------------------------------------------------------------

  function describe(field) {
    var who = field.assignee && assigneeLabels[field.assignee] ? assigneeLabels[field.assignee].label : texts.nobody;
    return format(texts.field, { label: field.label || field.name, type: typeLabels[field.type], who: who,
                                 page: field.page });
  }

  function element(field) {
    var el = root.querySelector('.fe-field[data-id="' + field._id + '"]');
    if (!el) {
      el = document.createElement("div");
      el.className = "fe-field";
      el.dataset.id = field._id;
      el.tabIndex = 0;
      el.setAttribute("role", "button");
      el.innerHTML = '<span class="fe-text"></span><span class="fe-handle" aria-hidden="true"></span>';
      el.addEventListener("pointerdown", startDrag);
      el.addEventListener("keydown", onKey);
      el.addEventListener("focus", function () { select(field); });
    }
    return el;
  }

  function draw(field) {
    var page = pageOf(field);
    var el = element(field);
    if (!page) { el.remove(); return; }
    var layer = page.querySelector(".fe-layer");
    if (el.parentNode !== layer) { layer.appendChild(el); }
    el.style.left = field.x * 100 + "%";
    el.style.top = field.y * 100 + "%";
    el.style.width = field.w * 100 + "%";
    el.style.height = field.h * 100 + "%";
    var colour = field.assignee && assigneeLabels[field.assignee] ? assigneeLabels[field.assignee].colour : "none";
    el.dataset.colour = colour;
    el.classList.toggle("selected", selected === field);
    el.classList.toggle("invalid", !!errorsById[field._id]);
    el.setAttribute("aria-pressed", selected === field ? "true" : "false");
    el.setAttribute("aria-label", describe(field));
    el.querySelector(".fe-text").textContent = (field.required ? "* " : "") + (field.label || typeLabels[field.type]);
  }

  function drawList() {
    list.innerHTML = "";
    fields.slice().sort(function (a, b) {
      return a.document - b.document || a.page - b.page || a.y - b.y || a.x - b.x;
    }).forEach(function (field) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = describe(field);
      if (errorsById[field._id]) { button.classList.add("error"); }
      button.addEventListener("click", function () { focusField(field); });
      item.appendChild(button);
      list.appendChild(item);
    });
    document.getElementById("fe-count").textContent = String(fields.length);
  }

  function drawAll() {
    fields.forEach(draw);
    drawList();
  }

  function focusField(field) {
    var el = element(field);
    el.scrollIntoView({ block: "center" });
    el.focus();
  }

  // --- selection and properties ------------------------------------------------------------------

  function select(field) {
    if (selected === field) { return; }
    var previous = selected;
    selected = field;
    if (previous) { draw(previous); }
    if (!field) { props.hidden = true; return; }
    draw(field);
    fillProps(field);
    props.hidden = false;
  }

  function fillProps(field) {
    props.querySelectorAll("[data-prop]").forEach(function (input) {
      var value = field[input.dataset.prop];
      if (input.type === "checkbox") {
        input.checked = !!value;
      } else if (input.dataset.prop === "options") {
        input.value = (value || []).join("\n");
      } else if (input.dataset.prop === "default" && field.type === "checkbox") {
        input.value = value === true ? texts.yes : "";
      } else {
        input.value = value === null || value === undefined ? "" : String(value);
      }
    });
    showPropsFor(field.type);
    var errors = document.getElementById("fe-field-errors");
    errors.innerHTML = "";
    (errorsById[field._id] || []).forEach(function (message) {
      var item = document.createElement("li");
      item.textContent = message;
      errors.appendChild(item);
    });
  }

  function showPropsFor(type) {
    var shown = {
      input: AUTOMATIC.indexOf(type) < 0, choice: CHOICES.indexOf(type) >= 0,
      text: TEXTS.indexOf(type) >= 0, range: RANGED.indexOf(type) >= 0
    };
    props.querySelectorAll("[data-for]").forEach(function (el) { el.hidden = !shown[el.dataset.for]; });
  }

  function readProp(input) {
    var prop = input.dataset.prop;
    if (input.type === "checkbox") { return input.checked; }
    if (prop === "options") {
      return input.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
    }
    if (prop === "min_length" || prop === "max_length") {
      return input.value === "" ? null : parseInt(input.value, 10);
    }
    if (prop === "default" && selected.type === "checkbox") {
      return ["", texts.no.toLowerCase(), "no", "nej"].indexOf(input.value.trim().toLowerCase()) < 0;
    }
    if (prop === "assignee" || prop === "default" || prop === "pattern" || prop === "min" || prop === "max") {
      return input.value === "" ? null : input.value;
    }
    return input.value;
  }

  props.querySelectorAll("[data-prop]").forEach(function (input) {
    input.addEventListener(input.tagName === "SELECT" || input.type === "checkbox" ? "change" : "input", function () {
      if (!selected) { return; }
      selected[input.dataset.prop] = readProp(input);
      if (input.dataset.prop === "type") { showPropsFor(selected.type); }
      changed();
      draw(selected);
      drawList();
    });
  });

  document.getElementById("fe-delete").addEventListener("click", function () {
    if (selected) { remove(selected); }
  });

  // --- adding, moving, deleting -----------------------------------------------------------------

  function uniqueName(type) {
    var names = {};
    fields.forEach(function (f) { names[f.name] = true; });
    var n = 1;
    while (names[type + "_" + n]) { n += 1; }
    return type + "_" + n;
  }

  function add(type, page, cx, cy) {
    var size = SIZES[type] || [150, 18];
    var width = parseFloat(page.dataset.width);
    var height = parseFloat(page.dataset.height);
    var assignee = document.getElementById("fe-new-assignee").value || null;
    var field = {
      _id: nextId++, name: uniqueName(type), type: type, document: parseInt(page.dataset.document, 10),
      page: parseInt(page.dataset.page, 10), w: size[0] / width, h: size[1] / height, assignee: assignee,
      label: "", required: AUTOMATIC.indexOf(type) < 0 && type !== "checkbox", read_only: false, default: null,
      options: CHOICES.indexOf(type) >= 0 ? ["1", "2"] : [], option_areas: []
    };
    field.x = cx - field.w / 2;
    field.y = cy - field.h / 2;
    clamp(field);
    fields.push(field);
    changed();
    drawAll();
    focusField(field);
    say(format(texts.added, { page: field.page }));
  }

  function remove(field) {
    var index = fields.indexOf(field);
    fields.splice(index, 1);
    element(field).remove();
    delete errorsById[field._id];
    selected = null;
    props.hidden = true;
    changed();
    drawList();
    say(texts.deleted);
    var next = fields[Math.min(index, fields.length - 1)];
    if (next) { focusField(next); } else { root.querySelector(".fe-palette button").focus(); }
  }

  function pageInView() {
    var middle = window.innerHeight / 2;
    var best = pages[0];
    var distance = Infinity;
    pages.forEach(function (page) {
      var rect = page.getBoundingClientRect();
      var d = rect.top <= middle && rect.bottom >= middle ? 0 : Math.min(Math.abs(rect.top - middle),
                                                                          Math.abs(rect.bottom - middle));
      if (d < distance) { distance = d; best = page; }
    });
    return best;
  }

  root.querySelectorAll(".fe-palette button").forEach(function (button) {
    button.addEventListener("click", function () {
      var page = pageInView();
      if (!page) { return; }
      var onPage = fields.filter(function (f) { return pageOf(f) === page; }).length;
      add(button.dataset.type, page, 0.5, Math.min(0.9, 0.2 + onPage * 0.05));
    });
    button.addEventListener("dragstart", function (event) {
      event.dataTransfer.setData("text/x-sigill-field", button.dataset.type);
      event.dataTransfer.effectAllowed = "copy";
    });
  });

  pages.forEach(function (page) {
    page.addEventListener("dragover", function (event) {
      if (event.dataTransfer.types.indexOf("text/x-sigill-field") >= 0) { event.preventDefault(); }
    });
    page.addEventListener("drop", function (event) {
      var type = event.dataTransfer.getData("text/x-sigill-field");
      if (!type) { return; }
      event.preventDefault();
      var rect = page.getBoundingClientRect();
      add(type, page, (event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height);
    });
  });

  function pageAt(x, y) {
    return document.elementsFromPoint(x, y).map(function (el) { return el.closest(".fe-page"); })
      .find(Boolean) || null;
  }

  function startDrag(event) {
    if (event.button !== 0) { return; }
    var el = event.currentTarget;
    var field = fields.find(function (f) { return String(f._id) === el.dataset.id; });
    select(field);
    el.focus();
    event.preventDefault();
    var resizing = event.target.classList.contains("fe-handle");
    var rect = pageOf(field).getBoundingClientRect();
    var grabX = (event.clientX - rect.left) / rect.width - field.x;
    var grabY = (event.clientY - rect.top) / rect.height - field.y;
    // Listened to on the window: the field's element moves to another page's layer on the way.
    function move(e) {
      if (resizing) {
        var r = pageOf(field).getBoundingClientRect();
        field.w = (e.clientX - r.left) / r.width - field.x;
        field.h = (e.clientY - r.top) / r.height - field.y;
      } else {
        var page = pageAt(e.clientX, e.clientY) || pageOf(field);
        var p = page.getBoundingClientRect();
        field.document = parseInt(page.dataset.document, 10);
        field.page = parseInt(page.dataset.page, 10);
        field.x = (e.clientX - p.left) / p.width - grabX;
        field.y = (e.clientY - p.top) / p.height - grabY;
      }
      clamp(field);
      draw(field);
    }
    function end() {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", end);
      window.removeEventListener("pointercancel", end);
      changed();
      drawList();
      el.focus();
    }
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", end);
    window.addEventListener("pointercancel", end);
  }

  function movePage(field, by) {
    var index = pages.indexOf(pageOf(field)) + by;
    if (index < 0 || index >= pages.length) { return false; }
    field.document = parseInt(pages[index].dataset.document, 10);
    field.page = parseInt(pages[index].dataset.page, 10);
    return true;
  }

  function onKey(event) {
    var field = selected;
    if (!field) { return; }
    var step = event.shiftKey ? BIG_STEP : STEP;
    var dx = { ArrowLeft: -step, ArrowRight: step }[event.key] || 0;
    var dy = { ArrowUp: -step, ArrowDown: step }[event.key] || 0;
    if (dx || dy) {
      if (event.altKey) { field.w += dx; field.h += dy; } else { field.x += dx; field.y += dy; }
    } else if (event.key === "PageDown" || event.key === "PageUp") {
      if (!movePage(field, event.key === "PageDown" ? 1 : -1)) { return; }
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      remove(field);
      return;
    } else if (event.key === "Enter") {
      event.preventDefault();
      document.getElementById("fe-label").focus();
      return;
    } else if (event.key === "Escape") {
      select(null);
      return;
    } else {
      return;
    }
    event.preventDefault();
    clamp(field);
    changed();
    draw(field);
    drawList();
    element(field).focus();
    say(format(texts.moved, { x: Math.round(field.x * 100), y: Math.round(field.y * 100),
                              w: Math.round(field.w * 100), h: Math.round(field.h * 100) }));
  }

  // --- saving -----------------------------------------------------------------------------------

  function payload() {
    return fields.map(function (f) {
      var copy = Object.assign({}, f);
      delete copy._id;
      ["x", "y", "w", "h"].forEach(function (k) { copy[k] = round(copy[k]); });
      return copy;
    });
  }

  function showErrors(errors, message) {
    errorsById = {};
    var box = document.getElementById("fe-errors");
    var items = document.getElementById("fe-error-list");
    items.innerHTML = "";
    Object.keys(errors || {}).forEach(function (key) {
      var messages = [];
      var collect = function (value) {
        if (typeof value === "string") { messages.push(value); }
        else if (Array.isArray(value)) { value.forEach(collect); }
        else if (value && typeof value === "object") { Object.keys(value).forEach(function (k) { collect(value[k]); }); }
      };
      collect(errors[key]);
      var field = /^\d+$/.test(key) ? fields[parseInt(key, 10)] : null;
      if (field) { errorsById[field._id] = messages; }
      var item = document.createElement("li");
      if (field) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.textContent = describe(field) + ": " + messages.join(" ");
        button.addEventListener("click", function () { focusField(field); });
        item.appendChild(button);
      } else {
        item.textContent = messages.join(" ");
      }
      items.appendChild(item);
    });
    document.getElementById("fe-errors-text").textContent = message || "";
    box.hidden = !message;
    drawAll();
    if (selected) { fillProps(selected); }
  }

  var saveButton = document.getElementById("fe-save");
  saveButton.addEventListener("click", function () {
    saveButton.disabled = true;
    say(texts.saving);
    fetch(root.dataset.saveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content },
      body: JSON.stringify({ version: version, fields: payload() })
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (answer) {
      var body = answer.body;
      if (typeof body.version === "number") { version = body.version; }
      if (body.ok) {
        dirty = false;
        showErrors({}, "");
        say(body.message || texts.saved);
      } else {
        showErrors(body.errors, body.message);
        say(body.message);
      }
    }).catch(function () {
      say(texts.failed);
    }).then(function () {
      saveButton.disabled = false;
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = texts.leave; }
  });

  drawAll();
})();
