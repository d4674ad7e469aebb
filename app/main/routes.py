from flask import current_app, jsonify, render_template

from app.httpcache import cacheable
from app.main import bp
from app.rbac import public
from app.services import catalogue
from app.services.health import check_readiness


@bp.route("/")
@public
@cacheable()
def home():
    return render_template("main/home.html", specialties=catalogue.specialties())


@bp.route("/healthz")
@public
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
@public
def readyz():
    checks = check_readiness(current_app.config["REDIS_URL"])
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503
