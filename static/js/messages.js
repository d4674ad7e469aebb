// The messages link in the header: setUnread(n) shows the count of unread messages, and a
// poll asks the server for it every 20 seconds while the page is visible. Socket.IO's
// "unread" event ({total}) can call window.carebookMessages.setUnread(total) instead.
(function () {
  "use strict";
  var link = document.querySelector("a.messages-link[data-unread-url]");
  if (!link) {
    return;
  }
  var badge = link.querySelector(".messages-count");
  var POLL_MS = 20000;
  var timer = null;

  function setUnread(count) {
    count = Math.max(0, parseInt(count, 10) || 0);
    link.setAttribute("aria-label", count ? "Messages, " + count + " unread" : "Messages");
    if (badge) {
      badge.textContent = count ? String(count) : "";
      badge.hidden = !count;
    }
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
      poll();
    }
  });
  window.carebookMessages = { setUnread: setUnread, poll: poll };
  timer = window.setInterval(poll, POLL_MS);
})();
