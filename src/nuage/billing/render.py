"""An invoice document (service.py's JSON) as CSV and as a printable PDF (reportlab).

CSV: one row per line item, then one per bucket's share, then the subtotal, tax and total; every row names
the invoice (its number, or ``preview``), the month and the currency, so that rows of several invoices can
be concatenated. PDF: A4, the issuer and region, the tenant, the number and dates, the line items, the
totals, then the detail per bucket. Text is set in reportlab's built-in Helvetica; a name that Helvetica
cannot print (a Chinese tenant name) is set in STSong-Light, one of Adobe's standard CID fonts, which
reportlab knows and PDF readers provide (it is not embedded).
"""

from __future__ import annotations

import csv
import io
from typing import Any

CSV_COLUMNS = ["invoice", "month", "currency", "section", "metric", "description", "bucket", "region",
               "quantity", "unit", "unit_price", "per", "amount"]
CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"


def to_csv(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    head = [doc.get("number") or "preview", doc["month"], doc["currency"]]
    for line in doc["lines"]:
        writer.writerow([*head, "line", line["metric"], line["description"], "", "", line["quantity"], line["unit"],
                         line["unit_price"], line["per"], line["amount"]])
    for share in doc["buckets"]:
        writer.writerow([*head, "bucket", share["metric"], "", share["bucket"], share["region"], share["quantity"],
                         "", "", "", share["amount"]])
    writer.writerow([*head, "subtotal", "", "Subtotal", "", "", "", "", "", "", doc["subtotal"]])
    writer.writerow([*head, "tax", "", f"Tax ({_percent(doc['tax_rate'])})", "", "", "", "", doc["tax_rate"], "",
                     doc["tax"]])
    writer.writerow([*head, "total", "", "Total", "", "", "", "", "", "", doc["total"]])
    return out.getvalue()


def _percent(rate: str) -> str:
    from decimal import Decimal

    text = format(Decimal(rate) * 100, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def _latin(text: str) -> bool:
    """Whether Helvetica (its WinAnsi encoding) prints ``text``."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _needs_cjk(doc: dict[str, Any]) -> bool:
    names = [doc["tenant"]["name"], doc["issuer"]["name"], doc["issuer"]["region"]]
    return not all(_latin(str(name)) for name in [*names, *(s["bucket"] for s in doc["buckets"])])


def _per(unit: str, per: int) -> str:
    return f"per {unit}" if per == 1 else f"per {per:,} {unit}"


def to_pdf(doc: dict[str, Any]) -> bytes:
    """The invoice as a one- or several-page A4 PDF (the same bytes for the same document)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font, bold = LATIN_FONT, "Helvetica-Bold"
    if _needs_cjk(doc):
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    title = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=10)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10)
    number = ParagraphStyle("number", parent=cell, alignment=2)   # right-aligned

    def esc(text: object) -> str:
        """Paragraph markup of ``text``: in the CID font when Helvetica cannot print it."""
        marked = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return marked if _latin(str(text)) else f'<font name="{CJK_FONT}">{marked}</font>'

    currency = doc["currency"]
    preview = doc.get("kind") == "preview" or not doc.get("number")
    heading = "Preview (not an invoice)" if preview else f"Invoice {doc['number']}"
    facts = [   # (label, markup)
        ("Issuer", f"{esc(doc['issuer']['name'])} ({esc(doc['issuer']['region'])})"),
        ("Tenant", f"{esc(doc['tenant']['name'])} (account {esc(doc['tenant']['account_id'])})"),
        ("Month", esc(f"{doc['month']} ({doc['period']['start']} to {doc['period']['end']}, UTC)")),
        ("Issued" if not preview else "As of", esc(doc.get("issued_at") or doc.get("as_of") or "")),
    ]
    story: list[Any] = [Paragraph(esc(heading), title), Spacer(1, 4 * mm),
                        Table([[Paragraph(esc(a), body), Paragraph(b, body)] for a, b in facts],
                              colWidths=[25 * mm, 150 * mm], hAlign="LEFT",
                              style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")])),
                        Spacer(1, 6 * mm)]
    rows: list[list[Any]] = [["Description", "Quantity", "Unit price", f"Amount ({currency})"]]
    for line in doc["lines"]:
        rows.append([Paragraph(esc(line["description"]), cell),
                     Paragraph(esc(f"{line['quantity']} {line['unit']}"), number),
                     Paragraph(esc(f"{line['unit_price']} {_per(line['unit'], line['per'])}"), number),
                     line["amount"]])
    rows += [["Subtotal", "", "", doc["subtotal"]],
             [f"Tax ({_percent(doc['tax_rate'])})", "", "", doc["tax"]],
             ["Total", "", "", doc["total"]]]
    count = len(doc["lines"])
    table = Table(rows, colWidths=[78 * mm, 36 * mm, 38 * mm, 24 * mm], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("FONTNAME", (0, 0), (-1, 0), bold), ("FONTNAME", (0, -1), (-1, -1), bold),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("LINEABOVE", (0, count + 1), (-1, count + 1), 0.6, colors.black),
        ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black)]))
    story += [table, Spacer(1, 8 * mm)]
    if doc["buckets"]:
        detail: list[list[Any]] = [["Bucket", "Region", "Metric", "Quantity", f"Amount ({currency})"]]
        detail += [[Paragraph(esc(s["bucket"] or "-"), cell), s["region"], s["metric"], s["quantity"], s["amount"]]
                   for s in doc["buckets"]]
        story += [Paragraph("Detail per bucket", ParagraphStyle("h2", fontName=bold, fontSize=11, leading=14)),
                  Spacer(1, 2 * mm),
                  Table(detail, colWidths=[60 * mm, 30 * mm, 30 * mm, 32 * mm, 24 * mm], repeatRows=1,
                        hAlign="LEFT", style=TableStyle([
                            ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                            ("FONTNAME", (0, 0), (-1, 0), bold), ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
                            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black)]))]
    story += [Spacer(1, 8 * mm), Paragraph(esc(
        "Amounts are rounded to cents per line (half up); tax is computed on the rounded subtotal. "
        "1 GB = 2^30 bytes; storage is billed per GB-month."), small)]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=heading, author=str(doc["issuer"]["name"]), invariant=1,
                      leftMargin=17 * mm, rightMargin=17 * mm, topMargin=17 * mm, bottomMargin=17 * mm
                      ).build(story)
    return out.getvalue()
