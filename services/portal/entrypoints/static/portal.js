// thidua portal: the little the server cannot do. htmx (vendored, 2.x) sends the CSRF token with every
// request it makes; the escalation inbox follows server-sent events and is replaced when it changes.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = document.body.dataset.csrf || "";
  });
  function follow(box) {
    var source = new EventSource(box.dataset.events);
    source.addEventListener("inbox", function (event) {
      box.innerHTML = event.data;
      var count = document.querySelector("#inbox-h .count");
      if (count) { count.textContent = String(box.querySelectorAll("li").length); }
      box.classList.add("updated");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-events]").forEach(follow);
  });
})();
