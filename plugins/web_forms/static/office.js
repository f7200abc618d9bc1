// The office's template page: "Copy the code" copies the embed snippet (or selects it to copy by hand).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#web-form-copy");
    if (!button) return;
    var area = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("web-form-copy-status");
    function told(ok) { status.textContent = button.getAttribute(ok ? "data-copied" : "data-failed"); }
    area.focus();
    area.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(function () { told(true); }, function () { told(false); });
    } else {
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      told(ok);
    }
  });
}());
