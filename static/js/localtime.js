// Times are shown in the clinic's zone. When the viewer's own zone differs, add their time
// beside it: <time datetime="..." data-clinic-zone="America/New_York">Mon 23 Nov, 09:00 EST</time>
// becomes "... 09:00 EST (15:00 your time)".
(function () {
  "use strict";
  var _ = window.carebookGettext;
  var viewerZone;
  try {
    viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  function parts(date, zone) {
    var options = { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
                    hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    var out = {};
    new Intl.DateTimeFormat("en-GB", options).formatToParts(date).forEach(function (part) {
      out[part.type] = part.value;
    });
    return out;
  }
  document.querySelectorAll("time[data-clinic-zone]").forEach(function (element) {
    var clinicZone = element.getAttribute("data-clinic-zone");
    var date = new Date(element.getAttribute("datetime"));
    if (!viewerZone || viewerZone === clinicZone || isNaN(date)) {
      return;
    }
    var mine = parts(date, viewerZone);
    var theirs = parts(date, clinicZone);
    if (mine.hour === theirs.hour && mine.minute === theirs.minute && mine.day === theirs.day) {
      return; // same wall clock there and here
    }
    var text = mine.hour + ":" + mine.minute;
    if (mine.day !== theirs.day) {
      text = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric",
        month: "short", timeZone: viewerZone }).format(date) + ", " + text;
    }
    var note = document.createElement("span");
    note.className = "your-time";
    note.textContent = " (" + _("%(time)s your time", { time: text }) + ")";
    element.after(note);
  });
})();
