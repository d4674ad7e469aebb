// The doctor's dashboard: the list of video rooms open now (templates/doctor/_visit_waiting.html)
// is fetched again when someone enters or leaves one of them (`visit_presence`) and every
// minute, so "… is waiting for you" shows without a reload (and is read out: announce.js).
(function () {
  "use strict";
  var region = document.querySelector("[data-visit-rooms]");
  if (!region) return;
  var url = region.getAttribute("data-refresh-url");
  var pending = null;

  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "error" })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .querySelector("[data-visit-rooms]");
        if (!fresh) return;
        announceNewlyWaiting(fresh);
        region.replaceChildren.apply(region, Array.from(fresh.childNodes));
        region.hidden = fresh.hasAttribute("hidden");
      })
      .catch(function () { /* the next event or tick tries again */ });
  }

  function waitingIds(root) {
    return Array.from(root.querySelectorAll("[data-testid=visit-room-row]"))
      .filter(function (row) { return row.querySelector("[data-testid=visit-waiting]"); })
      .map(function (row) { return row.getAttribute("data-appointment-id"); });
  }

  function announceNewlyWaiting(fresh) {
    if (!window.carebookAnnounce) return;
    var before = waitingIds(region);
    var said = waitingIds(fresh).filter(function (id) { return before.indexOf(id) === -1; })
      .map(function (id) {
        var row = fresh.querySelector("[data-testid=visit-room-row][data-appointment-id='" + id + "']");
        return row.querySelector("strong").textContent + " " +
          row.querySelector("[data-testid=visit-waiting]").textContent;
      });
    if (said.length) window.carebookAnnounce(said.join(". "));
  }

  function soon() {
    window.clearTimeout(pending);
    pending = window.setTimeout(refresh, 200);
  }

  var socket = window.carebookLive && window.carebookLive.user();
  if (socket) {
    socket.on("visit_presence", soon);
    socket.on("connect", soon); // after a reconnect: what was missed meanwhile
  }
  window.setInterval(function () {
    if (document.visibilityState === "visible") refresh();
  }, 60000);
})();
