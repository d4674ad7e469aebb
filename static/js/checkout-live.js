// Checkout: told by the server when this hold lapsed (or was released elsewhere).
(function () {
  "use strict";
  var _ = window.carebookGettext;
  var root = document.getElementById("checkout");
  if (!root || !window.carebookLive) return;
  var socket = window.carebookLive.user();
  if (!socket) return;
  var id = parseInt(root.dataset.appointmentId, 10);
  var ENDED = ["expired", "cancelled"];

  socket.on("appointment", function (event) {
    if (event.id !== id || ENDED.indexOf(event.status) === -1) return;
    var lapsed = root.querySelector("[data-testid=hold-lapsed]");
    if (lapsed) lapsed.hidden = false;
    root.querySelectorAll("#pay-form button, #pay-form input").forEach(function (el) {
      el.disabled = true;
    });
    var countdown = root.querySelector("[data-expires-at]");
    if (countdown) countdown.textContent = _("Lapsed");
    root.dataset.status = event.status;
  });
})();
