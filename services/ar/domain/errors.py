"""Domain errors. Each names the rule broken and, where one applies, the input field at fault.

The API maps these to problem+json in one place: `DomainRuleViolation` -> 422, `Conflict` -> 409,
`NotFound` -> 404, `PreconditionFailed` -> 412.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    rule: str = "domain-error"

    def __init__(self, detail: str, *, field: str | None = None, figures: dict[str, object] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.figures = figures or {}


class DomainRuleViolation(DomainError):
    """The command is well-formed but breaks a receivables rule; nothing was written."""

    rule = "rule-violation"


class CurrencyMismatch(DomainRuleViolation):
    rule = "currency-mismatch"


class OverAllocation(DomainRuleViolation):
    rule = "over-allocation"


class InvoiceClosed(DomainRuleViolation):
    rule = "invoice-closed"


class InvoiceSettled(InvoiceClosed):
    """Nothing is left open on the invoice (paid, credited or written off) for what was asked."""

    rule = "invoice-settled"


class PaymentReturned(DomainRuleViolation):
    rule = "payment-returned"


class CreditLimitExceeded(DomainRuleViolation):
    rule = "credit-limit-exceeded"


class TermsBeyondLegalMaximum(DomainRuleViolation):
    rule = "terms-beyond-legal-maximum"


class Conflict(DomainError):
    """The command lost a race or clashes with the current state; retrying later may succeed."""

    rule = "conflict"


class NotFound(DomainError):
    rule = "not-found"


class PreconditionFailed(DomainError):
    """The caller's If-Match version is not the current one."""

    rule = "precondition-failed"
