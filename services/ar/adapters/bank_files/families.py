"""Bank transaction codes read into a `TransactionFamily`, per format, and whether the code itself says the movement
is a return or reversal. An unknown code is OTHER (kept as written in `BankEntry.bank_code`), never an error: a
statement is read whole whatever codes its bank invents.

- ISO 20022 bank transaction codes (camt `BkTxCd/Domn`: domain, family, sub-family), from the ISO external code
  list: PMNT/RCDT received credit transfers, PMNT/ICDT issued ones, PMNT/IDDT direct debits we collect as
  creditor, PMNT/RDDT direct debits taken from us, PMNT/RCHQ and ICHQ cheques, PMNT/MCRD merchant card
  transactions (what a card acquirer pays us) and CCRD customer card transactions, PMNT/CNTR counter (cash).
  Sub-families UPDD (reversal due to a return or unpaid direct debit), PRDD (reversal due to a payment reversal),
  RRTN (reversal due to a payment return), RPCR (reversal due to a cancellation request), UPCQ (unpaid cheque) and
  UPCT (unpaid card transaction) are returns; CHRG, FEES, COMM are charges in any family (ACMT/MDOP/CHRG...).
- SWIFT MT940 `:61:` transaction type identification: N or F and a three-letter code (NTRF transfer, NSTO standing
  order, NDDT direct debit, NCHK cheque, NCLR cheque clearing, NCHG and NCOM charges, NRTI returned item, NMSC
  miscellaneous...) or S and the SWIFT message type (S103 a customer transfer, S104 a direct debit, S110 a cheque).
- German GVC (Geschäftsvorfallcode, DFÜ-Abkommen Anlage 3), the three digits opening a structured `:86:` and the
  `Prtry` code of German camt (`NTRF+166+9310`, issuer DK). 106, 110, 182, 190, 198 and 199 are SEPA Cards
  Clearing (card payments cleared like a direct debit), kept as CARD.
- CFONB 120 interbank operation codes (positions 33-34 of a 04 record) and the reject reasons of positions 41-42
  mapped to the ISO reason codes they correspond to. The 120 specification does not list them: it refers to two
  other CFONB brochures ("Codes opérations interbancaires", "Liste interbancaire des codes motifs de rejet /
  retour", which also gives the CFONB/ISO correspondence). The tables below hold only the codes this reader needs
  and were written without those brochures at hand: an operation code not listed is OTHER, a reason not listed
  stays `CFONB:NN`, and `bank_code` always keeps both as the bank wrote them (`CFONB 10 motif 04`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ar.domain.bank_entry import TransactionFamily

TRANSFER, DIRECT_DEBIT, CARD = TransactionFamily.TRANSFER, TransactionFamily.DIRECT_DEBIT, TransactionFamily.CARD
CHEQUE, CASH, CHARGES, OTHER = (TransactionFamily.CHEQUE, TransactionFamily.CASH, TransactionFamily.CHARGES,
                                TransactionFamily.OTHER)


@dataclass(frozen=True)
class Classified:
    family: TransactionFamily
    returned: bool          # the code itself names a return, an unpaid item or a reversal
    code: str               # as written, for `BankEntry.bank_code`


# ISO 20022 ---------------------------------------------------------------------------------------------------------
_ISO_FAMILIES = {
    "RCDT": TRANSFER, "ICDT": TRANSFER, "RRCT": TRANSFER, "IRCT": TRANSFER,
    "IDDT": DIRECT_DEBIT, "RDDT": DIRECT_DEBIT,
    "RCHQ": CHEQUE, "ICHQ": CHEQUE,
    "MCRD": CARD, "CCRD": CARD,
    "CNTR": CASH,
}
_ISO_RETURNS = frozenset({"UPDD", "PRDD", "RRTN", "RPCR", "UPCQ", "UPCT", "ARET", "AREV"})
_ISO_CHARGES = frozenset({"CHRG", "FEES", "COMM", "COMT"})


def iso(domain: str | None, family: str | None, subfamily: str | None) -> Classified:
    parts = [(part or "").strip().upper() for part in (domain, family, subfamily)]
    domain_code, family_code, sub_code = parts
    code = "/".join(part for part in parts if part)
    if sub_code in _ISO_CHARGES:
        return Classified(CHARGES, False, code)
    kind = _ISO_FAMILIES.get(family_code, OTHER) if domain_code == "PMNT" else OTHER
    return Classified(kind, sub_code in _ISO_RETURNS, code)


# SWIFT :61: transaction type ------------------------------------------------------------------------------------
_SWIFT_TYPES = {
    "TRF": TRANSFER, "STO": TRANSFER, "DDT": DIRECT_DEBIT, "CHK": CHEQUE, "CLR": CHEQUE, "ECK": CHEQUE,
    "TCK": CHEQUE, "CHG": CHARGES, "COM": CHARGES, "BRF": CHARGES,
}
_SWIFT_MESSAGES = {"104": DIRECT_DEBIT, "107": DIRECT_DEBIT, "110": CHEQUE, "111": CHEQUE, "112": CHEQUE}
_SWIFT_CODE = re.compile(r"^(?:[NF]([A-Z]{3})|S(\d{3}))$")


def swift_type(raw: str | None) -> Classified | None:
    """`NTRF`, `FCHK`, `S103`...; None when it is not a transaction type identification code."""
    code = (raw or "").strip().upper()
    found = _SWIFT_CODE.match(code)
    if found is None:
        return None
    if found.group(1):
        return Classified(_SWIFT_TYPES.get(found.group(1), OTHER), found.group(1) == "RTI", code)
    message = found.group(2)
    kind = _SWIFT_MESSAGES.get(message, TRANSFER if message[0] in "12" else OTHER)
    return Classified(kind, False, code)


# German GVC -------------------------------------------------------------------------------------------------------
def _codes(*spans: str) -> frozenset[str]:
    codes: set[str] = set()
    for span in spans:
        first, _, last = span.partition("-")
        codes.update(f"{n:03d}" for n in range(int(first), int(last or first) + 1))
    return frozenset(codes)


_GVC = {
    TRANSFER: _codes("051-059", "079", "087-088", "112", "116-119", "152-169", "177", "188-189", "191", "194",
                     "201-202", "206", "210-212"),
    DIRECT_DEBIT: _codes("004-005", "084", "104-105", "107-109", "171", "174", "181", "184", "192-193",
                         "195-197", "213"),
    CARD: _codes("006", "106", "110", "182", "190", "198-199"),
    CHEQUE: _codes("101-103", "111", "122", "170", "183", "185", "209", "220-223"),
    CASH: _codes("082-083"),
    CHARGES: _codes("804-811"),
}
# 108/109: a SEPA direct debit returned to its creditor (B2B / Core); 059, 159/160: a credit transfer sent back;
# 110: a card clearing returned; 111: a cheque returned unpaid; 181/184: a direct debit refunded to the debtor;
# 193/199: reversals; 899: a cancellation (Storno).
_GVC_RETURNS = _codes("059", "108-111", "159-160", "181-184", "193", "199", "899")


def gvc(raw: str | None) -> Classified | None:
    code = (raw or "").strip()
    if not re.fullmatch(r"\d{3}", code):
        return None
    kind = next((family for family, codes in _GVC.items() if code in codes), OTHER)
    return Classified(kind, code in _GVC_RETURNS, f"GVC {code}")


# CFONB 120 ----------------------------------------------------------------------------------------------------------
_CFONB_OPERATIONS = {
    "01": (CHEQUE, False),        # chèque payé
    "02": (CHEQUE, False),        # remise de chèques
    "03": (CHEQUE, True),         # chèque remis revenu impayé
    "05": (TRANSFER, False),      # virement reçu (SEPA or not)
    "06": (TRANSFER, False),      # virement émis
    "07": (DIRECT_DEBIT, False),  # prélèvement payé (a direct debit taken from us)
    "08": (DIRECT_DEBIT, False),  # remise de prélèvements (what we collect as creditor)
    "10": (DIRECT_DEBIT, True),   # prélèvement remis revenu impayé / rejeté
    "11": (CARD, False),          # paiement par carte
    "12": (CARD, False),          # remise de factures carte (card acquiring)
    "13": (CHARGES, False),       # frais et commissions
    "14": (CASH, False),          # versement ou retrait d'espèces
}
_CFONB_REASONS = {
    "01": "AC04",   # compte soldé, clos ou viré
    "02": "AC06",   # compte bloqué / opposition sur compte
    "04": "AM04",   # provision insuffisante
    "06": "MD07",   # titulaire décédé
    "08": "MD01",   # pas d'ordre de payer / mandat absent ou révoqué
    "31": "AC01",   # identifiant de compte incorrect
    "35": "MD06",   # remboursement demandé par le débiteur
    "36": "MS02",   # raison non communiquée, à l'initiative du client
    "37": "MS03",   # raison non communiquée, à l'initiative de la banque
}


def cfonb_operation(raw: str) -> Classified:
    code = raw.strip().upper()
    kind, returned = _CFONB_OPERATIONS.get(code, (OTHER, False))
    return Classified(kind, returned, f"CFONB {code}")


def cfonb_reason(raw: str) -> str | None:
    """The ISO reason for a CFONB reject code, else `CFONB:NN` (the code kept as the bank wrote it)."""
    code = raw.strip()
    return (_CFONB_REASONS.get(code) or f"CFONB:{code}") if code else None


# Proprietary codes (camt `BkTxCd/Prtry`) and CSV columns ----------------------------------------------------------
def proprietary(raw: str | None, issuer: str | None) -> Classified | None:
    """A bank's own code: German camt writes `NTRF+166+9310` (issuer DK: the SWIFT type, the GVC, the text key),
    French banks may write the CFONB operation code (issuer CFONB); else a SWIFT type code alone."""
    code = (raw or "").strip().upper()
    if not code:
        return None
    if (issuer or "").strip().upper() == "CFONB" and re.fullmatch(r"[0-9A-Z]{2}", code):
        return cfonb_operation(code)
    tokens = [token for token in re.split(r"[+/ ]", code) if token]
    by_gvc = next((found for found in map(gvc, tokens) if found is not None), None)
    by_swift = next((found for found in map(swift_type, tokens) if found is not None), None)
    found = by_gvc if by_gvc is not None and by_gvc.family is not OTHER else by_swift or by_gvc
    return Classified(found.family, found.returned, code) if found is not None else Classified(OTHER, False, code)


_ISO_TRIPLE = re.compile(r"^([A-Z]{4})[-/ ]([A-Z]{4})[-/ ]([A-Z]{4})$")
_NAMES = {family.value: family for family in TransactionFamily} | {family.name.lower(): family
                                                                  for family in TransactionFamily}


def named(raw: str | None) -> Classified | None:
    """A CSV type column: one of our family names (`transfer`, `direct_debit`...), an ISO triple
    (`PMNT/IDDT/ESDD`), a SWIFT type (`NDDT`), a GVC (`166`); anything else is OTHER, kept as written."""
    code = (raw or "").strip()
    if not code:
        return None
    upper = code.upper()
    if code.lower().replace(" ", "_").replace("-", "_") in _NAMES:
        return Classified(_NAMES[code.lower().replace(" ", "_").replace("-", "_")], False, code)
    triple = _ISO_TRIPLE.match(upper)
    if triple:
        return iso(*triple.groups())
    return swift_type(upper) or gvc(upper) or Classified(OTHER, False, code)
