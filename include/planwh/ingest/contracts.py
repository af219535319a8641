"""Column contracts of the four sources (see the project's SOURCES.md).

A contract names each canonical column, the Vietnamese header a sender may write instead, and
a few other spellings seen in real files. Header matching ignores case, accents, underscores,
punctuation and a trailing ``(*)`` or ``(đơn vị tính)``, so only genuinely different words need
an alias.

``kind`` tells the readers how to turn a typed spreadsheet or JSON value into text (a number cell
in a ``number`` column is written with a decimal comma so that ``parse_number`` cannot mistake
``1.125`` for a thousands separator) and tells the loader which parser applies:

==========  =====================================================
kind        parser (``planwh.ingest.parsing``)
==========  =====================================================
text, code  none (kept as written)
int         ``parse_int``
number      ``parse_number``
date        ``parse_date``
timestamp   ``parse_timestamp``
period      ``parse_period``
bool        ``parse_bool``
province    ``ProvinceResolver.resolve``
==========  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = frozenset({"text", "code", "int", "number", "date", "timestamp", "period", "bool", "province"})


@dataclass(frozen=True)
class Column:
    name: str
    vi_header: str | None
    kind: str
    required: bool = True
    nullable: bool = False
    personal: bool = False
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")

    @property
    def label(self) -> str:
        """How to name the column to a sender: ``Mã tỉnh (province_code)``."""
        return f"{self.vi_header} ({self.name})" if self.vi_header else self.name


@dataclass(frozen=True)
class Contract:
    source: str
    columns: tuple[Column, ...]
    course_header: tuple[Column, ...] = ()
    # Groups of optional columns of which at least one must be in the header (a roster needs
    # the CCCD number or the staff id column; each row must then fill one of them).
    required_one_of: tuple[tuple[str, ...], ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns + self.course_header:
            if col.name == name:
                return col
        raise KeyError(f"{self.source} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def personal_columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if c.personal)


_PROVINCE = Column(
    "province_code",
    "Mã tỉnh",
    "province",
    aliases=("Mã tỉnh/thành phố", "Mã tỉnh/TP", "Tỉnh/thành phố", "Tỉnh", "province"),
)

AGENCIES = Contract(
    source="agencies",
    columns=(
        Column("agency_code", "Mã đơn vị", "code", aliases=("Mã cơ quan", "Mã ĐV")),
        Column("agency_name", "Tên đơn vị", "text", aliases=("Tên cơ quan", "Đơn vị")),
        _PROVINCE,
        Column("agency_kind", "Loại đơn vị", "text", aliases=("Loại cơ quan", "Loại hình")),
        Column("reporting", "Chế độ báo cáo", "text", aliases=("Kỳ báo cáo", "Tần suất báo cáo")),
        Column("valid_from", "Hiệu lực từ", "date", aliases=("Hiệu lực từ ngày", "Từ ngày", "Ngày hiệu lực")),
        Column(
            "valid_to",
            "Hiệu lực đến",
            "date",
            required=False,
            nullable=True,
            aliases=("Hiệu lực đến ngày", "Đến ngày", "Ngày hết hiệu lực"),
        ),
    ),
)

SUBMISSIONS = Contract(
    source="submissions",
    columns=(
        _PROVINCE,
        Column("agency_code", "Mã đơn vị", "code", aliases=("Mã cơ quan", "Mã ĐV")),
        Column("agency_name", "Tên đơn vị", "text", aliases=("Tên cơ quan", "Đơn vị báo cáo")),
        Column("period", "Kỳ báo cáo", "period", aliases=("Kỳ", "Kỳ BC")),
        Column("measure_code", "Mã chỉ tiêu", "code", aliases=("Chỉ tiêu", "measure")),
        Column("value", "Giá trị", "number", aliases=("Số liệu", "Kết quả", "Số lượng")),
        Column(
            "task_code", "Mã nhiệm vụ", "code", required=False, nullable=True, aliases=("Nhiệm vụ", "task")
        ),
        Column("note", "Ghi chú", "text", required=False, nullable=True, aliases=("notes",)),
        Column("submitted_at", "Ngày báo cáo", "date", aliases=("Ngày ký", "Ngày gửi")),
    ),
)

PORTAL = Contract(
    source="portal",
    columns=(
        Column("stat_date", "Ngày thống kê", "date", aliases=("Ngày", "date", "day")),
        _PROVINCE,
        Column("portal", "Cổng thông tin", "text", aliases=("Cổng", "Trang", "site", "host")),
        Column("article_id", "Mã bài viết", "code", aliases=("ID bài viết", "Mã tin", "article")),
        Column("url", "Đường dẫn", "text", aliases=("Liên kết", "link", "URL bài viết")),
        Column("title", "Tiêu đề", "text", aliases=("Tên bài viết", "Tiêu đề bài viết")),
        Column("topic", "Chủ đề", "text", nullable=True, aliases=("Chuyên mục", "Thẻ", "tag", "tags")),
        Column("language", "Ngôn ngữ", "code", aliases=("lang",)),
        Column(
            "published_at",
            "Thời điểm đăng",
            "timestamp",
            aliases=("Ngày đăng", "Thời gian đăng", "published"),
        ),
        Column("page_views", "Lượt xem", "int", aliases=("Số lượt xem", "views", "pageviews")),
        Column(
            "unique_visitors",
            "Lượt truy cập",
            "int",
            aliases=("Số người xem", "Người xem", "Khách truy cập", "visitors", "unique visitors"),
        ),
    ),
)

ROSTERS = Contract(
    source="rosters",
    columns=(
        Column("full_name", "Họ và tên", "text", personal=True, aliases=("Họ tên", "Tên học viên", "name")),
        Column(
            "national_id",
            "Số CCCD",
            "code",
            required=False,
            nullable=True,
            personal=True,
            aliases=(
                "CCCD",
                "Số căn cước",
                "Số căn cước công dân",
                "Số CCCD/CMND",
                "Số định danh",
                "Số định danh cá nhân",
            ),
        ),
        Column(
            "staff_id",
            "Mã cán bộ",
            "code",
            required=False,
            nullable=True,
            aliases=("Mã CB", "Mã công chức", "Mã nhân viên"),
        ),
        Column("birth_year", "Năm sinh", "int", personal=True),
        Column("gender", "Giới tính", "text", nullable=True, aliases=("Nam/Nữ",)),
        Column("agency_code", "Mã đơn vị", "code", aliases=("Mã cơ quan", "Mã ĐV")),
        Column("position", "Chức vụ", "text", nullable=True, aliases=("Chức danh", "Chức vụ/chức danh")),
        Column("category", "Đối tượng", "text", aliases=("Nhóm đối tượng", "Đối tượng học viên")),
        Column("attended", "Có mặt", "bool", nullable=True, aliases=("Tham dự", "Điểm danh")),
        Column("completed", "Hoàn thành", "bool", nullable=True, aliases=("Hoàn thành khóa học", "Kết quả")),
    ),
    course_header=(
        Column("course_id", "Mã khóa học", "code", aliases=("Mã lớp", "Mã lớp học", "Khóa học số")),
        Column(
            "title", "Tên khóa học", "text", aliases=("Tên lớp", "Tên lớp học", "Khóa học", "Tên hội nghị")
        ),
        Column(
            "organiser_agency_code",
            "Đơn vị tổ chức",
            "code",
            aliases=(
                "Mã đơn vị tổ chức",
                "Cơ quan tổ chức",
                "organiser",
                "organizer",
                "organiser_code",
                "agency_code",
            ),
        ),
        Column("province_code", "Mã tỉnh", "province", aliases=("Tỉnh", "Tỉnh/thành phố", "province")),
        Column("start_date", "Từ ngày", "date", aliases=("Ngày bắt đầu", "Bắt đầu")),
        Column("end_date", "Đến ngày", "date", aliases=("Ngày kết thúc", "Kết thúc")),
        Column(
            "mode", "Hình thức", "text", aliases=("Hình thức tổ chức", "Hình thức đào tạo", "Hình thức học")
        ),
    ),
    required_one_of=(("national_id", "staff_id"),),
)

CONTRACTS: dict[str, Contract] = {c.source: c for c in (AGENCIES, SUBMISSIONS, PORTAL, ROSTERS)}

# What each source is called in messages to senders: (English, Vietnamese).
SOURCE_TITLES: dict[str, tuple[str, str]] = {
    "agencies": ("the agency register", "danh mục đơn vị"),
    "submissions": ("an agency's report", "báo cáo kết quả thực hiện"),
    "portal": ("a portal statistics export", "thống kê cổng thông tin"),
    "rosters": ("a training roster", "danh sách học viên"),
}
