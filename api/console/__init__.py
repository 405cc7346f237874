"""The organizer console: server-rendered pages over the same services as the API.

``signin`` holds signing in and the account's own page; each other module one area of the menu.
Every module's ``router`` is included here, in menu order.
"""

from fastapi import APIRouter

from api.console import briefs, broadcasts, competitions, dashboard, door, events, signin, supply, training

router = APIRouter(include_in_schema=False)
for module in (signin, events, door, broadcasts, training, competitions, supply, dashboard, briefs):
    router.include_router(module.router)
