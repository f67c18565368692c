"""Every table, imported in one place for Alembic and for relationship resolution."""

from warm_transfer.agents.models import Agent
from warm_transfer.calls.models import Call, CallEvent, CallLeg
from warm_transfer.db import Base
from warm_transfer.jobs.models import Job
from warm_transfer.transfers.models import Transfer

__all__ = ["Agent", "Base", "Call", "CallEvent", "CallLeg", "Job", "Transfer"]
