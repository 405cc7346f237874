"""Documents made from the domain's typed results: the programme office's brief as DOCX and as a
printable HTML page, with its charts drawn server-side. Used by the API, the CLI and the scheduler;
it formats and translates, and holds no rule of what is counted (``events.services.brief`` does).
"""
