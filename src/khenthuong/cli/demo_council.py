"""The demo's council members: plausible names and offices, so the minutes it prints read like
a real session's (the chair and the secretary sign them by name)."""

from __future__ import annotations

from khenthuong.services.councils import MemberIn

OFFICES = ("Chủ tịch Hội đồng", "Phó Chủ tịch Hội đồng", "Ủy viên thường trực, Thư ký")
"""The first members' offices; the others are Ủy viên."""

NAMES = (
    "Trần Văn Hùng", "Nguyễn Đức Thắng", "Lê Thị Thu", "Phan Văn Tâm", "Đỗ Minh Châu",
    "Vương Thị Ngọc", "Hà Quốc Bảo", "Tạ Văn Cường", "Lương Thị Diệu", "Mai Xuân Đông",
    "Kiều Văn Giang", "Chu Thị Hằng", "Quách Văn Hiếu", "Lại Thị Kim", "Tô Văn Lộc",
    "Đàm Thị Minh", "Khổng Văn Nghĩa", "Âu Thị Phương", "Văn Đình Quân", "Thái Thị Sương",
)  # fmt: skip


def demo_council(
    size: int, *, absent: int = 0, chair: str = "", secretary: str = ""
) -> list[MemberIn]:
    """`size` members (at most 20), the last `absent` of them away from the session; `chair`
    and `secretary` (the demo's head and council secretary, by full name) take the first
    and the third seat."""
    names = list(NAMES[:size])
    for seat, name in ((0, chair), (2, secretary)):
        if name.strip() and seat < size:
            names = [n for n in names if n != name]
            names.insert(seat, name)
            names = names[:size]
    return [
        MemberIn(
            name,
            present=i < size - absent,
            position=OFFICES[i] if i < len(OFFICES) else "Ủy viên",
        )
        for i, name in enumerate(names)
    ]
