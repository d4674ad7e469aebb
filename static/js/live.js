// Socket.IO for the live pages: one connection per page (namespaces share it).
// carebookLive.user() is the signed-in user's socket ("/": their own room, chosen by the
// server); carebookLive.publicFeed() is the public namespace ("/public": watch_doctor).
// WebSocket first, long-polling when WebSockets are blocked.
(function () {
  "use strict";
  var sockets = {};

  function connect(namespace) {
    if (typeof window.io !== "function") {
      return null; // the client did not load: pages still work, only not live
    }
    if (!sockets[namespace]) {
      sockets[namespace] = window.io(namespace, {
        transports: ["websocket", "polling"],
        tryAllTransports: true
      });
    }
    return sockets[namespace];
  }

  window.carebookLive = {
    user: function () { return connect("/"); },
    publicFeed: function () { return connect("/public"); }
  };
})();
