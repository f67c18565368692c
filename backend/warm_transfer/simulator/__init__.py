"""A built-in stand-in for Twilio Voice, for development, demos and end-to-end tests.

It plays Twilio's part over HTTP and TwiML only: it serves the REST requests the app makes,
fetches and parses the app's TwiML, signs its webhooks, keeps conferences, and rings simulated
browser devices. It imports nothing of the app but its settings, and the app's domain code
imports nothing of it (`main.py` wires it in simulated mode only).
"""

from warm_transfer.simulator.router import simulator_router
from warm_transfer.simulator.simulator import Simulator

__all__ = ["Simulator", "simulator_router"]
