// Copy buttons in the admin: <button data-copy="element-id">. No inline scripts (CSP: script-src 'self').
"use strict";
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  event.preventDefault();
  const source = document.getElementById(button.dataset.copy);
  if (!source) {
    return;
  }
  const text = (source.value || source.textContent).trim();
  const done = function () {
    const label = button.textContent;
    button.textContent = button.dataset.copiedLabel || "✓";
    window.setTimeout(function () { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    document.body.removeChild(area);
    done();
  }
});
