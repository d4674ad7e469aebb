// A doctor's public page: slots taken or freed by others show at once, without a reload (a
// time taken is read out through announce.js; a time come free, by the page's live notice).
(function () {
  "use strict";
  var _ = window.carebookGettext;
  var section = document.querySelector("[data-live-slots]");
  if (!section || !window.carebookLive) return;
  var socket = window.carebookLive.publicFeed();
  if (!socket) return;
  var doctorId = parseInt(section.getAttribute("data-live-slots"), 10);
  var notice = section.querySelector("[data-testid=slots-notice]");

  socket.on("connect", function () {
    socket.emit("watch_doctor", { doctor_id: doctorId }); // again after each reconnection
  });

  socket.on("slot", function (event) {
    var link = section.querySelector("a.slot[data-testid='slot-" + event.slot_id + "']");
    if (event.state === "taken" && link) {
      link.classList.add("taken");
      link.setAttribute("aria-disabled", "true");
      link.dataset.href = link.getAttribute("href");
      link.removeAttribute("href");
      link.title = _("Just taken");
      link.dataset.state = "taken";
      if (window.carebookAnnounce) {
        var day = link.closest("article.day");
        var heading = day && day.querySelector("h3");
        window.carebookAnnounce((heading ? heading.textContent + " " : "") + link.textContent + ": " + link.title);
      }
    } else if (event.state === "free" && link && link.dataset.state === "taken") {
      link.classList.remove("taken");
      link.removeAttribute("aria-disabled");
      link.setAttribute("href", link.dataset.href);
      link.removeAttribute("title");
      link.dataset.state = "free";
    } else if (event.state === "free" && notice) {
      // A time this page never showed: offer a reload rather than guessing where it goes.
      notice.textContent = _("A time has just come free.") + " ";
      var reload = document.createElement("a");
      reload.href = window.location.href;
      reload.textContent = _("Show it");
      notice.appendChild(reload);
      notice.hidden = false;
    }
  });
})();
