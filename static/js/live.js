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
      var socket = window.io(namespace, {
        transports: ["websocket", "polling"],
        tryAllTransports: true
      });
      // The server ends a user's sockets when one of their sessions is signed out or
      // revoked; a page still signed in connects again (and is let back in), a revoked one
      // is refused. Socket.IO does not reconnect by itself after a server's disconnect.
      socket.on("disconnect", function (reason) {
        if (reason === "io server disconnect") {
          setTimeout(function () { socket.connect(); }, 500);
        }
      });
      sockets[namespace] = socket;
    }
    return sockets[namespace];
  }

  window.carebookLive = {
    user: function () { return connect("/"); },
    publicFeed: function () { return connect("/public"); }
  };
})();
