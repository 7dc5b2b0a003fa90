// Live console: one EventSource on the tenant's conversation events; every event asks the
// live parts of the page (marked data-live) to fetch themselves again through htmx.
(function () {
  "use strict";
  var KINDS = [
    "conversation.opened", "conversation.transitioned", "conversation.revived",
    "conversation.undeliverable", "message.created", "message.delivery", "message.status"
  ];
  var pending = null;
  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      document.querySelectorAll("[data-live]").forEach(function (el) {
        if (window.htmx) window.htmx.trigger(el, "live");
      });
    }, 100);
  }
  function connect() {
    if (!document.querySelector("[data-live]") || !window.EventSource) return;
    var source = new EventSource("/conversations/events");
    KINDS.forEach(function (kind) { source.addEventListener(kind, refresh); });
    source.onmessage = refresh;
    source.addEventListener("open", function () { document.body.dataset.live = "on"; });
  }
  document.addEventListener("DOMContentLoaded", connect);
})();
