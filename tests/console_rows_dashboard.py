"""The dashboard's and the monthly brief's rows of the console's role × page matrix."""

from __future__ import annotations

from tests.test_console_matrix import ANY, Rows, fixed

ROWS: Rows = {
    ("GET", "/console/dashboard"): (ANY, fixed()),
    ("GET", "/console/briefs"): (ANY, fixed()),
    ("GET", "/console/briefs/{period}.docx"): (ANY, fixed(period="2026-05")),
    ("GET", "/console/briefs/{period}.html"): (ANY, fixed(period="2026-05")),
}
