// The bell in the header: setUnread(n) shows a count (the badge and the link's name), and
// a poll asks the server for it every 30 seconds while the page is visible. The update is
// kept apart from the polling so that a push can call it instead:
// window.carebookBell.setUnread(n). With a socket (live.js), `unread_notifications` pushes the
// count at once (the poll stays, as the fallback).
(function () {
  "use strict";
  var bell = document.querySelector("a.bell[data-unread-url]");
  if (!bell) {
    return;
  }
  var badge = bell.querySelector(".bell-count");
  var POLL_MS = 30000;
  var timer = null;

  function setUnread(count) {
    count = Math.max(0, parseInt(count, 10) || 0);
    bell.setAttribute("aria-label", count ? "Notifications, " + count + " unread" : "Notifications");
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
    fetch(bell.getAttribute("data-unread-url"), {
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

  function start() {
    if (timer === null) {
      timer = window.setInterval(poll, POLL_MS);
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && timer !== null) {
      poll(); // catch up at once after the tab was in the background
    }
  });
  window.carebookBell = { setUnread: setUnread, poll: poll };
  start();

  // Pushed counts show at once; the poll goes on beside them, as the fallback for a push
  // that cannot arrive (WebSockets and polling blocked, a server without the message queue).
  var socket = window.carebookLive && window.carebookLive.user();
  if (socket) {
    socket.on("unread_notifications", function (event) { setUnread(event.total); });
  }
})();
