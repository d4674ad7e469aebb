"""Help and policy pages: staff with content.manage write Markdown, the public reads it at
/help (the FAQ) and /policies/<slug>, rendered and then sanitised.

Rendering is Python-Markdown (raw HTML in the source passes through it) followed by nh3, an
allow-list sanitiser: only the tags and attributes below survive, links keep http, https and
mailto (and site paths) only, and <script>/<style> go with their content. So neither a
`<script>`, an `onerror=` nor a `javascript:` link from a page's source ever reaches a
browser, whoever wrote it. Saving is audited (`content.page_created`, `content.page_updated`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import markdown
import nh3
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup
from sqlalchemy import select

from app.extensions import db
from app.models import ContentPage, PageKind
from app.models.content import MAX_PAGE_BODY
from app.services import audit
from app.services.access import has_permission, load_actor
from app.services.content_defaults import DEFAULT_PAGES
from app.services.errors import Conflict, Forbidden, InvalidInput, PageNotFound, parse_choice
from app.services.l10n import format_number
from app.services.transaction import use_case

PERMISSION = "content.manage"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}


class SlugTaken(Conflict):
    code = "slug_taken"
    default_message = lazy_gettext("Another page has this address.")


def render_markdown(source: str) -> Markup:
    """The page's Markdown as safe HTML (see the module's docstring)."""
    html = markdown.markdown(source or "", extensions=["extra", "sane_lists"], output_format="html")
    # A page's own headings start below the page title (h1).
    html = re.sub(r"<(/?)h1\b", r"<\1h2", html)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # sanitised by nh3 just above


# --- the public side ------------------------------------------------------------------------


def _ordered(statement):
    return statement.order_by(ContentPage.position, ContentPage.title, ContentPage.id)


def published_faqs() -> list[ContentPage]:
    return list(
        db.session.scalars(
            _ordered(
                select(ContentPage).where(
                    ContentPage.kind == PageKind.FAQ, ContentPage.published.is_(True)
                )
            )
        )
    )


def published_policy(slug: str) -> ContentPage:
    """A published policy page. Raises PageNotFound (unknown, a FAQ entry, or unpublished:
    the public cannot tell those apart)."""
    page = db.session.scalar(
        select(ContentPage).where(
            ContentPage.slug == slug,
            ContentPage.kind == PageKind.POLICY,
            ContentPage.published.is_(True),
        )
    )
    if page is None:
        raise PageNotFound()
    return page


def footer_policies() -> list[tuple[str, str]]:
    """(slug, title) of every published policy page, for the footer."""
    rows = db.session.execute(
        _ordered(
            select(ContentPage.slug, ContentPage.title).where(
                ContentPage.kind == PageKind.POLICY, ContentPage.published.is_(True)
            )
        )
    )
    return [(slug, title) for slug, title in rows]


# --- staff ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageInput:
    slug: str
    title: str
    body: str
    kind: PageKind | str
    published: bool
    position: int = 0


def _require(actor_id: int) -> None:
    if not has_permission(load_actor(actor_id), PERMISSION):
        raise Forbidden(gettext("You may not edit pages."))


def list_pages(*, actor_id: int) -> list[ContentPage]:
    _require(actor_id)
    return list(
        db.session.scalars(
            select(ContentPage).order_by(
                ContentPage.kind, ContentPage.position, ContentPage.title, ContentPage.id
            )
        )
    )


def get_page(page_id: int, *, actor_id: int) -> ContentPage:
    """Any page, published or not, for its editor. Raises Forbidden, PageNotFound."""
    _require(actor_id)
    page = db.session.get(ContentPage, page_id)
    if page is None:
        raise PageNotFound()
    return page


def _checked(data: PageInput) -> dict:
    slug = (data.slug or "").strip().lower()
    if not SLUG.match(slug) or len(slug) > 80:
        raise InvalidInput(
            gettext("Use lower-case letters, digits and single hyphens, e.g. cancellation-policy."),
            field="slug",
        )
    title = (data.title or "").strip()
    if not title:
        raise InvalidInput(gettext("A title is required."), field="title")
    if len(title) > 200:
        raise InvalidInput(gettext("At most 200 characters."), field="title")
    body = (data.body or "").replace("\r\n", "\n")
    if len(body) > MAX_PAGE_BODY:
        raise InvalidInput(
            gettext("At most %(limit)s characters.", limit=format_number(MAX_PAGE_BODY)),
            field="body",
        )
    kind = parse_choice(
        PageKind, data.kind, lazy_gettext("A page is a FAQ entry or a policy."), field="kind"
    )
    return {
        "slug": slug,
        "title": title,
        "body": body,
        "kind": kind,
        "published": bool(data.published),
        "position": int(data.position or 0),
    }


def _slug_free(slug: str, page_id: int | None) -> None:
    other = db.session.scalar(select(ContentPage.id).where(ContentPage.slug == slug))
    if other is not None and other != page_id:
        raise SlugTaken(field="slug")


@use_case
def create_page(data: PageInput, *, actor_id: int, now: datetime) -> ContentPage:
    """Raises Forbidden, InvalidInput, SlugTaken."""
    _require(actor_id)
    values = _checked(data)
    _slug_free(values["slug"], None)
    page = ContentPage(**values, created_at=now, updated_at=now, updated_by_id=actor_id)
    db.session.add(page)
    db.session.flush()
    audit.record(
        "content.page_created",
        actor_id=actor_id,
        target_type="content_page",
        target_id=page.id,
        data={"slug": page.slug, "kind": page.kind.value, "published": page.published},
    )
    return page


@use_case
def update_page(page_id: int, data: PageInput, *, actor_id: int, now: datetime) -> ContentPage:
    """Raises Forbidden, PageNotFound, InvalidInput, SlugTaken."""
    _require(actor_id)
    page = db.session.scalar(select(ContentPage).where(ContentPage.id == page_id).with_for_update())
    if page is None:
        raise PageNotFound()
    values = _checked(data)
    _slug_free(values["slug"], page.id)
    changed = sorted(k for k, v in values.items() if getattr(page, k) != v)
    if not changed:
        return page
    before = {"slug": page.slug, "published": page.published}
    for key, value in values.items():
        setattr(page, key, value)
    page.updated_at = now
    page.updated_by_id = actor_id
    audit.record(
        "content.page_updated",
        actor_id=actor_id,
        target_type="content_page",
        target_id=page.id,
        data={
            "slug": page.slug,
            "changed": changed,
            **({"slug_was": before["slug"]} if before["slug"] != page.slug else {}),
            **({"published": page.published} if "published" in changed else {}),
        },
    )
    return page


def ensure_default_pages(*, now: datetime) -> int:
    """Add the default help and policy pages that are missing (by slug); returns how many.
    In the caller's transaction (the demo seed commits)."""
    existing = set(db.session.scalars(select(ContentPage.slug)))
    added = 0
    for slug, kind, title, position, body in DEFAULT_PAGES:
        if slug in existing:
            continue
        db.session.add(
            ContentPage(
                slug=slug,
                kind=PageKind(kind),
                title=title,
                position=position,
                body=body,
                published=True,
                created_at=now,
                updated_at=now,
            )
        )
        added += 1
    return added
