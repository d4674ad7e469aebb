// The doctor's dashboard: a new booking, a request to approve or a cancellation refreshes the
// lists in place (this page fetched again) and says so, without a reload.
(function () {
  "use strict";
  var _ = window.carebookGettext;
  var region = document.querySelector("[data-live-appointments]");
  if (!region || !window.carebookLive) return;
  var socket = window.carebookLive.user();
  if (!socket) return;
  var notice = document.querySelector("[data-testid=live-notice]");
  var WORDS = {
    pending_payment: _("A patient is booking a time"),
    pending_approval: _("A booking needs your approval"),
    confirmed: _("An appointment was confirmed"),
    cancelled: _("An appointment was cancelled"),
    rejected: _("A request was declined"),
    expired: _("A booking was not paid in time")
  };
  var pending = null;

  function refresh(status) {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store", redirect: "error" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .querySelector("[data-live-appointments]");
        if (fresh) region.replaceChildren.apply(region, Array.from(fresh.childNodes));
        if (notice) {
          notice.textContent = _("%(what)s · updated %(time)s", {
            what: WORDS[status] || _("Your appointments changed"),
            time: new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
          });
          notice.hidden = false;
        }
      })
      .catch(function () {
        if (notice) {
          notice.textContent = _("Your appointments changed: reload the page to see them.");
          notice.hidden = false;
        }
      });
  }

  socket.on("appointment", function (event) {
    // Several changes at once (a reschedule is two) make one refresh.
    window.clearTimeout(pending);
    pending = window.setTimeout(function () { refresh(event.status); }, 250);
  });
})();
