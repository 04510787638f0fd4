"""Vietnamese help of the commands whose docstrings are in English, by command path;
`cli.common.readable_help` shows it first, with the English in parentheses. A command whose
docstring is already Vietnamese is not listed; a new command is shown as written."""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    "serve": "Chạy máy chủ web và API; không có KHENTHUONG_BROKER_URL thì chạy cả nhắc hạn, thông báo",
    "init": "Tạo hoặc nâng cấp cơ sở dữ liệu, đăng ký các quy trình; --demo thêm dữ liệu mẫu",
    "backup": "Sao lưu hồ sơ: cơ sở dữ liệu (kể cả tài liệu) và các tệp điểm kiểm tra nhật ký",
    "restore": "Khôi phục bản sao lưu vào cơ sở dữ liệu trống",
    "nominate": "Lập hồ sơ đề nghị cho cá nhân (--nominee hoặc --person) hoặc tập thể "
    "(--collective); in số hồ sơ",
    "claim-basis": "Nêu (hoặc sửa) căn cứ đề nghị của hồ sơ đang mở; căn cứ sau cùng có hiệu lực",
    "advance": "Thực hiện một bước trên hồ sơ",
    "advance-batch": "Thực hiện một bước trên nhiều hồ sơ trong một giao dịch",
    "attach": "Đính kèm tài liệu vào hồ sơ (ghi SHA-256, kích thước, loại; có nhật ký)",
    "record": "Ghi một mục lịch sử: khen thưởng, xếp loại năm, sáng kiến hoặc kỷ luật",
    "workflows": "Quy trình khen thưởng",
    "workflows check": "Kiểm tra tệp quy trình; in TỆP:DÒNG: lỗi, mã thoát 1 nếu có lỗi",
    "workflows show": "Xem một quy trình: bảng các bước hoặc sơ đồ Mermaid/DOT",
    "workflows migrate": "Chuyển hồ sơ đang mở sang phiên bản khác của quy trình (có nhật ký)",
    "audit verify": "Kiểm tra toàn vẹn mọi chuỗi băm và đối chiếu với điểm kiểm tra đã ký",
    "audit checkpoint": "Niêm phong các sự kiện mới và ký điểm kiểm tra mới",
    "audit public-key": "In (hoặc ghi ra tệp) khóa công khai để kiểm tra điểm kiểm tra",
    "reminders status": "Nhắc hạn, thông báo đang chờ, đã gửi, lỗi; lần chạy trước và sau",
    "reminders retry": "Gửi lại các nhắc hạn, thông báo đã bỏ cuộc",
    "reminders run": "Chạy một lần quét nhắc hạn và gửi thông báo",
    "decisions create": "Ký quyết định khen thưởng cho một hay nhiều hồ sơ; in tiền thưởng từng người",
    "covenants launch": "Phát động giao ước thi đua năm với các chỉ tiêu",
    "covenants sign": "Ghi chữ ký giao ước của các thành viên",
    "covenants report": "Báo cáo kết quả của thành viên theo chỉ tiêu; in điểm",
    "covenants vote": "Ghi kết quả bình xét cuối năm; xếp hạng và lập hồ sơ trong chỉ tiêu",
    "persons add": "Thêm người vào danh sách cá nhân; in số. Người trùng tên phân biệt bằng đơn vị, "
    "năm sinh",
    "councils open": "Mở phiên họp Hội đồng với thành viên và điểm danh; in số phiên",
    "councils tally": "Đưa hồ sơ vào chương trình (nếu cần) và ghi kết quả bỏ phiếu kín",
    "councils close": "Kết thúc phiên họp: xét từng hồ sơ, chuyển bước, in biên bản",
    "users add": "Tạo cán bộ với vai trò trên các đơn vị",
    "users set-password": "Đặt mật khẩu (argon2id); hỏi mật khẩu trừ khi có --password-stdin",
    "users token": "Tạo mã truy cập API; chỉ in một lần, chỉ lưu bản băm",
    "users revoke-token": "Thu hồi mã truy cập API theo số",
    "db upgrade": "Cập nhật lược đồ cơ sở dữ liệu (Alembic)",
    "calendar add-working-days": "Ngày làm việc thứ N sau NGÀY (bỏ qua Tết, ngày lễ)",
    "calendar holidays": "Ngày nghỉ và ngày làm bù của một năm",
    "inspections plan": "Lập (hoặc lập lại) kế hoạch kiểm tra chéo của năm và in ra",
    "inspections show": "In kế hoạch kiểm tra chéo hiện hành",
    "inspections export": "Ghi kế hoạch kiểm tra chéo ra tệp Excel hoặc CSV",
    "inspections publish": "Gửi e-mail kế hoạch cho từng thành viên",
    "inspections report": "Ghi biên bản kiểm tra (nhận xét, điểm) của một đợt kiểm tra",
    "documents list": "Các tài liệu của hồ sơ (loại, tệp, kích thước, SHA-256)",
    "documents render": "Tạo văn bản; SHA-256 được ghi vào nhật ký của đối tượng",
    "documents sign": "Ký số tệp PDF của quyết định (PAdES) và lưu lại",
    "documents verify": "Kiểm tra chữ ký số, chuỗi chứng thư và bản băm đã ghi",
    "proposals template": "Ghi mẫu danh sách đề nghị (tiêu đề tiếng Việt, dòng ví dụ)",
    "proposals import": "Kiểm tra mọi dòng, xem trước điều kiện từng dòng, rồi tạo một đợt đề nghị",
    "proposals show": "Một đợt đề nghị: các hồ sơ và trạng thái, tài liệu, trạng thái chung",
    "proposals advance": "Một bước trên mọi hồ sơ đang mở của đợt (hoặc một hồ sơ)",
    "proposals remove": "Đưa một hồ sơ ra khỏi đợt; hồ sơ đi tiếp riêng",
    "proposals attach": "Đính kèm một tài liệu cho cả đợt",
    "proposals documents": "Tạo tờ trình của đợt với danh sách kèm theo",
}
"""Command path -> its Vietnamese help (the first line)."""

OPTIONS: dict[str, str] = {
    "--as": "Tên đăng nhập của người thực hiện",
    "--unit": "Mã đơn vị",
    "--year": "Năm",
    "--comment": "Ghi chú",
    "--bloc": "Mã khối thi đua",
    "--nomination": "Số hồ sơ",
    "--limit": "Số dòng tối đa",
    "--output": "Tệp ghi ra",
}
"""Option -> its Vietnamese help, when its own help is empty or in English."""
