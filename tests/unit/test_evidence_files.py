"""workflow.files.evidence: the type by content, the size limit and the cleaned name."""

from __future__ import annotations

import pytest

from tests.helpers.web_evidence import DISGUISED_HTML, ooxml, pdf, png
from workflow.errors import InvalidInput
from workflow.files import evidence as files


@pytest.mark.parametrize(("content", "media"), [
    (pdf(), files.PDF), (b"\xff\xd8\xff\xe0" + b"0" * 20, files.JPEG), (png(), files.PNG),
    (ooxml("word"), files.DOCX), (ooxml("xl"), files.XLSX),
    (DISGUISED_HTML, None), (b"#!/bin/sh\n", None), (b"PK\x03\x04garbage", None), (b"", None),
])
def test_the_type_comes_from_the_content(content: bytes, media: str | None) -> None:
    assert files.detect(content) == media


def test_a_plain_zip_is_neither_docx_nor_xlsx() -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<x/>")  # no [Content_Types].xml
    assert files.detect(buf.getvalue()) is None


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\张三\\预评估报告.PDF", "预评估报告.pdf"),
    ("报告\u202egpj.exe", "报告gpj.exe.pdf"),  # a right-to-left override and a lying extension
    ("a\x00b\r\n.pdf", "ab.pdf"),
    ("...", "佐证材料.pdf"), ("", "佐证材料.pdf"),
    ('会议<纪要>:"1".pdf', "会议_纪要___1_.pdf"),
    ("长" * 300 + ".pdf", "长" * (files.NAME_MAX - 4) + ".pdf"),
])
def test_names_are_cleaned(raw: str, clean: str) -> None:
    assert files.clean_name(raw, files.PDF) == clean


def test_a_jpeg_named_pdf_keeps_a_jpeg_extension() -> None:
    assert files.clean_name("scan.pdf", files.JPEG) == "scan.pdf.jpg"
    assert files.clean_name("scan.JPEG", files.JPEG) == "scan.jpeg"


def test_the_size_limit_is_a_setting() -> None:
    assert files.max_bytes({}) == 20 * 1024 * 1024
    assert files.max_bytes({"CAMPAIGN_EVIDENCE_MAX_MB": "5"}) == 5 * 1024 * 1024
    with pytest.raises(InvalidInput, match="CAMPAIGN_EVIDENCE_MAX_MB"):
        files.max_bytes({"CAMPAIGN_EVIDENCE_MAX_MB": "lots"})
    with pytest.raises(InvalidInput, match="超过大小上限"):
        files.check("a.pdf", pdf(), 10)
    with pytest.raises(InvalidInput, match="空文件"):
        files.check("a.pdf", b"", 10)
    ok = files.check("dir/a.pdf", pdf(), 10_000)
    assert ok.name == "a.pdf" and ok.size == len(pdf()) and ok.media_type == files.PDF
