"""The card agent: a small local HTTP server on the clinic PC that logs users in with a smart card.

Run it with `python -m portal.cardagent`; see docs/card-login.md. It imports
nothing from the portal's Flask code, only portal.cardagent.* and the stdlib,
cryptography and (for the PC/SC backend) pyscard.
"""

__version__ = "1.0.0"
