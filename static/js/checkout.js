// Checkout: Stripe Elements card entry, the hold's countdown, 3-D Secure, then confirm.
(function () {
  "use strict";
  var _ = window.carebookGettext;

  var root = document.getElementById("checkout");
  if (!root) return;
  var payForm = document.getElementById("pay-form");
  var confirmForm = document.getElementById("confirm-form");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");

  var countdown = document.querySelector("[data-expires-at]");
  if (countdown) {
    var expires = new Date(countdown.dataset.expiresAt).getTime();
    var tick = function () {
      var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = String(left % 60).padStart(2, "0");
      countdown.textContent = left > 0
        ? _("%(time)s left to pay", { time: minutes + ":" + seconds })
        : _("This hold has lapsed: reload the page to see the slot.");
      if (left === 0) {
        if (button) button.disabled = true;
        window.clearInterval(timer);
      }
    };
    var timer = window.setInterval(tick, 1000);
    tick();
  }

  if (typeof window.Stripe !== "function" || !root.dataset.publishableKey) {
    errors.textContent = _("Card payments cannot load right now. Please try again later.");
    if (button) button.disabled = true;
    return;
  }
  var stripe = window.Stripe(root.dataset.publishableKey);

  // 3-D Secure: the server confirmed the payment and the bank wants the payer to check it.
  if (root.dataset.status === "requires_action" && root.dataset.clientSecret) {
    stripe.confirmCardPayment(root.dataset.clientSecret).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message || _("The check by your bank failed.");
      }
      confirmForm.submit(); // the server reads the outcome from Stripe either way
    });
  }

  var card = stripe.elements().create("card");
  card.mount("#card-element");

  payForm.addEventListener("submit", function (event) {
    event.preventDefault();
    errors.textContent = "";
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    stripe.createToken(card).then(function (result) {
      if (result.error || !result.token) {
        errors.textContent = (result.error && result.error.message) || _("Check your card details.");
        button.disabled = false;
        button.removeAttribute("aria-busy");
        return;
      }
      document.getElementById("card_token").value = result.token.id;
      payForm.submit();
    });
  });
})();
