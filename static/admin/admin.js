// Membership admin: refresh the figures every 30 s and copy embed code. No inline scripts
// (the CSP forbids them); silent on failure: the last figures stay, greyed.
(function () {
  "use strict";
  var PERIOD = 30000;

  function refresh(box) {
    var url = box.getAttribute("data-summary-url");
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        var display = data.display || {};
        Object.keys(display).forEach(function (name) {
          var el = box.querySelector('[data-field="' + name + '"]');
          if (el && el.textContent !== display[name]) el.textContent = display[name];
        });
        box.classList.remove("stale");
        box.setAttribute("data-refreshed", new Date().toISOString());
      })
      .catch(function () {
        box.classList.add("stale");
      });
  }

  function poll() {
    var boxes = document.querySelectorAll("[data-summary-url]");
    if (!boxes.length) return;
    setInterval(function () {
      if (document.visibilityState === "hidden") return;
      boxes.forEach(refresh);
    }, PERIOD);
  }

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) return;
        navigator.clipboard.writeText(source.textContent).then(
          function () { button.textContent = "Copied"; },
          function () { button.textContent = "Select and copy by hand"; }
        );
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    poll();
    copyButtons();
  });
})();
