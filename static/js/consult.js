// See a doctor now: the request form (a card is turned into a Stripe.js token before the
// form is sent) and the waiting page, which goes straight to the video visit once a doctor
// accepts (told over the socket; a poll of the consult's state is the fallback).
(function () {
  "use strict";
  var _ = window.carebookGettext;

  var request = document.getElementById("consult-request");
  if (request) {
    var form = document.getElementById("consult-form");
    var mount = document.getElementById("card-element");
    var fields = document.getElementById("card-fields");
    var card = null;
    var stripe = null;
    var method = function () {
      var checked = form.querySelector("input[name=payment_method]:checked");
      return checked ? checked.value : "";
    };
    var showCard = function () { if (fields) fields.hidden = method() !== "card"; };
    if (mount && typeof window.Stripe === "function" && request.dataset.publishableKey) {
      stripe = window.Stripe(request.dataset.publishableKey);
      card = stripe.elements().create("card");
      card.mount("#card-element");
    }
    form.addEventListener("change", showCard);
    showCard();
    form.addEventListener("submit", function (event) {
      if (method() !== "card" || !card) return; // cash: the form goes as it is
      event.preventDefault();
      var errors = document.getElementById("card-errors");
      errors.textContent = "";
      stripe.createToken(card).then(function (result) {
        if (result.error || !result.token) {
          errors.textContent = (result.error && result.error.message) || _("Check your card details.");
          return;
        }
        document.getElementById("card_token").value = result.token.id;
        form.submit();
      });
    });
  }

  var root = document.getElementById("consult-waiting");
  if (!root || root.dataset.status !== "waiting") return;

  // 3-D Secure: the bank wants the payer to check the hold; the server then reads the outcome.
  if (root.dataset.clientSecret && typeof window.Stripe === "function") {
    window.Stripe(root.dataset.publishableKey).confirmCardPayment(root.dataset.clientSecret)
      .then(function () { document.getElementById("consult-check-form").submit(); });
    return;
  }
  var id = parseInt(root.dataset.consultId, 10);
  var status = root.querySelector("[data-testid=consult-status]");
  var done = false;

  function apply(event) {
    if (done || !event || event.id !== id) return;
    if (event.status === "accepted" && event.visit_url) {
      done = true;
      status.textContent = _("A doctor accepted: joining the video visit…");
      window.location.assign(event.visit_url);
    } else if (event.status === "waiting") {
      status.textContent = _("Waiting for a doctor to accept…");
    } else if (event.status === "expired" || event.status === "cancelled") {
      done = true;
      window.location.reload(); // the page says what happened and offers to ask again
    }
  }

  if (window.carebookLive) {
    var socket = window.carebookLive.user();
    if (socket) socket.on("consult", apply);
  }
  var poll = window.setInterval(function () {
    if (done) { window.clearInterval(poll); return; }
    fetch(root.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(apply)
      .catch(function () { /* the next poll tries again */ });
  }, 5000);

  var countdown = root.querySelector("[data-expires-at]");
  if (countdown) {
    var expires = new Date(countdown.dataset.expiresAt).getTime();
    var tick = function () {
      var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      countdown.textContent = _("%(time)s left", {
        time: Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0")
      });
    };
    tick();
    window.setInterval(tick, 1000);
  }
})();
