"""The project's error tree: every refusal a user can cause is one of these."""

from __future__ import annotations

from dataclasses import dataclass, field


class KhenthuongError(Exception):
    """Base of every error khenthuong raises on purpose. Its message (`str`) is Vietnamese,
    never two languages in one; `en` is the same message in English when it has one, for
    the English pages (`khenthuong.web.ui_common.refusal_text`)."""

    def __init__(self, *args: object, en: str | None = None) -> None:
        super().__init__(*args)
        self.en = en


@dataclass(frozen=True)
class Problem:
    """One problem found in a definition or a config file, located by file and line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class InvalidDefinition(KhenthuongError):
    """A workflow definition or config file is malformed; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NotFound(KhenthuongError):
    """A referenced object (nomination, user, unit, workflow) does not exist."""


class Forbidden(KhenthuongError):
    """The actor's roles or unit scope do not allow this."""


@dataclass
class Refusal:
    """Why one step was refused: a machine code plus Vietnamese and English text."""

    code: str
    message_vi: str
    message_en: str
    details: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message_vi


class StepRefused(KhenthuongError):
    """A step was refused; nothing was written. Carries one or more refusals."""

    def __init__(self, refusals: list[Refusal], nomination_id: int | None = None) -> None:
        self.refusals = refusals
        self.nomination_id = nomination_id
        prefix = f"Hồ sơ #{nomination_id}: " if nomination_id is not None else ""
        prefix_en = f"Nomination #{nomination_id}: " if nomination_id is not None else ""
        super().__init__(
            prefix + "; ".join(r.message_vi for r in refusals),
            en=prefix_en + "; ".join(r.message_en for r in refusals),
        )


class VersionConflict(KhenthuongError):
    """Someone else changed the nomination first; the caller must reload and retry."""

    def __init__(self, nomination_id: int, current_state: str, current_version: int) -> None:
        self.nomination_id = nomination_id
        self.current_state = current_state
        self.current_version = current_version
        super().__init__(
            f"Hồ sơ #{nomination_id} vừa được người khác xử lý; trạng thái hiện tại: "
            f"{current_state} (phiên bản {current_version}).",
            en=f"Nomination #{nomination_id} was changed concurrently; it is now in "
            f"state {current_state!r}, version {current_version}.",
        )


class BatchRefused(KhenthuongError):
    """A batch step was refused as a whole; maps nomination ids to their refusals."""

    def __init__(self, failures: dict[int, list[Refusal]]) -> None:
        self.failures = failures
        lines = [
            f"#{nid}: " + "; ".join(r.message_vi for r in refs) for nid, refs in failures.items()
        ]
        lines_en = [
            f"#{nid}: " + "; ".join(r.message_en for r in refs) for nid, refs in failures.items()
        ]
        super().__init__(
            f"{len(failures)} hồ sơ không thể xử lý, không có thay đổi nào được lưu:\n"
            + "\n".join(lines),
            en=f"{len(failures)} nominations could not be processed; nothing was saved:\n"
            + "\n".join(lines_en),
        )
