// carebookAnnounce(text): a screen reader reads `text` out, politely (after what it is saying).
// The region (#live-announcer in base.html) is in the page from the start; it is emptied first
// so the same words said twice are heard twice. For live updates that change no visible live
// region of their own: a header count rising, a time taken, someone waiting, someone typing.
(function () {
  "use strict";
  var timer = null;

  window.carebookAnnounce = function (text) {
    var region = document.getElementById("live-announcer");
    text = (text || "").replace(/\s+/g, " ").trim();
    if (!region || !text) return;
    region.textContent = "";
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { region.textContent = text; }, 100);
  };
})();
