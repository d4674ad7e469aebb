// The messages link in the header: the unread count of chat messages (badge.js), polled
// every 20 seconds and pushed by Socket.IO's "unread" ({total}).
(function () {
  "use strict";
  var _ = window.carebookGettext;
  var link = document.querySelector("a.messages-link[data-unread-url]");
  if (link && window.carebookBadge) {
    window.carebookMessages = window.carebookBadge(link, {
      name: _("Messages"),
      countSelector: ".messages-count",
      pollMs: 20000,
      event: "unread"
    });
  }
})();

// The open thread (/messages/<id>), live when a socket is available (live.js): incoming
// `message` events for this conversation are appended (as text, never HTML), `read` marks
// my messages "Read", `typing` shows "… is typing" for a few seconds, and the form sends
// through `send_message` (the normal form POST when there is no socket, a file is attached,
// or the acknowledgement fails). Typing is told at most every 3 seconds.
(function () {
  "use strict";
  var _ = window.carebookGettext;
  var thread = document.querySelector("section.chat-thread[data-conversation-id]");
  var socket = window.carebookLive && window.carebookLive.user();
  if (!thread || !socket) {
    return;
  }
  var conversationId = parseInt(thread.getAttribute("data-conversation-id"), 10);
  var me = parseInt(thread.getAttribute("data-user-id"), 10);
  var list = thread.querySelector("ol.chat-messages");
  var typingNote = thread.querySelector(".chat-typing");
  var form = thread.querySelector("form.chat-form");
  var live = !thread.hasAttribute("data-paged"); // an older page does not grow at the end
  var TYPING_SHOWN_MS = 4000;
  var TYPING_EVERY_MS = 3000;
  var typingTimer = null;
  var lastTyped = 0;
  var MONTHS = [_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May"), _("Jun"), _("Jul"), _("Aug"),
    _("Sep"), _("Oct"), _("Nov"), _("Dec")];

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) {
      return iso;
    }
    return two(d.getUTCDate()) + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear() +
      ", " + two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " UTC";
  }

  function append(message) {
    if (!live || message.conversation_id !== conversationId ||
        list.querySelector('[data-message-id="' + message.id + '"]')) {
      return;
    }
    var empty = list.querySelector('[data-testid="no-messages"]');
    if (empty) {
      empty.remove();
    }
    var mine = message.sender_id === me;
    var item = document.createElement("li");
    item.className = "chat-message " + (mine ? "mine" : "theirs");
    item.setAttribute("data-testid", "message");
    item.setAttribute("data-message-id", String(message.id));
    if (message.body) {
      var body = document.createElement("p");
      body.className = "chat-body";
      body.setAttribute("data-testid", "message-body");
      body.textContent = message.body; // text, never HTML
      item.appendChild(body);
    }
    if (message.attachment) {
      var file = document.createElement("p");
      file.className = "chat-file";
      var link = document.createElement("a");
      link.href = message.attachment.url;
      link.setAttribute("data-testid", "attachment");
      link.textContent = message.attachment.name;
      file.appendChild(link);
      item.appendChild(file);
    }
    var meta = document.createElement("small");
    meta.className = "muted";
    var time = document.createElement("time");
    time.setAttribute("datetime", message.created_at);
    time.textContent = when(message.created_at);
    meta.appendChild(time);
    if (mine) {
      meta.appendChild(document.createTextNode(" · "));
      var receipt = document.createElement("span");
      receipt.setAttribute("data-testid", "receipt");
      receipt.textContent = message.read_at ? _("Read") : _("Sent");
      meta.appendChild(receipt);
    }
    item.appendChild(meta);
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
    if (!mine) {
      hideTyping();
      if (document.visibilityState === "visible") {
        socket.emit("mark_read", { conversation_id: conversationId, up_to_id: message.id });
      }
    }
  }

  function hideTyping() {
    if (typingNote) {
      typingNote.hidden = true;
    }
    if (typingTimer !== null) {
      window.clearTimeout(typingTimer);
      typingTimer = null;
    }
  }

  socket.on("message", append);

  socket.on("read", function (event) {
    if (event.conversation_id !== conversationId || event.reader_id === me) {
      return;
    }
    list.querySelectorAll("li.chat-message.mine").forEach(function (item) {
      var id = parseInt(item.getAttribute("data-message-id"), 10);
      var receipt = item.querySelector('[data-testid="receipt"]');
      if (receipt && id <= event.up_to_id) {
        receipt.textContent = _("Read");
      }
    });
  });

  socket.on("typing", function (event) {
    if (!typingNote || event.conversation_id !== conversationId || event.user_id === me) {
      return;
    }
    typingNote.hidden = false;
    if (typingTimer !== null) {
      window.clearTimeout(typingTimer);
    }
    typingTimer = window.setTimeout(hideTyping, TYPING_SHOWN_MS);
  });

  if (!form) {
    return;
  }
  var input = form.querySelector("textarea[name=body]");
  var fileInput = form.querySelector("input[type=file]");
  var button = form.querySelector("button[type=submit]");
  var viaForm = false;

  input.addEventListener("input", function () {
    var now = Date.now();
    if (socket.connected && now - lastTyped >= TYPING_EVERY_MS) {
      lastTyped = now;
      socket.emit("typing", { conversation_id: conversationId });
    }
  });

  form.addEventListener("submit", function (event) {
    if (viaForm || !socket.connected || (fileInput && fileInput.files.length)) {
      return; // the normal POST: no socket, or a file to upload
    }
    event.preventDefault();
    button.disabled = true;
    var fallback = window.setTimeout(function () { submitForm(); }, 10000);
    socket.emit("send_message", { conversation_id: conversationId, body: input.value },
      function (ack) {
        window.clearTimeout(fallback);
        if (viaForm) {
          return;
        }
        if (ack && ack.ok) {
          button.disabled = false;
          input.value = "";
          lastTyped = 0;
          append(ack.message);
        } else {
          submitForm(); // the server's page shows the refusal as a page would
        }
      });
  });

  function submitForm() {
    viaForm = true;
    button.disabled = false;
    form.submit();
  }
})();
