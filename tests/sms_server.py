"""A local stand-in for Twilio's Messages API, for tests that send texts over HTTP.

    with TwilioStub() as twilio:          # or the `twilio` fixture (tests/conftest.py)
        app = make_app(..., **twilio.config())
        ...
        twilio.messages                   # what it accepted: [{"To": ..., "Body": ...}]
        twilio.answer(500)                # the next requests get a Twilio-shaped 500
        twilio.stall()                    # ... or no answer at all (the client times out)

It checks what Twilio checks first: the path names the account, HTTP basic auth carries the
account SID and auth token (else 401, Twilio error 20003), the form has To, Body and either
From or MessagingServiceSid (else 400, errors 21604 / 21602 / 21603).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15005550006"


@dataclass
class Received:
    path: str
    form: dict[str, str]
    authorized: bool
    accepted: bool = False


@dataclass
class _Behaviour:
    status: int = 201  # what to answer
    stall: bool = False  # hold the request until released (or the stub stops)


@dataclass
class TwilioStub:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    from_number: str = FROM_NUMBER
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self):
        self._behaviour = _Behaviour()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "the stub is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def config(self, **overrides) -> dict:
        """App settings that send texts to this stub."""
        return {
            "SMS_PROVIDER": "twilio",
            "TWILIO_API_BASE": self.url,
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM_NUMBER": self.from_number,
            "TWILIO_MESSAGING_SERVICE_SID": None,
            "TWILIO_TIMEOUT_SECONDS": 2,
            **overrides,
        }

    def answer(self, status: int) -> None:
        """Answer every following request with `status` (201: accept again)."""
        with self._lock:
            self._behaviour = _Behaviour(status=status)
        self._release.set()

    def stall(self) -> None:
        """Leave every following request unanswered until answer() or stop()."""
        with self._lock:
            self._behaviour = _Behaviour(stall=True)
        self._release.clear()

    def reset(self) -> None:
        self.answer(201)
        with self._lock:
            self.requests.clear()

    @property
    def messages(self) -> list[dict[str, str]]:
        """The forms of the texts accepted (authorized and answered 201)."""
        with self._lock:
            return [r.form for r in self.requests if r.accepted]

    def start(self) -> TwilioStub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TwilioStub:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- serving ------------------------------------------------------------------------

    def handle(self, path: str, authorization: str | None, body: bytes) -> tuple[int, dict]:
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        received = Received(path=path, form=form, authorized=authorization == expected)
        with self._lock:
            self.requests.append(received)
            behaviour = self._behaviour
        if behaviour.stall:
            self._release.wait(timeout=30)
            return 503, _error(20500, "Service unavailable", 503)
        if path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return 404, _error(20404, "The requested resource was not found", 404)
        if not received.authorized:
            return 401, _error(20003, "Authenticate", 401)
        if behaviour.status >= 400:
            return behaviour.status, _error(
                21610 if behaviour.status == 400 else 20500,
                "Attempt to send to unsubscribed recipient"
                if behaviour.status == 400
                else "An internal server error has occurred",
                behaviour.status,
            )
        if not form.get("To"):
            return 400, _error(21604, "A 'To' phone number is required.", 400)
        if not form.get("Body"):
            return 400, _error(21602, "Message body is required.", 400)
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, _error(21603, "A 'From' phone number is required.", 400)
        received.accepted = True
        sid = f"SM{len(self.requests):032d}"
        return 201, {"sid": sid, "status": "queued", "to": form["To"], "body": form["Body"]}


def _error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler(stub: TwilioStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # http.server calls it by this name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status, payload = stub.handle(self.path, self.headers.get("Authorization"), body)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, *args):  # keep test output quiet
            pass

    return Handler
