"""Roadshows and matchmaking fairs: the line-up of pitches, the taps during a pitch, meeting sessions and slots,
participants, requests that never double-book, the fair-share batch scheduler, and outcomes.

``sessions`` (sessions, slots, participants, availability, interest), ``requests`` (ask, answer, the
claims), ``planner`` (the scheduler's arithmetic, no database), ``scheduling`` (the scheduler on the
database), ``outcomes`` (ratings, follow-ups, the funnel), ``lineup`` (pitches in order, on stage),
``pitch_interest`` (感兴趣 / 约谈 / 评分 on the pitch on stage, interest back, mutual → a connection).
"""
