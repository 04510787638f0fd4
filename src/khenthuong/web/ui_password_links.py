"""The page a one-time set-password link opens (no sign-in): the officer chooses a password,
the link stops working, and they sign in (khenthuong.services.password_links)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from khenthuong.errors import KhenthuongError
from khenthuong.services.golive import demo_password_of, is_production
from khenthuong.services.password_links import link_user, use_link
from khenthuong.storage.db import write_tx
from khenthuong.web.context import ctx_of
from khenthuong.web.i18n import STRINGS, translate
from khenthuong.web.ui_common import lang_of, render

router = APIRouter(include_in_schema=False)
STRINGS.update(
    {
        "set_password": ("Đặt mật khẩu", "Choose your password"),
        "new_password": ("Mật khẩu mới", "New password"),
        "repeat_password": ("Nhập lại mật khẩu", "Repeat the password"),
        "password_mismatch": ("Hai lần nhập mật khẩu không khớp", "The passwords differ"),
        "password_set": (
            "Đã đặt mật khẩu; đăng nhập bằng mật khẩu mới",
            "Your password is set; sign in with it",
        ),
    }
)


def _form(request: Request, token: str, status: int = 200, **values: object) -> Response:
    return render(request, "set_password.html", None, status, token=token, **values)


@router.get("/set-password")
def set_password_form(request: Request, token: str = "") -> Response:
    try:
        with ctx_of(request).rt.engine.connect() as conn:
            username = link_user(conn, token)
    except KhenthuongError as exc:
        return _form(request, "", 404, error=str(exc))
    return _form(request, token, username=username)


@router.post("/set-password")
async def set_password_submit(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await request.form()
    token = str(form.get("token", ""))
    password = str(form.get("password", ""))
    if password != str(form.get("repeat", "")):
        return _form(request, token, 422, error=translate("password_mismatch", lang_of(request)))
    refused: tuple[str, ...] = ()
    if is_production(ctx.rt.settings):
        demo = demo_password_of(ctx.rt.settings.config_dir)[0]
        refused = (demo,) if demo else ()
    try:
        with write_tx(ctx.rt.engine) as conn:
            username = use_link(conn, token, password, refused=refused)
    except KhenthuongError as exc:
        return _form(request, token, 422, error=str(exc))
    return _form(request, "", 200, done=True, username=username)
