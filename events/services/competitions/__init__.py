"""Competitions: configuration, entries, judges and conflicts, assignment, scoring, ranking, closing.

Every rule of a contest lives in one module here; the API, the bot and the judge page call these
functions and only translate their results and errors.
"""
