// The video room (/visits/<id>): a WebRTC call between the appointment's patient and doctor,
// signalled over the page's Socket.IO connection (live.js; app/sockets/visits.py relays to
// the other participant only).
//
// Negotiation is "perfect negotiation": the patient is the polite peer (gives way when both
// offer at once), the doctor the impolite one. The one who enters while the other is already
// in the room makes the offer. Each entry has its own random session id, carried by every
// signalling message: an offer from a new session (the other side rejoined) starts a fresh
// connection, and messages from an old one are dropped. A connection that fails is restarted
// (ICE restart); a dropped socket rejoins when it reconnects; "Hang up" leaves and "Rejoin"
// comes back. The early page reloads itself when the room opens.
(function () {
  "use strict";
  var _ = window.carebookGettext;

  var early = document.querySelector("[data-opens-at]");
  if (early) {
    var wait = new Date(early.getAttribute("data-opens-at")).getTime() - Date.now() + 1000;
    if (wait > 0 && wait < 2147483647) {
      window.setTimeout(function () { window.location.reload(); }, wait);
    }
    return;
  }

  var stage = document.querySelector("[data-visit]");
  if (!stage) {
    return;
  }
  var appointmentId = parseInt(stage.getAttribute("data-appointment-id"), 10);
  var side = stage.getAttribute("data-side");
  var peerName = stage.getAttribute("data-peer-name");
  var polite = side === "patient";
  var statusLine = stage.querySelector("[data-testid=visit-status]");
  var mediaError = stage.querySelector("[data-testid=media-error]");
  var remoteVideo = stage.querySelector("video.visit-remote");
  var localVideo = stage.querySelector("video.visit-local");
  var muteButton = stage.querySelector("[data-action=mute]");
  var cameraButton = stage.querySelector("[data-action=camera]");
  var hangupButton = stage.querySelector("[data-action=hangup]");
  var rejoinButton = stage.querySelector("[data-action=rejoin]");
  var socket = window.carebookLive && window.carebookLive.user();

  var localStream = null;
  var pc = null;
  var iceServers = [];
  var joined = false;
  var session = null; // this entry's id
  var peerSession = null; // the other side's current entry
  var makingOffer = false;
  var ignoreOffer = false;
  var restartTimer = null;
  var muted = false;
  var cameraOff = false;

  function setStatus(text) {
    statusLine.textContent = text;
  }

  function waiting() {
    setStatus(side === "patient" ? _("Waiting for the doctor…") : _("Waiting for %(name)s to join…", { name: peerName }));
  }

  function showMediaError(text) {
    mediaError.textContent = text;
    mediaError.hidden = !text;
  }

  function newSession() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // -- camera and microphone ---------------------------------------------------------------

  var MEDIA_WORDS = {
    NotAllowedError: _("Carebook may not use your camera and microphone. Allow them for this site in your browser (the icon beside the address), then press Rejoin."),
    SecurityError: _("Your browser blocks the camera and microphone on this page. Allow them for this site, then press Rejoin."),
    NotFoundError: _("No camera or microphone was found. Connect one, then press Rejoin."),
    NotReadableError: _("Your camera or microphone is used by another program. Close it, then press Rejoin."),
    OverconstrainedError: _("Your camera or microphone cannot be used here. Try another one, then press Rejoin.")
  };

  function getMedia() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showMediaError(_("This browser cannot use a camera or microphone here (it needs a secure https:// connection and a recent browser). You can still see and hear the other side."));
      return Promise.resolve(null);
    }
    return navigator.mediaDevices.getUserMedia({ audio: true, video: true })
      .catch(function (error) {
        if (error && (error.name === "NotFoundError" || error.name === "NotReadableError")) {
          // No camera (or a busy one): a call with the microphone alone still works.
          return navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
            showMediaError(_("No camera could be used: %(name)s hears you but does not see you.", { name: peerName }));
            return stream;
          });
        }
        throw error;
      })
      .then(function (stream) {
        if (stream.getVideoTracks().length) {
          showMediaError("");
        }
        return stream;
      })
      .catch(function (error) {
        showMediaError((MEDIA_WORDS[error && error.name] ||
          _("Your camera and microphone could not be started.")) + " " +
          _("Meanwhile you can still see and hear %(name)s.", { name: peerName }));
        return null;
      });
  }

  function applyControls() {
    var hasAudio = !!(localStream && localStream.getAudioTracks().length);
    var hasVideo = !!(localStream && localStream.getVideoTracks().length);
    if (localStream) {
      localStream.getAudioTracks().forEach(function (t) { t.enabled = !muted; });
      localStream.getVideoTracks().forEach(function (t) { t.enabled = !cameraOff; });
    }
    muteButton.disabled = !joined || !hasAudio;
    cameraButton.disabled = !joined || !hasVideo;
    muteButton.textContent = muted ? _("Unmute") : _("Mute");
    muteButton.setAttribute("aria-pressed", String(muted));
    cameraButton.textContent = cameraOff ? _("Turn camera on") : _("Turn camera off");
    cameraButton.setAttribute("aria-pressed", String(cameraOff));
    hangupButton.disabled = !joined;
    rejoinButton.hidden = joined;
  }

  function stopMedia() {
    if (localStream) {
      localStream.getTracks().forEach(function (t) { t.stop(); });
    }
    localStream = null;
    localVideo.srcObject = null;
  }

  // -- the peer connection -----------------------------------------------------------------

  function send(event, payload) {
    payload.appointment_id = appointmentId;
    payload.session = session;
    socket.emit(event, payload);
  }

  function closePc() {
    window.clearTimeout(restartTimer);
    if (pc) {
      pc.onicecandidate = pc.ontrack = pc.onnegotiationneeded = pc.onconnectionstatechange = null;
      pc.oniceconnectionstatechange = null;
      pc.close();
    }
    pc = null;
    makingOffer = false;
    ignoreOffer = false;
    remoteVideo.srcObject = null;
  }

  function newPc(offering) {
    closePc();
    var connection = new RTCPeerConnection({ iceServers: iceServers });
    pc = connection;
    if (localStream) {
      localStream.getTracks().forEach(function (track) { connection.addTrack(track, localStream); });
    } else if (offering) {
      connection.addTransceiver("audio", { direction: "recvonly" });
      connection.addTransceiver("video", { direction: "recvonly" });
    }
    connection.ontrack = function (event) {
      if (connection !== pc) return;
      var stream = event.streams[0];
      if (!stream) {
        stream = remoteVideo.srcObject || new MediaStream();
        stream.addTrack(event.track);
      }
      if (remoteVideo.srcObject !== stream) {
        remoteVideo.srcObject = stream;
      }
    };
    connection.onicecandidate = function (event) {
      if (connection !== pc) return;
      send("visit_candidate", { candidate: event.candidate ? event.candidate.toJSON() : null });
    };
    connection.onnegotiationneeded = function () {
      if (connection !== pc) return;
      makingOffer = true;
      connection.setLocalDescription()
        .then(function () {
          if (connection !== pc) return;
          var d = connection.localDescription;
          send("visit_offer", { description: { type: d.type, sdp: d.sdp } });
        })
        .catch(function () { /* a newer negotiation replaces this one */ })
        .then(function () { makingOffer = false; });
    };
    connection.onconnectionstatechange = function () {
      if (connection !== pc) return;
      var state = connection.connectionState;
      if (state === "connected") {
        setStatus(_("In the call with %(name)s.", { name: peerName }));
      } else if (state === "connecting") {
        setStatus(_("Connecting to %(name)s…", { name: peerName }));
      } else if (state === "disconnected") {
        setStatus(_("The connection is unsteady: reconnecting…"));
      } else if (state === "failed") {
        setStatus(_("The connection dropped: reconnecting…"));
      }
    };
    connection.oniceconnectionstatechange = function () {
      if (connection !== pc) return;
      var state = connection.iceConnectionState;
      window.clearTimeout(restartTimer);
      if (state === "failed") {
        connection.restartIce();
      } else if (state === "disconnected") {
        // Often recovers by itself; if not within a few seconds, restart ICE.
        restartTimer = window.setTimeout(function () {
          if (connection === pc && connection.iceConnectionState !== "connected" &&
              connection.iceConnectionState !== "completed") {
            connection.restartIce();
          }
        }, 4000);
      }
    };
    return connection;
  }

  function fromPeer(message) {
    // True when the message belongs to the other side's current entry (adopting a new one
    // when it brings an offer: they rejoined, so the old connection goes).
    if (!joined || message.appointment_id !== appointmentId || typeof message.session !== "string") {
      return false;
    }
    if (peerSession === message.session) {
      return true;
    }
    if (message.description && message.description.type === "offer") {
      if (peerSession !== null) {
        closePc();
      }
      peerSession = message.session;
      return true;
    }
    if (peerSession === null && pc && message.description) {
      peerSession = message.session; // the answer to our first offer
      return true;
    }
    return false;
  }

  function onDescription(message) {
    if (!fromPeer(message)) return;
    var description = message.description;
    var connection = pc || newPc(false);
    var collision = description.type === "offer" &&
      (makingOffer || connection.signalingState !== "stable");
    ignoreOffer = !polite && collision;
    if (ignoreOffer) return;
    connection.setRemoteDescription(description)
      .then(function () {
        if (description.type !== "offer" || connection !== pc) return null;
        return connection.setLocalDescription().then(function () {
          var d = connection.localDescription;
          send("visit_answer", { description: { type: d.type, sdp: d.sdp } });
        });
      })
      .catch(function () { /* superseded by a newer description */ });
  }

  if (!socket) {
    setStatus(_("The video call needs a live connection to Carebook: reload the page."));
    return;
  }

  socket.on("visit_offer", onDescription);
  socket.on("visit_answer", onDescription);

  socket.on("visit_candidate", function (message) {
    if (!fromPeer(message) || !pc) return;
    pc.addIceCandidate(message.candidate || null).catch(function () {
      // A candidate of an offer we ignored, or of a connection since replaced.
    });
  });

  socket.on("visit_peer", function (event) {
    if (!joined || event.appointment_id !== appointmentId) return;
    if (event.state === "joined") {
      setStatus(_("%(name)s is joining…", { name: peerName }));
    } else if (event.state === "left") {
      closePc();
      peerSession = null;
      setStatus(_("%(name)s left the call.", { name: peerName }) + " " +
        (side === "patient" ? _("Waiting for the doctor…") : _("Waiting for them to come back…")));
    }
  });

  // -- entering and leaving ----------------------------------------------------------------

  function join() {
    rejoinButton.hidden = true;
    setStatus(_("Joining…"));
    (localStream ? Promise.resolve(localStream) : getMedia()).then(function (stream) {
      localStream = stream;
      localVideo.srcObject = stream;
      session = newSession();
      peerSession = null;
      socket.emit("visit_join", { appointment_id: appointmentId }, function (ack) {
        if (!ack || !ack.ok) {
          joined = false;
          setStatus((ack && ack.error && ack.error.message) || _("Could not join the visit."));
          applyControls();
          return;
        }
        joined = true;
        iceServers = ack.ice_servers || [];
        applyControls();
        if (ack.peer_present) {
          setStatus(_("Connecting to %(name)s…", { name: peerName }));
          newPc(true);
        } else {
          waiting();
        }
      });
    });
  }

  function hangUp() {
    if (!joined) return;
    joined = false;
    socket.emit("visit_leave", { appointment_id: appointmentId });
    closePc();
    peerSession = null;
    stopMedia();
    applyControls();
    setStatus(_("You left the call. Press Rejoin to come back."));
  }

  muteButton.addEventListener("click", function () { muted = !muted; applyControls(); });
  cameraButton.addEventListener("click", function () { cameraOff = !cameraOff; applyControls(); });
  hangupButton.addEventListener("click", hangUp);
  rejoinButton.addEventListener("click", join);

  // The socket dropped and came back: the server saw us leave; enter again.
  socket.io.on("reconnect", function () {
    if (!joined) return;
    joined = false;
    closePc();
    join();
  });

  // -- the doctor's outcome, without leaving the call ----------------------------------------

  var outcomeForm = stage.querySelector("form.visit-outcome");
  if (outcomeForm) {
    outcomeForm.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !window.fetch) return;
      event.preventDefault();
      var result = outcomeForm.querySelector("[data-testid=outcome-result]");
      var data = new FormData(outcomeForm);
      data.set("outcome", button.value);
      fetch(outcomeForm.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (answer.ok) {
          outcomeForm.querySelectorAll("button").forEach(function (b) { b.remove(); });
          result.textContent = answer.body.message;
        } else {
          result.textContent = answer.body.error ? answer.body.error.message : _("Not saved.");
        }
      }).catch(function () {
        outcomeForm.submit();
      });
    });
  }

  // For tests and diagnostics: frames decoded from the other side's video so far.
  window.carebookVisit = {
    framesDecoded: function () {
      if (!pc) return Promise.resolve(0);
      return pc.getStats().then(function (report) {
        var frames = 0;
        report.forEach(function (stat) {
          if (stat.type === "inbound-rtp" && stat.kind === "video") {
            frames += stat.framesDecoded || 0;
          }
        });
        return frames;
      });
    },
    state: function () { return pc ? pc.connectionState : "none"; }
  };

  join();
})();
