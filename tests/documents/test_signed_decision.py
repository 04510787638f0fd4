"""Signed decisions: sign the decision PDF through the CLI, keep it, verify it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from khenthuong.settings import get_settings
from khenthuong.storage.documents import GENERATED_FILES
from khenthuong.storage.models import EVENTS
from tests.documents.pki import make_ca, signer_p12
from tests.documents.test_render_decision import NUMBER, decided, needs_soffice

runner = CliRunner()
PASS = "mat-khau-thu"


@needs_soffice
def test_signed_decision_verifies_and_tampering_or_strangers_fail(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The minister signs 45/QĐ-BCY: the file is stored with its hash on the decision's
    stream and verifies; one changed byte, or another CA's signer, fails with a reason."""
    decided(rt)
    ca, stranger = make_ca("CA Ban Cơ yếu (thử)"), make_ca("CA lạ")
    (tmp_path / "roots.pem").write_bytes(ca.pem)
    monkeypatch.setenv("KHENTHUONG_TRUST_ROOTS", str(tmp_path / "roots.pem"))
    get_settings.cache_clear()
    for name, authority in (("tb.p12", ca), ("la.p12", stranger)):
        (tmp_path / name).write_bytes(signer_p12(authority, "Ngô Văn Thành", PASS.encode()))
    signed = tmp_path / "qd-da-ky.pdf"
    sign = ["documents", "sign", NUMBER, "--p12", str(tmp_path / "tb.p12"), "-o", str(signed),
            "--as", "tb.bcy", "--passphrase-stdin"]  # fmt: skip
    result = runner.invoke(app, sign, input=PASS + "\n")
    assert result.exit_code == 0, result.output
    with rt.engine.connect() as conn:
        row = conn.execute(select(GENERATED_FILES).where(GENERATED_FILES.c.signed)).one()
        event = conn.execute(
            select(EVENTS.c.payload).where(
                EVENTS.c.stream.like("decision:%"), EVENTS.c.trigger == "sign_document"
            )
        ).scalar_one()
    assert row.content == signed.read_bytes() and json.loads(event)["sha256"] == row.sha256
    ok = runner.invoke(app, ["documents", "verify", str(signed)])
    assert ok.exit_code == 0 and "Hợp lệ" in ok.output and "Ngô Văn Thành" in ok.output

    data = signed.read_bytes()
    at = data.index(b"/MediaBox")
    (tmp_path / "sua.pdf").write_bytes(data[:at] + b"/MediaBoy" + data[at + 9 :])
    bad = runner.invoke(app, ["documents", "verify", str(tmp_path / "sua.pdf")])
    assert bad.exit_code == 1 and "bị thay đổi" in bad.output

    refused = runner.invoke(
        app, [*sign[:4], str(tmp_path / "la.p12"), *sign[5:]], input=PASS + "\n"
    )
    assert refused.exit_code == 0, refused.output  # signing works; verification refuses it
    strange = runner.invoke(app, ["documents", "verify", str(signed)])
    assert strange.exit_code == 1 and "không thuộc chuỗi tin cậy" in strange.output
    not_minister = runner.invoke(app, [*sign[:-2], "cv.bcy", "--passphrase-stdin"],
                                 input=PASS + "\n")  # fmt: skip
    told = " ".join(not_minister.output.split())
    assert not_minister.exit_code == 1 and "cần vai trò Bộ trưởng, Thủ trưởng cơ quan" in told
