"""Hostile workbooks, built from a plain one: external links and DDE formulas, XML entity tricks, a
zip directory that lies about sizes, a zip bomb. Used by ``test_hostile_input.py`` (through
ingestion) and ``tests/web`` (uploaded through the sender page).
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import xlsxwriter

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
XXE = '<!ENTITY x SYSTEM "file:///etc/passwd">'
BILLION_LAUGHS = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))


def workbook(path: Path, header: list[str], rows: list[list[str]],
             formulas: dict[str, tuple[str, str]] | None = None) -> Path:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Báo cáo")
    sheet.write_row(0, 0, header)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, row)
    for cell, (formula, cached) in (formulas or {}).items():
        sheet.write_formula(cell, formula, None, cached)
    book.close()
    return path


def rewrite(src: Path, dst: Path, change, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, change(item.filename, zin.read(item.filename)))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def with_external_link(plain: Path, dst: Path) -> Path:
    """``plain`` with an external link (to a local file) registered in the workbook."""
    link_rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats'
        b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/externalLinkPath" Target="file:///etc/passwd" TargetMode="External"/>'
        b'</Relationships>'
    )
    link = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns="http://schemas.openxmlformats'
        b'.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames><sheetDataSet><sheetData '
        b'sheetId="0"><row r="1"><cell r="A1"><v>999</v></cell></row></sheetData></sheetDataSet></externalBook>'
        b'</externalLink>'
    )

    def add_link(name: str, data: bytes) -> bytes:
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                                b'officeDocument/2006/relationships/externalLink" Target="externalLinks/'
                                b'externalLink1.xml"/></Relationships>')
        if name == "xl/workbook.xml":
            return data.replace(b"</sheets>", b'</sheets><externalReferences><externalReference r:id="rId99"/>'
                                b'</externalReferences>')
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType='
                                b'"application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
                                b'</Types>')
        return data

    return rewrite(plain, dst, add_link, {
        "xl/externalLinks/externalLink1.xml": link, "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
    })


def with_xml_entity(plain: Path, dst: Path, part: str, trick: str, marker: bytes = b"NOTE") -> Path:
    """``plain`` with a DOCTYPE declaring ``trick`` in ``part`` and the entity used in a cell (the
    shared string ``marker``, or a new cell)."""
    entity = b"&x;" if "SYSTEM" in trick else b"&a9;"

    def poison(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        root = b"sst" if "shared" in part else b"worksheet"
        data = data.replace(XML_DECLARATION, XML_DECLARATION + b"\n<!DOCTYPE " + root + b" [" + trick.encode() + b"]>")
        if "shared" in part:
            return data.replace(marker, entity)
        return data.replace(b"</sheetData>", b'<row r="9"><c r="A9" t="inlineStr"><is><t>' + entity
                            + b"</t></is></c></row></sheetData>")

    return rewrite(plain, dst, poison)


def lying_zip(plain: Path, dst: Path) -> Path:
    """``plain`` with a sheet of 64 MiB (spaces after the XML) that the zip directory declares as
    4,000 bytes, so that a size check trusting the directory lets it through."""
    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != sheet:
                zout.writestr(item.filename, zin.read(item.filename))
                continue
            with zout.open(sheet, "w") as member:
                member.write(zin.read(sheet))
                for _ in range(64):
                    member.write(b" " * (1 << 20))
    data = bytearray(dst.read_bytes())
    name = sheet.encode()
    for signature, name_length_at, size_at, header in ((b"PK\x01\x02", 28, 24, 46), (b"PK\x03\x04", 26, 22, 30)):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + name_length_at)[0]
            if data[at + header:at + header + length] == name:
                struct.pack_into("<I", data, at + size_at, 4000)
            at = data.find(signature, at + 4)
    dst.write_bytes(bytes(data))
    return dst


def zip_bomb(dst: Path) -> Path:
    """A workbook whose sheet expands from a few KiB to 40 MiB of zeros."""
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(40):
                member.write(b"\0" * (1 << 20))
    return dst
