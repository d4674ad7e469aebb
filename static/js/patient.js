// Patient pages: "Use my location" fills the near-me fields; forms with data-confirm ask first.
(function () {
  "use strict";
  var _ = window.carebookGettext;

  document.querySelectorAll("[data-locate]").forEach(function (button) {
    if (!("geolocation" in navigator)) return;
    var status = document.querySelector("[data-locate-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = _("Finding your location…");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          document.getElementById("lat").value = position.coords.latitude.toFixed(4);
          document.getElementById("lng").value = position.coords.longitude.toFixed(4);
          var radius = document.getElementById("radius_km");
          if (!radius.value) radius.value = "25";
          status.textContent = _("Location set: press Search.");
        },
        function () {
          status.textContent = _("Your location is not available: type latitude and longitude.");
        },
        { timeout: 10000, maximumAge: 600000 }
      );
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
