"""Warm Transfer: hand a live Twilio Voice call to a colleague without dropping the customer."""

__version__ = "0.1.0"
