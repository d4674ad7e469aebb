// The dashboard's consult panel, live: a request of the doctor's specialties appears as it
// comes and goes when another doctor takes it, it expires or the patient withdraws it.
// Built with textContent only: the reason is the patient's text.
// Loaded from the page body: it waits for live.js (loaded at the end of the page).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var _ = window.carebookGettext;
  var panel = document.querySelector("[data-testid=consults]");
  if (!panel || panel.dataset.onCall !== "true" || !window.carebookLive) return;
  var socket = window.carebookLive.user();
  if (!socket) return;
  var list = panel.querySelector("[data-testid=consult-list]");
  var empty = panel.querySelector("[data-testid=consults-empty]");
  var count = panel.querySelector("[data-testid=consult-count]");
  var notice = panel.querySelector("[data-testid=consult-notice]");
  var token = panel.querySelector("input[name=csrf_token]").value;
  var acceptUrl = panel.dataset.acceptUrl;
  var GONE = { accepted: "A consult was taken", expired: "A consult expired", cancelled: "A consult was withdrawn" };

  function update() {
    var n = list.children.length;
    count.textContent = String(n);
    count.hidden = n === 0;
    empty.hidden = n !== 0;
  }

  function say(text) {
    notice.textContent = text;
    notice.hidden = false;
  }

  function item(event) {
    var li = document.createElement("li");
    li.dataset.consultId = String(event.id);
    li.dataset.testid = "consult-" + event.id;
    li.setAttribute("data-testid", "consult-" + event.id);
    var title = document.createElement("strong");
    title.textContent = event.specialty;
    var meta = document.createElement("span");
    meta.className = "muted";
    var since = new Date(event.created_at);
    meta.textContent = " · " + (event.payment_method === "card" ? _("card") : _("cash")) + " · " +
      _("waiting since %(time)s", {
        time: since.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      });
    li.append(title, meta);
    if (event.reason) {
      var reason = document.createElement("p");
      reason.className = "consult-reason";
      reason.textContent = event.reason;
      li.append(reason);
    }
    var form = document.createElement("form");
    form.method = "post";
    form.action = acceptUrl.replace(/\/0\/accept$/, "/" + event.id + "/accept");
    var csrf = document.createElement("input");
    csrf.type = "hidden";
    csrf.name = "csrf_token";
    csrf.value = token;
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "btn-sm";
    button.textContent = _("Accept and start the video visit");
    form.append(csrf, button);
    li.append(form);
    return li;
  }

  socket.on("consult", function (event) {
    var existing = list.querySelector('[data-consult-id="' + event.id + '"]');
    if (event.status === "waiting") {
      if (!existing) {
        list.append(item(event));
        say("A patient is asking for a consult now");
      }
    } else if (existing) {
      existing.remove();
      say(GONE[event.status] || "A consult ended");
    }
    update();
  });
});
