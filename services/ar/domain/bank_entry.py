"""What a bank statement says, whatever its format (camt.053/054, MT940, CFONB 120, CSV): one `BankEntry` per
movement on our account, the unit the import records and matches.

Parsers (`ar.adapters.bank_files`) produce a `BankStatement`; the application imports it (idempotently: the entry's
`key`) and matches credits to open invoices. A file that cannot be read raises `BankFileUnreadable`, naming where
(`line` for text formats, `element` for XML) and recording nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money


class Direction(Enum):
    CREDIT = "credit"  # money in: a customer paid
    DEBIT = "debit"    # money out: a returned direct debit, bank charges, our own payments


class TransactionFamily(Enum):
    """What kind of movement the bank says it is, from the format's own transaction code (camt `BkTxCd`, the MT940
    `:61:` type and German GVC, the CFONB interbank operation code, a mapped CSV column); never guessed from other
    fields (an end-to-end id is carried by SEPA credit transfers and direct debits alike)."""

    TRANSFER = "transfer"          # a credit transfer (SEPA, domestic, cross-border, standing order)
    DIRECT_DEBIT = "direct_debit"  # a direct debit: collected by us (a credit) or paid by us (a debit)
    CARD = "card"                  # card acquiring (a credit) or card spending (a debit)
    CHEQUE = "cheque"              # cheques deposited or paid
    CASH = "cash"                  # cash deposited or withdrawn at a counter
    CHARGES = "charges"            # bank charges, fees, commissions
    OTHER = "other"                # a code we do not classify (interest, securities, FX...)


# What can come back after it was credited is a direct debit we collected (refused, returned, refunded to the
# debtor) or a deposited cheque found unpaid. A transfer, a card payment or cash is not returned by the bank (a
# payer who wants it back asks us), nor are charges. A reversal the bank does not classify (MT940 NRTI, "returned
# item") may be either of the first: the payment it reverses decides.
NEVER_RETURNED = frozenset({TransactionFamily.TRANSFER, TransactionFamily.CARD, TransactionFamily.CASH,
                            TransactionFamily.CHARGES})


@dataclass(frozen=True)
class BankEntry:
    account: str                   # our account: its IBAN (or the bank's account id when the file gives no IBAN)
    bank_reference: str            # the bank's reference of the entry (AcctSvcrRef / NtryRef, MT940 :61: bank ref,
                                   # CFONB record reference); with `index`, unique within a statement
    booked_on: date
    value_on: date                 # the payment's date for late-payment penalties
    amount: Money                  # always positive, in the account's currency; `direction` says which way
    direction: Direction
    index: int = 0                 # position inside a batch booking (several transactions under one entry)
    payer_name: str | None = None
    payer_iban: str | None = None
    payer_bic: str | None = None
    remittance: str | None = None           # unstructured remittance text (may quote invoice numbers)
    creditor_reference: str | None = None   # structured creditor reference (RF ISO 11649, or the bank's own scheme)
    end_to_end_id: str | None = None
    return_reason: str | None = None        # ISO 20022 return reason (AC06, MD06, ...) on a reversal
    reversal: bool = False                  # a reversal of an earlier entry (a returned direct debit)
    original_amount: Money | None = None    # the instructed amount in another currency (foreign-currency line)
    charges: Money | None = None            # bank charges the bank reports for this transaction (camt Chrgs)
    family: TransactionFamily | None = None  # None: the file gives no transaction code at all
    bank_code: str | None = None            # the transaction code as the file writes it (PMNT/IDDT/UPDD, NDDT 109,
                                            # CFONB 10), and a reason code that has no ISO equivalent
    where: str = ""                         # where in the file (line number or XML path), for errors and audit

    @property
    def is_return(self) -> bool:
        """A debit that takes back money we had been credited: a returned direct debit or an unpaid cheque.
        `reversal` alone is not enough: the reversal of one of our own debits (MT940 `RD`, a refunded direct debit
        we had paid) is money in, and a reversed transfer, card payment or charge is not a return of a customer's
        payment. A reversal whose family is not known (no code, or one we do not classify) may be a return."""
        return self.reversal and self.direction is Direction.DEBIT and self.family not in NEVER_RETURNED

    @property
    def key(self) -> str:
        """What makes an entry the same in two imports (the same statement twice, or two that overlap). Neither
        `family` nor `bank_code` is part of it: an entry imported before they were read stays the same entry."""
        return "|".join((self.account, self.bank_reference, str(self.index), self.booked_on.isoformat(),
                         self.direction.value, str(self.amount.minor), self.amount.currency))


@dataclass(frozen=True)
class BankStatement:
    format: str                    # camt.053, camt.054, mt940, cfonb120, csv
    account: str
    currency: str
    statement_id: str | None = None
    entries: list[BankEntry] = field(default_factory=list)


class BankFileUnreadable(DomainRuleViolation):
    """A statement file that cannot be read: nothing of it is recorded. `where` names the line or the element."""

    rule = "bank-file-unreadable"

    def __init__(self, detail: str, *, where: str) -> None:
        super().__init__(f"{detail} ({where})", field="file", figures={"where": where})
