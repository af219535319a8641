"""Daily article statistics of the provincial e-portals.

Each portal has a pool of articles published over the three months before the window; a day's
export lists the 30-200 articles read that day, favouring recent and popular ones. About 10-20 %
of a portal's articles carry the ``human_rights`` topic; most are in Vietnamese, some in English
or another foreign language and, where the province has them, in ethnic-minority languages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from planwh.sample.reference import current_wards, legacy_districts
from planwh.sample.world import VIETNAM_TZ, World, fold

POOL_DAYS = 90
TOPICS = ("economy", "tourism", "agriculture", "education", "health", "culture", "politics", "security", "society")

_HR_TITLES = (
    "Tập huấn kỹ năng truyền thông về quyền con người cho cán bộ {place}",
    "Hội nghị cung cấp thông tin cho báo chí về công tác quyền con người",
    "Bảo đảm quyền con người trong công tác giảm nghèo bền vững tại {place}",
    "Tuyên truyền Công ước về quyền trẻ em trong trường học ở {place}",
    "Đấu tranh phản bác luận điệu sai trái về nhân quyền trên không gian mạng",
    "Triển lãm ảnh, tài liệu lưu trữ về quyền con người tại {prov_of}",
    "{prov} triển khai Đề án truyền thông về quyền con người giai đoạn 2023 - 2028",
    "Bảo đảm quyền tự do tín ngưỡng, tôn giáo của đồng bào dân tộc thiểu số tại {place}",
    "Chăm lo quyền của người khuyết tật và người cao tuổi ở {place}",
    "Ngày Quốc tế Nhân quyền 10/12: nhìn lại những thành tựu bảo đảm quyền con người",
    "Trợ giúp pháp lý miễn phí cho người dân {place}",
)
_TITLES = {
    "economy": ("Thu hút đầu tư vào khu công nghiệp {place}", "Giải ngân vốn đầu tư công năm {year} của {prov_of}"),
    "tourism": ("{place} phát triển du lịch cộng đồng", "Lượng khách du lịch đến {prov_of} tăng mạnh"),
    "agriculture": ("Nông dân {place} trúng mùa lúa", "Xây dựng nông thôn mới nâng cao tại {place}"),
    "education": ("Nâng cao chất lượng dạy và học tại {place}", "{prov} chuẩn bị kỳ thi tốt nghiệp THPT năm {year}"),
    "health": ("Tiêm chủng mở rộng cho trẻ em {place}", "Khám sàng lọc miễn phí cho người cao tuổi tại {place}"),
    "culture": ("Lễ hội văn hóa truyền thống tại {place}", "Bảo tồn di sản văn hóa phi vật thể của {prov_of}"),
    "politics": ("Kỳ họp Hội đồng nhân dân {prov_of}", "Lãnh đạo {prov_of} tiếp công dân định kỳ"),
    "security": ("Công an {place} triệt phá đường dây lừa đảo qua mạng", "Bảo đảm trật tự an toàn giao thông dịp cuối năm"),
    "society": ("Trao nhà đại đoàn kết cho hộ nghèo tại {place}", "Hỗ trợ sinh kế cho người dân {place}"),
}
_EN_TITLES = (
    "{prov_en} promotes communication on human rights",
    "Foreign correspondents visit {place_en}",
    "{prov_en} attracts foreign investment",
    "Community-based tourism thrives in {place_en}",
)
_FOREIGN_EXTRA = ("zh", "ko", "ja", "fr", "lo")

CSV_COLUMNS = (
    "stat_date", "province_code", "portal", "article_id", "url", "title", "topic", "language",
    "published_at", "page_views", "unique_visitors",
)
# Some content systems export Vietnamese headers (the contract's alternative names).
CSV_VI_HEADERS = (
    "Ngày thống kê", "Mã tỉnh", "Cổng thông tin", "Mã bài viết", "Đường dẫn", "Tiêu đề", "Chủ đề",
    "Ngôn ngữ", "Thời điểm đăng", "Lượt xem", "Lượt truy cập",
)


@dataclass(frozen=True)
class Article:
    article_id: str
    url: str
    title: str
    topic: str
    language: str
    published_at: datetime
    popularity: float


@dataclass
class PortalDay:
    portal: str
    province_code: str
    day: date
    rows: list[dict[str, object]]


def portal_host(name_ascii: str) -> str:
    return "".join(ch for ch in name_ascii.lower() if ch.isalnum()) + ".gov.vn"


def _slug(title: str) -> str:
    return "-".join(fold(title).split())[:70].rstrip("-")


def _places(world: World, code: str, current: bool) -> list[str]:
    if current:
        return [w.short for w in current_wards(code)] or [world.ref.current[code].name]
    return [d.short for d in legacy_districts(code)] or [world.ref.legacy[code].name]


def _pool(world: World, code: str, current: bool, first: date, last: date) -> list[Article]:
    ref = world.ref
    province = ref.current[code] if current else ref.legacy[code]
    host = portal_host(province.name_ascii)
    rng = world.rng("portal-pool", code, current, first.isoformat())
    places = _places(world, code, current)
    minority = world.minority_languages(code, current=current)
    extra_foreign = [c for c in _FOREIGN_EXTRA if ref.languages.get(c) == "foreign"]
    hr_share = rng.uniform(0.10, 0.20)
    span = (last - first).days + POOL_DAYS
    size = rng.randint(350, 600)
    next_id = rng.randint(150_000, 900_000)
    articles = []
    stamps = sorted(
        datetime.combine(first - timedelta(days=POOL_DAYS), time(), VIETNAM_TZ)
        + timedelta(days=rng.randrange(span + 1), minutes=rng.randrange(6 * 60, 22 * 60))
        for _ in range(size)
    )
    for published in stamps:
        next_id += rng.randint(1, 40)
        roll = rng.random()
        if roll < 0.05:
            language = "en"
        elif roll < 0.07 and extra_foreign:
            language = rng.choice(extra_foreign)
        elif roll < 0.13 and minority:
            language = rng.choice(minority)
        else:
            language = "vi"
        topic = "human_rights" if rng.random() < hr_share else rng.choice(TOPICS)
        place = rng.choice(places)
        if language == "en":
            title = rng.choice(_EN_TITLES).format(prov_en=province.name_ascii, place_en=fold(place).title())
        else:
            template = rng.choice(_HR_TITLES if topic == "human_rights" else _TITLES[topic])
            title = template.format(place=place, prov=province.name_full, prov_of=province.of_name,
                                    year=published.year)
            if language != "vi":
                title += f" ({ref.language_names.get(language, language)})"
        section = "en/news" if language == "en" else "tin-tuc"
        url = f"https://{host}/{section}/{_slug(title)}-{next_id}.html"
        articles.append(Article(
            article_id=str(next_id), url=url, title=title, topic=topic, language=language,
            published_at=published, popularity=rng.lognormvariate(0, 0.9),
        ))
    return articles


def portal_days(world: World, first: date, days: int) -> list[PortalDay]:
    """One export per portal and day of the window, for the provinces that exist on each day."""
    out: list[PortalDay] = []
    if days <= 0:
        return out
    last = first + timedelta(days=days - 1)
    pools: dict[tuple[str, bool], list[Article]] = {}
    for offset in range(days):
        day = first + timedelta(days=offset)
        current = day >= world.merger
        codes = world.current_codes if current else world.legacy_codes
        for code in codes:
            key = (code, current)
            if key not in pools:
                pools[key] = _pool(world, code, current, first, last)
            province = world.ref.current[code] if current else world.ref.legacy[code]
            host = portal_host(province.name_ascii)
            rng = world.rng("portal-day", code, day.isoformat())
            end_of_day = datetime.combine(day, time(23, 59), VIETNAM_TZ)
            eligible = [a for a in pools[key] if a.published_at <= end_of_day]
            if not eligible:
                continue
            count = min(len(eligible), rng.randint(30, 200))

            def weight(article: Article, day: date = day) -> float:
                age = (day - article.published_at.date()).days
                return article.popularity / (1.0 + age / 4.0)

            # Weighted sampling without replacement (Efraimidis-Spirakis keys).
            keyed = sorted(eligible, key=lambda a: -math.log(1.0 - rng.random()) / weight(a))[:count]
            rows = []
            for article in sorted(keyed, key=lambda a: int(a.article_id)):
                views = max(1, round(weight(article) * 60 * rng.lognormvariate(0, 0.4)))
                visitors = max(1, min(views, round(views * rng.uniform(0.55, 0.95))))
                rows.append({
                    "stat_date": day,
                    "province_code": code,
                    "portal": host,
                    "article_id": article.article_id,
                    "url": article.url,
                    "title": article.title,
                    "topic": article.topic,
                    "language": article.language,
                    "published_at": article.published_at,
                    "page_views": views,
                    "unique_visitors": visitors,
                })
            out.append(PortalDay(portal=host, province_code=code, day=day, rows=rows))
    return out
