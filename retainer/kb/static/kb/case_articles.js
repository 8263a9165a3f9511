// The case page's "Insert link" buttons: put an article's Markdown link into the reply at
// the cursor (or at the end), then focus the reply.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-insert-link]");
    if (!button) return;
    var reply = document.querySelector("#reply textarea[name=body]");
    if (!reply) return;
    var text = button.getAttribute("data-insert-link");
    var start = reply.selectionStart || reply.value.length;
    var end = reply.selectionEnd || start;
    var before = reply.value.slice(0, start);
    var spacer = before && !/\s$/.test(before) ? " " : "";
    reply.value = before + spacer + text + reply.value.slice(end);
    reply.focus();
    var caret = (before + spacer + text).length;
    reply.setSelectionRange(caret, caret);
  });
})();
