// The case page's macro picker: Enter on the select applies the chosen macro (a select
// does not submit its form by itself), and the refilled reply box takes focus.
(function () {
  "use strict";

  function inPicker(el) {
    return el && el.closest && el.closest("[data-macro-picker]");
  }

  document.addEventListener("keydown", function (event) {
    var select = event.target;
    if (event.key !== "Enter" || select.tagName !== "SELECT" || !inPicker(select)) return;
    event.preventDefault();
    select.form.requestSubmit();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var source = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!inPicker(source)) return;
    var body = document.querySelector("#reply textarea[name=body]");
    if (body) {
      body.focus();
      body.setSelectionRange(body.value.length, body.value.length);
    }
  });
})();
