"""Why an agent (or a webhook) may not act on a call right now; raised by the calls and transfers
services."""

from __future__ import annotations

from warm_transfer.errors import Conflict, Forbidden, NotFound


class CallNotFound(NotFound):
    code = "call_not_found"
    description = "No such call"


class LegNotFound(NotFound):
    code = "leg_not_found"
    description = "No such call leg"


class NotOnCall(Forbidden):
    code = "not_on_call"
    description = "You are not connected to this call"


class CallEnded(Conflict):
    code = "call_ended"
    description = "The call has already ended"


class ConferenceNotReady(Conflict):
    code = "conference_not_ready"
    description = "Twilio has not reported the call's conference yet; try again in a moment"


class CallSidInUse(Conflict):
    code = "call_sid_in_use"
    description = "This CallSid is already a leg of another call"
