"""Entry point: `gunicorn wsgi:app` in production, `python wsgi.py` for a local server."""

from app import create_app
from app.background import start_embedded_schedule
from app.extensions import socketio

app = create_app()
# Without REDIS_URL there is no worker: this process runs the periodic jobs on a timer.
start_embedded_schedule(app)

if __name__ == "__main__":
    port = app.config["PORT"]
    print(f"Carebook is serving on http://127.0.0.1:{port}/", flush=True)
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True)
