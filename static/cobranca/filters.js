// The changelist's filter menus (templates/admin/filter.html): one open at a time, closed by a
// click elsewhere or Escape. No inline script (CSP: script-src 'self').
"use strict";
(function () {
  function menus() {
    return document.querySelectorAll("#changelist-filter details.cobranca-filter");
  }
  document.addEventListener("toggle", function (event) {
    const opened = event.target;
    if (!opened.matches || !opened.matches("details.cobranca-filter") || !opened.open) {
      return;
    }
    menus().forEach(function (menu) {
      if (menu !== opened) {
        menu.open = false;
      }
    });
  }, true);
  document.addEventListener("click", function (event) {
    menus().forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      menus().forEach(function (menu) { menu.open = false; });
    }
  });
})();
