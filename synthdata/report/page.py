"""The report as one self-contained HTML page: inline CSS, inline SVG plots, JPEG samples as
data: URLs, no script that runs. The key numbers are embedded as JSON in
<script type="application/json" id="synthdata-report"> for programs (and tests) to read.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1d2b3a;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d3de;font-size:13px}
nav{background:#fff;border-bottom:1px solid #dde;padding:8px 28px;position:sticky;top:0;font-size:13px}
nav a{margin-right:14px;color:#1d5fa8;text-decoration:none}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #e2e5ea;border-radius:6px;margin:16px 0;padding:12px 18px}
h2{font-size:17px;margin:4px 0 10px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 12px 3px 0;text-align:left;vertical-align:top}
th{color:#555;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
.grid svg,.wide svg{max-width:100%;height:auto}
.warn{background:#fff6e0;border-color:#f0c36d}.warn li{margin:3px 0}
.ok{color:#2a7a2a}
.samples{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:10px}
figure{margin:0}figure img{width:100%;height:auto;display:block;border-radius:3px;background:#000}
figcaption{font-size:12px;color:#555;padding:3px 0}
.note{color:#666;font-size:13px}
.cols{columns:4 260px;column-gap:24px;font-size:13px}.cols div{break-inside:avoid;padding:1px 0}
.cols b{font-weight:600;color:#555}
"""


@dataclass
class Section:
    id: str
    title: str
    body: str
    css_class: str = ""


@dataclass
class Page:
    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, id: str, title: str, body: str, css_class: str = "") -> None:
        self.sections.append(Section(id, title, body, css_class))

    def render(self) -> str:
        nav = "".join(f'<a href="#{s.id}">{esc(s.title)}</a>' for s in self.sections)
        body = "\n".join(f'<section id="{s.id}" class="{s.css_class}"><h2>{esc(s.title)}</h2>\n{s.body}\n</section>'
                         for s in self.sections)
        payload = json.dumps(self.data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<link rel="icon" href="data:,"><title>{esc(self.title)}</title><style>{CSS}</style></head>\n'
                f'<body><header><h1>{esc(self.title)}</h1><p>{esc(self.subtitle)}</p></header>'
                f'<nav>{nav}</nav><main>\n{body}\n</main>\n'
                f'<script type="application/json" id="synthdata-report">{payload}</script>\n</body></html>\n')


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def table(header: list[str], rows_: list[list[Any]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="n">{_num(v)}</td>' if i >= numeric_from else f"<td>{esc(v)}</td>"
                                    for i, v in enumerate(r)) + "</tr>" for r in rows_)
    return f"<table><tr>{head}</tr>{body}</table>"


def _num(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.3g}"
    return esc(v)


def grid(*svgs: str) -> str:
    return '<div class="grid">' + "".join(f"<div>{s}</div>" for s in svgs if s) + "</div>"


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def columns(pairs: list[tuple[str, Any]]) -> str:
    """Short name: value pairs flowing in newspaper columns."""
    return '<div class="cols">' + "".join(f"<div><b>{esc(k)}</b>: {esc(v)}</div>" for k, v in pairs) + "</div>"
