// PDI Catalog web UI: small progressive enhancements. Every page works without this script.
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  // A changed "Order" or "Updated" choice runs the search at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.requestSubmit();
    });
  });
  // Leave empty fields out of the search URL (?q=&modified_after= reads badly when shared).
  document.querySelectorAll("form.search").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[name], select[name]").forEach(function (field) {
        if (field.value === "") field.disabled = true;
      });
    });
  });
});
// Coming back to a page from the history: the fields disabled above are usable again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form.search [disabled]").forEach(function (field) {
    field.disabled = false;
  });
});
