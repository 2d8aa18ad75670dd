"""Errors raised while parsing a policy document.

The protocol layers map them: S3 answers ``MalformedPolicy`` (400), the IAM API answers
``MalformedPolicyDocument`` for :class:`MalformedPolicy` and ``LimitExceeded`` for
:class:`PolicyTooLarge`.
"""

from __future__ import annotations

from nuage.errors import NuageError


class MalformedPolicy(NuageError):
    """The document is not a valid policy; ``message`` says why, in AWS's words where AWS has some."""

    default_message = "This policy contains invalid Json"


class PolicyTooLarge(MalformedPolicy):
    """The document is larger than the limit for its kind."""

    default_message = "Policy exceeds the maximum allowed document size."
