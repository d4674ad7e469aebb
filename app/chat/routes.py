from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.signin import now
from app.chat import bp
from app.chat.files import attachment_response, upload_from
from app.chat.forms import MessageForm, StartForm
from app.rbac import login_required
from app.security import takes_upload
from app.services.chat import conversations, messages, threads
from app.services.errors import DomainError
from app.services.links import site_path

ID = "int(max=2147483647)"


def _page(thread=None, form=None, status=200):
    return render_template(
        "chat/index.html",
        conversations=conversations.list_conversations(current_user.id),
        thread=thread,
        form=form or MessageForm(),
    ), status


@bp.get("")
@login_required
def index():
    """The signed-in user's conversations with their unread counts."""
    return _page()


@bp.get(f"/<{ID}:conversation_id>")
@login_required
def thread(conversation_id: int):
    """One conversation (newest page, or older ones with ?before_id=); reading it marks it
    read. Staff holding conversations.audit may open it read-only, and that is audited."""
    opened = threads.open_thread(
        conversation_id=conversation_id,
        viewer_id=current_user.id,
        before_id=request.args.get("before_id", type=int),
        now=now(),
    )
    return _page(opened)


@bp.post("/send")
@takes_upload("CHAT_ATTACHMENT_MAX_BYTES", page="chat.thread")
@login_required
def send():
    """Send the form's text and/or file to ?conversation_id=."""
    conversation_id = request.args.get("conversation_id", type=int)
    if conversation_id is None:
        return redirect(url_for("chat.index"))
    back = redirect(url_for("chat.thread", conversation_id=conversation_id), 303)
    form = MessageForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return back
    try:
        messages.send_message(
            conversation_id=conversation_id,
            sender_id=current_user.id,
            body=form.body.data or "",
            upload=upload_from(form.file.data),
            now=now(),
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
    return back


@bp.post("/start")
@login_required
def start():
    """A "Message" button: the conversation with that doctor (or patient), opened."""
    form = StartForm()
    back = site_path(form.next.data) or url_for("chat.index")
    if not form.validate_on_submit():
        return redirect(back, 303)
    try:
        conversation, _ = conversations.open_conversation(
            actor_id=current_user.id,
            doctor_id=form.doctor_id.data,
            patient_id=form.patient_id.data,
            now=now(),
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back, 303)
    return redirect(url_for("chat.thread", conversation_id=conversation.id), 303)


@bp.get(f"/<{ID}:conversation_id>/files/<{ID}:message_id>")
@login_required
def attachment(conversation_id: int, message_id: int):
    """A message's file, saved by the browser rather than shown."""
    return attachment_response(conversation_id, message_id, current_user.id)


@bp.get("/unread-count")
@login_required
def unread_count():
    """The badge's poll (static/js/messages.js); it does not count as activity (app/auth)."""
    return jsonify(unread=conversations.unread_total(current_user.id))
