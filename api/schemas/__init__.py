"""Response models, one module per aggregate, and the presenter that builds them from domain objects."""

from api.schemas.presenter import CancelBody, DecisionBody, Presenter

__all__ = ["CancelBody", "DecisionBody", "Presenter"]
