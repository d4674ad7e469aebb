"""The public help (FAQ) and policy pages, written by staff (services/content.py)."""

import contextlib
import logging

from flask import g, render_template
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.main import bp
from app.rbac import public
from app.services import catalogue, content

log = logging.getLogger(__name__)


@bp.app_template_global()
def footer_policies() -> list[tuple[str, str]]:
    """The footer's policy links, read once per request. An error page must still render
    when the database is what failed: then the footer has no policy links."""
    if "footer_policies" not in g:
        try:
            g.footer_policies = catalogue.footer_policies()
        except SQLAlchemyError:
            log.warning("footer policy links left out: the database did not answer")
            g.footer_policies = []
            with contextlib.suppress(SQLAlchemyError):
                db.session.rollback()
    return g.footer_policies


@bp.route("/help")
@public
def help():
    entries = [(page, content.render_markdown(page.body)) for page in content.published_faqs()]
    return render_template("main/help.html", entries=entries)


@bp.route("/policies/<string(maxlength=80):slug>")
@public
def policy(slug: str):
    page = content.published_policy(slug)  # PageNotFound: a 404 page
    return render_template("main/policy.html", page=page, body=content.render_markdown(page.body))
