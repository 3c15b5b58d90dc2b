/* Subscriber portal: the "copy the linha digitável" buttons. The page works without this file;
   it only reveals and wires the buttons. Loaded from our own origin (the CSP forbids inline JS). */
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return fallbackCopy(text);
      });
    }
    return fallbackCopy(text);
  }

  function wire(button) {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) {
      return;
    }
    var status = button.parentNode.querySelector(".copy-status");
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(source.getAttribute("data-copy-value") || source.textContent.trim()).then(
        function () {
          button.classList.add("copied");
          button.textContent = button.getAttribute("data-copied-label");
          if (status) {
            status.textContent = button.getAttribute("data-copied-status");
          }
          window.setTimeout(function () {
            button.classList.remove("copied");
            button.textContent = label;
          }, 4000);
        },
        function () {
          if (status) {
            status.textContent = button.getAttribute("data-failed-label");
          }
        }
      );
    });
  }

  document.querySelectorAll("button[data-copy-target]").forEach(wire);
})();
