"""Builds the default templates (config/templates/*.docx) with python-docx.

Run `scripts/build-templates` to regenerate them. An office may instead edit the DOCX in
Word or LibreOffice: the Jinja tags ({{ … }}, {%p … %}, {%tr … %}) are docxtpl's; keep each
tag inside one run of text. Layout follows ND 30/2020/NĐ-CP Phụ lục I (DOMAIN-2 §1): A4,
margins 20/20/30/15 mm, Times New Roman, Quốc hiệu 13 bold, Tiêu ngữ 14 bold, issuing body
13 bold, body 14, "Nơi nhận:" 12 bold italic with the list at 11, page numbers centred in
the top margin from page 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
Where = DocumentObject | _Cell
LEFT, CENTER, RIGHT, JUSTIFY = (
    WD_ALIGN_PARAGRAPH.LEFT,
    WD_ALIGN_PARAGRAPH.CENTER,
    WD_ALIGN_PARAGRAPH.RIGHT,
    WD_ALIGN_PARAGRAPH.JUSTIFY,
)


def _document(*, landscape: bool = False) -> DocumentObject:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin = section.bottom_margin = Mm(15)
        section.left_margin = section.right_margin = Mm(20)
    else:
        section.top_margin, section.bottom_margin = Mm(20), Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(6), 1.0
    for name in ("Table Grid",):
        doc.styles[name].font.name = FONT
    if not landscape:
        _page_numbers(doc)
    return doc


def _page_numbers(doc: DocumentObject) -> None:
    """Arabic page number centred in the top margin; none on the first page (ND 30)."""
    section = doc.sections[0]
    section.different_first_page_header_footer = True
    para = section.header.paragraphs[0]
    para.alignment = CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "26")  # half-points: 13 pt
    props.append(size)
    run.append(props)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    para._p.append(field)


def para(
    where: Where,
    text: str = "",
    *,
    size: float = 14,
    bold: bool = False,
    italic: bool = False,
    align: object = JUSTIFY,
    color: RGBColor | None = None,
    indent: bool = False,
    after: float = 6,
    before: float = 0,
    page_break_before: bool = False,
    lead: str = "",
) -> Paragraph:
    """One paragraph in a single run, so a Jinja tag is never split."""
    p = where.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after, fmt.space_before = Pt(after), Pt(before)
    if indent:
        fmt.first_line_indent = Cm(1.27)
    if page_break_before:
        fmt.page_break_before = True
    if lead:
        first = p.add_run(lead)
        first.font.size, first.font.bold = Pt(size), True
    if text:
        run = p.add_run(text)
        run.font.size, run.font.bold, run.font.italic = Pt(size), bold, italic
        if color is not None:
            run.font.color.rgb = color
    return p


def tag(where: Where, text: str) -> None:
    """A docxtpl paragraph tag ({%p … %}): the whole paragraph is replaced by the tag."""
    para(where, text, size=1, after=0)


def rule(where: Where, width_cm: float, box_cm: float) -> None:
    """A solid line of `width_cm`, centred in a box `box_cm` wide (under Tiêu ngữ, body)."""
    p = para(where, after=4)
    side = Cm(max(0.0, (box_cm - width_cm) / 2))
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = side
    p.paragraph_format.line_spacing = Pt(7)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    p._p.get_or_add_pPr().append(borders)


def _no_borders(table: Table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _widths(table: Table, widths_cm: list[float]) -> None:
    """Column widths in the grid (what LibreOffice reads) and in every cell (Word)."""
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        col.set(qn("w:w"), str(int(Cm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _clear(cell: _Cell) -> None:
    """Drop the empty paragraph python-docx puts in every new cell (we add our own)."""
    for p in list(cell.paragraphs):
        p._p.getparent().remove(p._p)


def layout_table(where: DocumentObject, widths_cm: list[float]) -> list[_Cell]:
    """A borderless table of one row used to place blocks side by side."""
    table = where.add_table(rows=1, cols=len(widths_cm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _no_borders(table)
    _widths(table, widths_cm)
    cells = list(table.rows[0].cells)
    for cell in cells:
        _clear(cell)
    return cells


def header_block(doc: DocumentObject, *, number_prefix: str, with_number: bool = True) -> None:
    """Boxes 1–4: issuing body and số on the left, Quốc hiệu, Tiêu ngữ and date on the right."""
    # Bodies and Quốc hiệu at 12 pt, the low end of ND 30's 12–13, so that a body's name such
    # as "CỤC CƠ YẾU QUÂN ĐỘI" keeps to one line in the left column.
    left, right = layout_table(doc, [6.2, 10.3])
    para(left, "{{ parent_body }}", size=12, align=CENTER, after=0)
    para(left, "{{ issuer }}", size=12, bold=True, align=CENTER, after=0)
    rule(left, 2.2, 6.2)
    if with_number:
        para(left, number_prefix, size=13, align=CENTER, after=0)
    para(right, QUOC_HIEU, size=12, bold=True, align=CENTER, after=0)
    para(right, TIEU_NGU, size=13, bold=True, align=CENTER, after=0)
    rule(right, 6.0, 10.3)
    para(right, "{{ date_line }}", size=14, italic=True, align=CENTER, after=0)
    para(doc, after=6)


def title_block(doc: DocumentObject, doc_type: str, summary: str) -> None:
    """Box 5a: type name and trích yếu, centred, with a short rule."""
    para(doc, doc_type, size=14, bold=True, align=CENTER, after=0, before=6)
    para(doc, summary, size=14, bold=True, align=CENTER, after=0)
    rule(doc, 3.0, 16.5)


def signature_block(doc: DocumentObject, *, recipients: bool = True) -> None:
    """Boxes 7 and 9b: Nơi nhận at the bottom left, signer on the right."""
    para(doc, after=6)
    left, right = layout_table(doc, [7.5, 9.0])
    if recipients:
        para(left, "Nơi nhận:", size=12, bold=True, italic=True, align=LEFT, after=0)
        tag(left, "{%p for r in recipients %}")
        para(left, "{{ r }}", size=11, align=LEFT, after=0)
        tag(left, "{%p endfor %}")
    else:
        para(left)
    para(right, "{{ signer_prefix }}", size=14, bold=True, align=CENTER, after=0)
    para(right, "{{ signer_title }}", size=14, bold=True, align=CENTER, after=0)
    para(right, after=60)  # room for the signature and the seal
    para(right, "{{ signer_name }}", size=14, bold=True, align=CENTER, after=0)


def grid(doc: DocumentObject, headers: list[str], cells: list[str], widths_cm: list[float],
         loop: str, total: list[str] | None = None, size: float = 12,
         money_last: bool = False, parts: str | None = None) -> None:  # fmt: skip
    """A bordered table: header row (repeated on every page), one templated row repeated by
    `loop`, optional total.

    With `parts` (a context list of row lists), the table is repeated once per part, its
    rows looped over `part` and the total only under the last part: LibreOffice lays out one
    table of thousands of rows in time quadratic in its length, several tables of a few
    hundred rows in linear time (5,000 lines: 154 s as one table)."""
    if parts is not None:
        tag(doc, f"{{%p for part in {parts} %}}")
        loop = "part"
    rows = 4 + ((1 if parts is None else 3) if total else 0)  # total: its row, or {%tr if %}…
    table = doc.add_table(rows=rows, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False

    def fill(row: int, texts: list[str], *, bold: bool = False, align: object = CENTER) -> None:
        for i, text in enumerate(texts):
            cell = table.rows[row].cells[i]
            _clear(cell)
            para(cell, text, size=size, bold=bold, align=align, after=0)

    def blank(text: str) -> list[str]:
        return [text] + [""] * (len(headers) - 1)

    _widths(table, widths_cm)
    fill(0, headers, bold=True)
    fill(1, blank(f"{{%tr for x in {loop} %}}"))
    fill(2, cells, align=LEFT)
    keep = OxmlElement("w:cantSplit")  # a repeated row never breaks across pages
    keep.set(qn("w:val"), "true")
    table.rows[2]._tr.get_or_add_trPr().append(keep)
    table.rows[2].cells[0].paragraphs[0].alignment = CENTER  # STT
    table.rows[2].cells[-1].paragraphs[0].alignment = RIGHT if money_last else CENTER
    fill(3, blank("{%tr endfor %}"))
    if total:
        at = 4 if parts is None else 5
        if parts is not None:
            fill(4, blank("{%tr if loop.last %}"))
            fill(6, blank("{%tr endif %}"))
        fill(at, total, bold=True, align=RIGHT)
        table.rows[at].cells[1].paragraphs[0].alignment = LEFT
    _repeat_header(table)
    if parts is not None:
        gap = para(doc, after=0)  # two tables need a paragraph between them: 1 pt high
        gap.paragraph_format.line_spacing = Pt(1)
        gap.add_run().font.size = Pt(1)
        tag(doc, "{%p endfor %}")


def _repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def page_break(doc: DocumentObject) -> None:
    """A page break in a tiny paragraph (used between repeated pages)."""
    p = para(doc, after=0)
    run = p.add_run()
    run.font.size = Pt(1)
    run.add_break(WD_BREAK.PAGE)


# --------------------------------------------------------------------------- the lists


def award_list(doc: DocumentObject, *, title: str, cites: str, page_break_before: bool) -> None:
    """The danh sách kèm theo: individuals and collectives, each with its subtotal."""
    para(doc, "DANH SÁCH", bold=True, align=CENTER, after=0, page_break_before=page_break_before)
    para(doc, title, bold=True, align=CENTER, after=0)
    para(doc, cites, italic=True, align=CENTER, after=0)
    rule(doc, 3.0, 16.5)
    widths = [1.3, 4.3, 4.9, 3.2, 2.8]
    tag(doc, "{%p if individuals %}")
    para(doc, "{{ individual_heading }}. CÁ NHÂN", bold=True, align=LEFT, before=6)
    grid(doc, ["STT", "Họ và tên", "Chức vụ, đơn vị công tác", "Hình thức khen thưởng",
               "Số tiền (đồng)"],
         ["{{ x.no }}", "{{ x.name }}", "{{ x.position_unit }}", "{{ x.award }}", "{{ x.money }}"],
         widths, "individuals", total=["", "Cộng", "", "", "{{ individual_money }}"],
         money_last=True, parts="individual_parts")  # fmt: skip
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if collectives %}")
    para(doc, "{{ collective_heading }}. TẬP THỂ", bold=True, align=LEFT, before=6)
    grid(doc, ["STT", "Tên tập thể", "Đơn vị cấp trên", "Hình thức khen thưởng",
               "Số tiền (đồng)"],
         ["{{ x.no }}", "{{ x.name }}", "{{ x.position_unit }}", "{{ x.award }}", "{{ x.money }}"],
         widths, "collectives", total=["", "Cộng", "", "", "{{ collective_money }}"],
         money_last=True, parts="collective_parts")  # fmt: skip
    tag(doc, "{%p endif %}")
    para(
        doc,
        "Tổng cộng: {{ counts_text }}; tổng số tiền thưởng: {{ total_money }} đồng.",
        bold=True,
        before=6,
    )


# --------------------------------------------------------------------------- the kinds


def quyet_dinh(*, with_body: bool = True) -> DocumentObject:
    """Quyết định khen thưởng (ND 30 Mẫu 1.2) with its danh sách kèm theo on its own pages."""
    doc = _document()
    if with_body:
        header_block(doc, number_prefix="Số: {{ number }}")
        title_block(doc, "QUYẾT ĐỊNH", "{{ summary }}")
        para(doc, "{{ authority_title }}", bold=True, align=CENTER, before=6)
        tag(doc, "{%p for basis in legal_bases %}")
        para(doc, "{{ basis }};", italic=True, indent=True)
        tag(doc, "{%p endfor %}")
        para(doc, "{{ proposal_line }},", italic=True, indent=True)
        para(doc, "QUYẾT ĐỊNH:", bold=True, align=CENTER, before=6)
        for lead, text in (
            (
                "Điều 1. ",
                "{{ article_1 }}",
            ),
            (
                "Điều 2. ",
                "Kèm theo {{ award_phrase }}, {{ reward_each }} được thưởng mức tiền theo "
                "quy định của pháp luật về thi đua, khen thưởng; tổng số tiền thưởng là "
                "{{ total_money }} đồng ({{ money_source }}).",
            ),
            (
                "Điều 3. ",
                "Quyết định này có hiệu lực kể từ ngày ký. {{ executors }} và các cá nhân, "
                "tập thể có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này.",
            ),
        ):
            para(doc, text, indent=True, lead=lead)
        signature_block(doc)
    award_list(
        doc,
        title="{{ list_title }}",
        cites="(Kèm theo Quyết định số {{ number }} ngày {{ decided_short }} của {{ authority_name }})",
        page_break_before=with_body,
    )
    return doc


def to_trinh() -> DocumentObject:
    """Tờ trình đề nghị khen thưởng (ND 98/2023 Phụ lục I, Mẫu số 01) with its danh sách."""
    doc = _document()
    header_block(doc, number_prefix="Số: {{ number }}")
    title_block(doc, "TỜ TRÌNH", "{{ summary }}")
    para(doc, "Kính gửi: {{ receiver }}.", align=CENTER, before=6)
    tag(doc, "{%p for basis in legal_bases %}")
    para(doc, "Căn cứ {{ basis }};", indent=True)
    tag(doc, "{%p endfor %}")
    for text in (
        "Căn cứ kết quả bình xét của Hội đồng Thi đua – Khen thưởng {{ proposer_name }}, "
        "{{ proposer_name }} đề nghị {{ receiver }} xem xét, tặng {{ awards_text }} cho "
        "{{ counts_text }} (có danh sách kèm theo) về thành tích trong công tác năm {{ year }}.",
        "Loại hình khen thưởng: {{ commendation_type }}.",
        "{{ proposer_name }} kính trình {{ receiver }} xem xét, quyết định./.",
    ):
        para(doc, text, indent=True)
    signature_block(doc)
    award_list(
        doc,
        title="ĐỀ NGHỊ TẶNG {{ awards_text_upper }}",
        cites="(Kèm theo Tờ trình số {{ number }} {{ dated }} của {{ proposer_name }})",
        page_break_before=True,
    )
    return doc


def bien_ban() -> DocumentObject:
    """Biên bản họp Hội đồng TĐKT (ND 30 Mẫu 1.9) of a closed session."""
    doc = _document()
    header_block(doc, number_prefix="Số: {{ number }}")
    title_block(doc, "BIÊN BẢN", "{{ summary }}")
    for text in (
        "Nội dung: {{ title }}.",
        "Thời gian: {{ held_long }}.",
        "Thành phần: tổng số {{ members_total }} thành viên Hội đồng; có mặt {{ present }}; "
        "vắng {{ absent }} (gửi ý kiến bằng văn bản: {{ written }}).",
    ):
        para(doc, text, indent=True)
    para(doc, "I. THÀNH VIÊN HỘI ĐỒNG", bold=True, align=LEFT, before=6)
    grid(doc, ["STT", "Họ và tên", "Chức vụ", "Tham dự"],
         ["{{ x.no }}", "{{ x.name }}", "{{ x.position }}", "{{ x.attendance }}"],
         [1.2, 5.8, 5.5, 4.0], "members")  # fmt: skip
    para(doc, "Số thành viên có mặt: {{ present }}/{{ members_total }}. {{ quorum_text }}",
         indent=True, before=6)  # fmt: skip
    para(doc, "II. KẾT QUẢ BỎ PHIẾU KÍN", bold=True, align=LEFT, before=6)
    grid(doc, ["STT", "Người, tập thể được đề nghị", "Hình thức", "Đồng ý", "Không đồng ý",
               "Không ý kiến", "Kết quả"],
         ["{{ x.no }}", "{{ x.name }}", "{{ x.award }}", "{{ x.agree }}", "{{ x.disagree }}",
          "{{ x.abstain }}", "{{ x.result }}"],
         [1.3, 4.3, 3.2, 1.7, 1.9, 1.9, 2.2], "items", size=11)  # fmt: skip
    para(doc, "III. KẾT LUẬN", bold=True, align=LEFT, before=6)
    tag(doc, "{%p for x in items %}")
    para(doc, "{{ x.no }}. {{ x.name }}{% if x.award %} – {{ x.award }}{% endif %}: "
              "{{ x.explanation }}{{ x.recusal }}", indent=True)  # fmt: skip
    tag(doc, "{%p endfor %}")
    para(doc, "Phiên họp kết thúc {{ closed_line }}; biên bản được thông qua tại phiên họp.",
         indent=True)  # fmt: skip
    left, right = layout_table(doc, [8.25, 8.25])
    for cell, role, who in ((left, "THƯ KÝ", "secretary"), (right, "CHỦ TỌA", "chair")):
        para(cell, role, bold=True, align=CENTER, after=0, before=12)
        para(cell, "(Ký, ghi rõ họ tên)", italic=True, align=CENTER, after=48)
        para(cell, "{{ " + who + " }}", bold=True, align=CENTER, after=0)
    return doc


def ke_hoach() -> DocumentObject:
    """Kế hoạch kiểm tra chéo of a bloc's year (ND 30 Mẫu 1.4, ký hiệu KH)."""
    doc = _document()
    header_block(doc, number_prefix="Số: {{ number }}")
    title_block(doc, "KẾ HOẠCH", "{{ summary }}")
    para(doc, "I. MỤC ĐÍCH, YÊU CẦU", bold=True, align=LEFT, before=6)
    para(doc, "Đánh giá kết quả thực hiện phong trào thi đua năm {{ year }} của các đơn vị "
              "thành viên {{ bloc_name }}; làm căn cứ chấm điểm, bình xét và suy tôn.",
         indent=True)  # fmt: skip
    para(doc, "II. THỜI GIAN VÀ LỊCH KIỂM TRA", bold=True, align=LEFT, before=6)
    para(doc, "Thời gian kiểm tra: từ {{ period_start }} đến {{ period_end }}; "
              "{{ visit_count }} cuộc kiểm tra theo lịch sau:", indent=True)  # fmt: skip
    grid(doc, ["STT", "Đơn vị kiểm tra", "Đơn vị được kiểm tra", "Từ ngày", "Đến ngày",
               "Hạn báo cáo"],
         ["{{ x.no }}", "{{ x.inspector }}", "{{ x.inspected }}", "{{ x.starts }}",
          "{{ x.ends }}", "{{ x.due }}"],
         [1.3, 4.5, 4.5, 2.1, 2.0, 2.1], "visits", size=11)  # fmt: skip
    para(doc, "III. TỔ CHỨC THỰC HIỆN", bold=True, align=LEFT, before=6)
    para(doc, "Đơn vị kiểm tra gửi báo cáo kết quả kiểm tra và điểm chấm trong "
              "{{ report_days }} ngày làm việc sau khi kết thúc kiểm tra. Đơn vị Trưởng khối "
              "({{ leader_name }}) tổng hợp kết quả./.", indent=True)  # fmt: skip
    signature_block(doc)
    return doc


def bang_khen() -> DocumentObject:
    """Bằng khen / Giấy khen: one landscape page per awardee (DOMAIN-2 §2.4)."""
    doc = _document(landscape=True)
    borders = OxmlElement("w:pgBorders")
    borders.set(qn("w:offsetFrom"), "page")
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        for k, v in (("w:val", "double"), ("w:sz", "24"), ("w:space", "24"),
                     ("w:color", "C00000")):  # fmt: skip
            el.set(qn(k), v)
        borders.append(el)
    doc.sections[0]._sectPr.append(borders)
    tag(doc, "{%p for c in certificates %}")
    para(doc, QUOC_HIEU, size=14, bold=True, align=CENTER, after=0)
    para(doc, TIEU_NGU, size=14, bold=True, align=CENTER, after=0)
    rule(doc, 6.3, 25.7)
    para(doc, "{{ issuer_title }}", size=20, bold=True, align=CENTER, color=RED, before=24)
    para(doc, "TẶNG", size=16, bold=True, align=CENTER, after=0)
    para(doc, "{{ c.heading }}", size=40, bold=True, align=CENTER, color=RED, after=4)
    para(doc, "{{ c.name }}", size=24, bold=True, align=CENTER, after=2)
    para(doc, "{{ c.position_unit }}", size=16, align=CENTER, after=6)
    para(doc, "{{ c.achievement }}", size=16, italic=True, align=CENTER, after=36)
    left, right = layout_table(doc, [12.8, 12.9])
    para(left, "Quyết định số: {{ number }} ngày {{ decided_short }}", size=13, align=LEFT,
         after=0, before=10)  # fmt: skip
    para(left, "Số sổ vàng: {{ c.book_no }}", size=13, align=LEFT, after=0)
    para(right, "{{ date_line }}", size=14, italic=True, align=CENTER, after=0)
    para(right, "{{ signer_title }}", size=14, bold=True, align=CENTER, after=60)
    para(right, "{{ signer_name }}", size=14, bold=True, align=CENTER, after=0)
    tag(doc, "{%p if not loop.last %}")
    page_break(doc)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    return doc


def bao_cao_khoi() -> DocumentObject:
    """Báo cáo sơ kết / tổng kết of a bloc's year (ND 30 Mẫu 1.4, ký hiệu BC): members,
    targets, values, scores and how they were computed, ranking and the proposals."""
    doc = _document(landscape=True)
    header_block(doc, number_prefix="Số: {{ number }}")
    title_block(doc, "BÁO CÁO", "{{ summary }}")
    para(doc, "I. GIAO ƯỚC THI ĐUA", bold=True, align=LEFT, before=6)
    para(doc, "Chủ đề: “{{ theme }}”; phát động ngày {{ launched }}; "
              "{{ signed_count }}/{{ member_count }} đơn vị đã ký giao ước.", indent=True)  # fmt: skip
    grid(doc, ["STT", "Mã", "Chỉ tiêu", "Điều kiện", "Điểm", "Hệ số"],
         ["{{ x.no }}", "{{ x.code }}", "{{ x.description }}", "{{ x.condition }}",
          "{{ x.points }}", "{{ x.weight }}"],
         [1.3, 3.0, 10.0, 5.0, 2.0, 2.0], "targets", size=11)  # fmt: skip
    para(doc, "II. KẾT QUẢ CHẤM ĐIỂM VÀ XẾP HẠNG", bold=True, align=LEFT, before=6)
    para(doc, "{{ rule_text }}", indent=True)
    grid(doc, ["Hạng", "Đơn vị", "Giá trị báo cáo", "Cách tính", "Điểm"],
         ["{{ x.rank }}", "{{ x.name }}", "{{ x.values }}", "{{ x.how }}", "{{ x.total }}"],
         [1.3, 5.5, 5.5, 9.0, 2.0], "rows", size=10)  # fmt: skip
    tag(doc, "{%p if proposals %}")
    para(doc, "III. KẾT QUẢ SUY TÔN VÀ ĐỀ NGHỊ KHEN THƯỞNG", bold=True, align=LEFT, before=6)
    grid(doc, ["Hạng", "Đơn vị", "Điểm", "Phiếu", "Đề nghị"],
         ["{{ x.rank }}", "{{ x.name }}", "{{ x.score }}", "{{ x.votes }}", "{{ x.award }}"],
         [1.3, 9.0, 2.0, 2.5, 8.5], "proposals", size=11)  # fmt: skip
    tag(doc, "{%p endif %}")
    signature_block(doc)
    return doc


BUILDERS: dict[str, Callable[[], DocumentObject]] = {
    "bao-cao-so-ket": bao_cao_khoi,
    "bao-cao-tong-ket": bao_cao_khoi,
    "quyet-dinh": quyet_dinh,
    "danh-sach": lambda: quyet_dinh(with_body=False),
    "bang-khen": bang_khen,
    "bien-ban": bien_ban,
    "to-trinh": to_trinh,
    "ke-hoach-kiem-tra": ke_hoach,
}


def build_all(folder: Path) -> list[Path]:
    """Write every default template into `folder`; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, build in BUILDERS.items():
        path = folder / f"{kind}.docx"
        build().save(str(path))
        written.append(path)
    return written
