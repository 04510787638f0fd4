"""The document types a dossier may hold: shared by the award catalog (rules) and the
dossier service, so it lives below both."""

from __future__ import annotations

DOC_TYPES: dict[str, str] = {
    "to_trinh": "Tờ trình đề nghị khen thưởng",
    "danh_sach": "Danh sách đề nghị khen thưởng",
    "bao_cao_thanh_tich": "Báo cáo thành tích",
    "tom_tat_thanh_tich": "Bản tóm tắt thành tích",
    "bien_ban_binh_xet": "Biên bản bình xét thi đua",
    "bien_ban_hop_hoi_dong": "Biên bản họp Hội đồng Thi đua – Khen thưởng",
    "ket_qua_bo_phieu": "Kết quả bỏ phiếu kín",
    "xac_nhan_sang_kien": "Giấy chứng nhận / xác nhận sáng kiến, đề tài",
    "xac_nhan_phong_trao": "Văn bản xác nhận thành tích tiêu biểu xuất sắc trong phong trào thi đua",
    "xac_nhan_thanh_tich_dot_xuat": "Văn bản xác nhận thành tích đặc biệt xuất sắc, đột xuất",
    "xac_nhan_dong_gop": (
        "Văn bản xác nhận đóng góp cho phát triển kinh tế – xã hội, an sinh xã hội, từ thiện"
    ),
    "y_kien_co_quan": "Ý kiến của cơ quan có liên quan (hiệp y)",
    "cong_khai": "Văn bản, minh chứng công khai danh sách",
    "ke_hoach_phat_dong": "Kế hoạch phát động phong trào thi đua",
    "khac": "Tài liệu khác",
}
"""Document types a dossier may hold (codes used by the award catalog). The three
confirmations (xac_nhan_phong_trao, xac_nhan_thanh_tich_dot_xuat, xac_nhan_dong_gop) are those
of Law Art 84(2) that the attested points of Art 74(1)(a)-(c) need (config/awards.yaml)."""
