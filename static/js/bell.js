// The bell in the header: the unread count of in-app notifications (badge.js), polled every
// 30 seconds and pushed by `unread_notifications`.
(function () {
  "use strict";
  var _ = window.carebookGettext;
  var bell = document.querySelector("a.bell[data-unread-url]");
  if (bell && window.carebookBadge) {
    window.carebookBell = window.carebookBadge(bell, {
      name: _("Notifications"),
      countSelector: ".bell-count",
      pollMs: 30000,
      event: "unread_notifications"
    });
  }
})();
