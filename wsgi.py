"""Entry point: `gunicorn wsgi:app` in production, `python wsgi.py` for a local server."""

import gc

from app import create_app
from app.background import start_embedded_schedule
from app.extensions import socketio

app = create_app()
# Without REDIS_URL there is no worker: this process runs the periodic jobs on a timer.
start_embedded_schedule(app)
# What the start made (modules, the app, the ORM's mappers: ~200k objects) lives as long as the
# process; frozen out of the collector's sight, a full collection scans only what requests and
# sockets made since (over the whole loaded app it took ~150 ms of CPU here, a pause for every
# greenlet). Collected first, so no garbage of the start is frozen with it.
gc.collect()
gc.freeze()

if __name__ == "__main__":
    port = app.config["PORT"]
    print(f"Carebook is serving on http://127.0.0.1:{port}/", flush=True)
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True)
