// A header link with an unread count (the notification bell, Messages): setUnread(n) shows
// the count (the badge and the link's name for screen readers; a rise is read out through
// announce.js), and a poll asks the link's data-unread-url for {"unread": n} every pollMs
// while the page is visible. With a socket (live.js) the `event` ({total}) pushes the count
// at once; the poll stays beside it as the fallback for a push that cannot arrive
// (WebSockets and polling blocked, a server without the message queue). The poll does not
// count as activity: an idle tab still signs out.
(function () {
  "use strict";
  var _ = window.carebookGettext;

  window.carebookBadge = function (link, options) {
    var badge = link.querySelector(options.countSelector);
    var timer = null;
    var shown = badge ? parseInt(badge.textContent, 10) || 0 : 0;

    function setUnread(count) {
      count = Math.max(0, parseInt(count, 10) || 0);
      var label = count ? _("%(name)s, %(count)s unread", { name: options.name, count: count }) : options.name;
      link.setAttribute("aria-label", label);
      if (badge) {
        badge.textContent = count ? String(count) : "";
        badge.hidden = !count;
      }
      if (count > shown && window.carebookAnnounce) {
        window.carebookAnnounce(label); // a new notification or message: say so
      }
      shown = count;
    }

    function stop() {
      if (timer !== null) {
        window.clearInterval(timer);
        timer = null;
      }
    }

    function poll() {
      if (document.visibilityState === "hidden") {
        return;
      }
      fetch(link.getAttribute("data-unread-url"), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
        redirect: "error"
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      }).then(function (body) {
        setUnread(body.unread);
      }).catch(function () {
        stop(); // signed out, or the server is away: the next page load starts again
      });
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && timer !== null) {
        poll(); // catch up at once after the tab was in the background
      }
    });
    timer = window.setInterval(poll, options.pollMs);

    var socket = window.carebookLive && window.carebookLive.user();
    if (socket) {
      socket.on(options.event, function (event) { setUnread(event.total); });
    }
    return { setUnread: setUnread, poll: poll };
  };
})();
