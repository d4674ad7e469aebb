# Carebook web image: gunicorn serving wsgi:app (HTTP + Socket.IO) on a gevent worker: one
# greenlet per request or open WebSocket, so one process holds many idle sockets.
# One worker process per container: Socket.IO needs sticky sessions across processes, so scale
# with more containers behind a sticky proxy and SOCKETIO_MESSAGE_QUEUE on Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CAREBOOK_ENV=production \
    FLASK_APP=wsgi \
    PORT=5000

WORKDIR /srv/carebook
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY app app
COPY workers workers
COPY migrations migrations
COPY templates templates
COPY static static
COPY translations translations
COPY wsgi.py .

# instance/uploads (MEDIA_ROOT) holds doctors' photos: docker-compose.yml mounts a volume there.
RUN useradd --create-home --uid 10001 carebook && mkdir -p instance/uploads \
    && chown -R carebook instance
USER carebook

EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# No --access-logfile: gunicorn's access log prints query strings (password-reset tokens); the
# app logs each request itself without them.
CMD ["sh", "-c", "flask db upgrade && exec gunicorn --bind 0.0.0.0:${PORT} --workers 1 --worker-class gevent --worker-connections 2000 --no-control-socket wsgi:app"]
