"""Help and policy pages: staff with content.manage write Markdown; the public reads it
sanitised at /help and /policies/<slug>; drafts are a 404; the footer links the policies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, ContentPage, PageKind
from app.services import content
from app.services.content_defaults import DEFAULT_PAGES
from app.services.errors import Forbidden
from tests.integration.admin.conftest import TOTP_SECRET, make_admin, make_helper, sign_in

HOSTILE = """## Visiting hours

<script>alert('script')</script>
<img src="x.png" onerror="alert('img')">
<a href="javascript:alert('link')">click</a> and [also](javascript:alert('md')) and
<a href="JaVaScRiPt:alert('case')">this</a> and <iframe src="https://evil.example"></iframe>
<p onclick="alert('click')" style="color:red">Open **daily**, see [booking](/doctors).</p>

Open **daily**, see [booking](/doctors).
"""


def _page(**fields) -> ContentPage:
    values = {
        "slug": "visiting",
        "title": "Visiting hours",
        "body": "Open daily.",
        "kind": PageKind.POLICY,
        "published": True,
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    values.update(fields)
    page = ContentPage(**values)
    db.session.add(page)
    db.session.commit()
    return page


def test_markdown_with_a_script_tag_renders_none_of_it(ctx):
    html = str(content.render_markdown(HOSTILE))
    assert "<script" not in html and "alert(" not in html
    assert "onerror" not in html and "onclick" not in html and "style=" not in html
    assert "javascript:" not in html.lower() and "<iframe" not in html and "<img" not in html
    assert "<h2>Visiting hours</h2>" in html
    assert "<strong>daily</strong>" in html
    assert '<a href="/doctors" rel="noopener noreferrer nofollow">booking</a>' in html


def test_staff_write_a_policy_and_the_public_sees_it_sanitised(client, ctx):
    admin = make_admin()
    sign_in(client, admin)
    response = client.post(
        "/admin/pages/new",
        data={
            "title": "Visiting hours",
            "slug": "visiting-hours",
            "kind": "policy",
            "position": "5",
            "body": HOSTILE,
            "published": "y",
        },
    )
    assert response.status_code == 302
    client.post("/logout")

    public = client.get("/policies/visiting-hours")

    assert public.status_code == 200
    page = public.get_data(as_text=True)
    assert "<strong>daily</strong>" in page
    assert "alert(" not in page and "onerror" not in page and "javascript:" not in page.lower()
    # The footer of every page links the published policies.
    home = client.get("/").get_data(as_text=True)
    assert 'href="/policies/visiting-hours">Visiting hours</a>' in home
    assert 'href="/help">Help</a>' in home
    created = db.session.scalar(select(AuditLog).where(AuditLog.action == "content.page_created"))
    assert created.actor_id == admin.id
    assert created.data == {"slug": "visiting-hours", "kind": "policy", "published": True}
    saved = db.session.scalar(select(ContentPage).where(ContentPage.slug == "visiting-hours"))
    assert saved.updated_by_id == admin.id and saved.body == HOSTILE


def test_unpublished_pages_are_a_404_to_the_public_but_their_editor_sees_them(client, ctx):
    draft = _page(slug="draft-terms", title="New terms", published=False)
    faq = _page(slug="a-question", title="A question?", kind=PageKind.FAQ)
    assert client.get("/policies/draft-terms").status_code == 404
    assert client.get("/policies/a-question").status_code == 404  # a FAQ entry is not a policy
    assert client.get("/policies/nothing-here").status_code == 404
    assert "draft-terms" not in client.get("/").get_data(as_text=True)
    assert "A question?" in client.get("/help").get_data(as_text=True)

    sign_in(client, make_admin())
    editor = client.get(f"/admin/pages/{draft.id}/edit").get_data(as_text=True)
    assert "New terms" in editor and 'data-testid="page-preview"' in editor

    response = client.post(
        f"/admin/pages/{draft.id}/edit",
        data={"title": "New terms", "slug": "draft-terms", "kind": "policy", "body": "Hello",
              "published": "y"},
    )  # fmt: skip
    assert response.status_code == 302
    assert "Hello" in client.get("/policies/draft-terms").get_data(as_text=True)
    updated = db.session.scalar(select(AuditLog).where(AuditLog.action == "content.page_updated"))
    assert updated.data == {
        "slug": "draft-terms",
        "changed": ["body", "published"],
        "published": True,
    }
    # Unpublishing takes it away again.
    client.post(
        f"/admin/pages/{faq.id}/edit",
        data={"title": "A question?", "slug": "a-question", "kind": "faq", "body": "x"},
    )
    assert 'id="a-question-title"' not in client.get("/help").get_data(as_text=True)


def test_help_lists_published_faq_entries_in_order(client, ctx):
    _page(slug="second", title="Second question", kind=PageKind.FAQ, position=2)
    _page(slug="first", title="First question", kind=PageKind.FAQ, position=1, body="**Yes**.")
    _page(slug="hidden", title="Hidden question", kind=PageKind.FAQ, published=False)
    page = client.get("/help").get_data(as_text=True)
    assert page.count('data-testid="faq-entry"') == 2
    assert page.index("First question") < page.index("Second question")
    assert "<strong>Yes</strong>" in page and "Hidden question" not in page


def test_content_manage_is_required(client, ctx):
    page = _page()
    sign_in(client, make_helper("payments.view", totp_secret=TOTP_SECRET))
    assert client.get("/admin/pages").status_code == 403
    assert client.get("/admin/pages/new").status_code == 403
    assert client.post("/admin/pages/new", data={"title": "x", "slug": "x"}).status_code == 403
    assert client.get(f"/admin/pages/{page.id}/edit").status_code == 403
    assert client.post(f"/admin/pages/{page.id}/edit", data={"title": "x"}).status_code == 403
    with pytest.raises(Forbidden):
        content.update_page(
            page.id,
            content.PageInput("visiting", "Changed", "", "policy", True),
            actor_id=make_helper().id,
            now=datetime.now(UTC),
        )
    client.post("/logout")
    sign_in(client, make_helper("content.manage", totp_secret=TOTP_SECRET))
    assert client.get("/admin/pages").status_code == 200
    assert "Visiting hours" in client.get("/admin/pages").get_data(as_text=True)


def test_form_errors_slug_shape_and_a_taken_slug(client, ctx):
    _page(slug="terms")
    sign_in(client, make_admin())
    base = {"title": "Terms", "kind": "policy", "body": "x"}
    for slug, status, message in [
        ("", 422, "This field is required"),
        ("Not A Slug", 422, "Use lower-case letters, digits and single hyphens"),
        ("a--b", 422, "Use lower-case letters, digits and single hyphens"),
        ("terms", 409, "Another page has this address."),
    ]:
        response = client.post("/admin/pages/new", data={**base, "slug": slug})
        assert response.status_code == status, slug
        assert message in response.get_data(as_text=True), slug
    response = client.post("/admin/pages/new", data={**base, "slug": "x", "kind": "blog"})
    assert response.status_code == 422
    assert db.session.scalar(select(db.func.count(ContentPage.id))) == 1


def test_the_default_policies_come_with_the_demo_seed_once(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    slugs = set(db.session.scalars(select(ContentPage.slug)))
    assert slugs == {slug for slug, *_ in DEFAULT_PAGES}
    assert {"terms", "privacy", "cancellation-policy"} <= slugs
