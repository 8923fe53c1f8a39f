"""Core banking: deposit and card accounts, and a short recent transaction history."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from ._clock import between
from ._draw import Weighted, pick, randint
from ._ids import serials
from .model import AccountStatus, AccountType, BankAccount, Customer, Transaction

STATUSES: tuple[AccountStatus, ...] = ("active", "frozen", "closed")
STATUS_WEIGHTS = (92, 3, 5)
HISTORY = timedelta(days=90)  # how far back the transaction feed goes
MAX_TXNS_PER_ACCOUNT = 6  # uniform 0..6, so about 3 on average

# Median balance in dollars and spread per account type (lognormal).
_BALANCE = {
    "checking": (2_500, 1.0),
    "savings": (8_000, 1.2),
    "business": (25_000, 1.1),
    "credit_card": (900, 0.9),
}

# category -> (sign, low, high dollars, merchant descriptors). Sign +1 means money in.
_CATEGORIES: dict[str, tuple[int, int, int, tuple[str, ...]]] = {
    "groceries": (-1, 8, 240, ("WHOLEFDS MKT", "TRADER JOE'S", "SAFEWAY", "KROGER", "H-E-B")),
    "dining": (
        -1,
        6,
        160,
        ("STARBUCKS", "CHIPOTLE", "SQ *CORNER CAFE", "DOORDASH", "PANERA BREAD"),
    ),
    "fuel": (-1, 20, 95, ("SHELL OIL", "CHEVRON", "EXXONMOBIL", "COSTCO GAS")),
    "shopping": (-1, 10, 600, ("AMAZON MKTPLACE", "TARGET", "BEST BUY", "HOME DEPOT")),
    "utilities": (-1, 40, 320, ("PG&E WEB PMT", "COMCAST", "VERIZON WIRELESS", "CITY WATER DEPT")),
    "subscription": (-1, 5, 25, ("NETFLIX.COM", "SPOTIFY", "APPLE.COM/BILL", "GOOGLE *STORAGE")),
    "atm": (-1, 20, 400, ("ATM WITHDRAWAL",)),
    "transfer": (-1, 50, 2_000, ("ONLINE TRANSFER TO SAV", "ZELLE PAYMENT", "VENMO CASHOUT")),
    "payroll": (1, 900, 6_500, ("DIRECT DEP PAYROLL", "ACH CREDIT ADP PAYROLL", "GUSTO PAYROLL")),
    "interest": (1, 1, 60, ("INTEREST PAYMENT",)),
    "deposit": (1, 100, 5_000, ("MOBILE DEPOSIT", "BRANCH DEPOSIT", "ONLINE TRANSFER FROM CHK")),
    "card_payment": (1, 50, 2_500, ("PAYMENT THANK YOU",)),
    "merchant_settlement": (1, 200, 12_000, ("CARD SETTLEMENT",)),
}

# Which categories appear on which account type, with relative frequency.
_MIX_TABLE: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "checking": (
        (
            "groceries",
            "dining",
            "fuel",
            "shopping",
            "utilities",
            "subscription",
            "atm",
            "transfer",
            "payroll",
            "deposit",
        ),
        (18, 16, 8, 12, 8, 8, 6, 8, 10, 6),
    ),
    "savings": (("interest", "deposit", "transfer"), (40, 35, 25)),
    "credit_card": (
        ("groceries", "dining", "fuel", "shopping", "subscription", "card_payment"),
        (18, 22, 10, 25, 10, 15),
    ),
    "business": (
        ("merchant_settlement", "utilities", "shopping", "transfer", "payroll", "deposit"),
        (35, 10, 20, 15, 10, 10),
    ),
}
_MIX = {kind: Weighted(names, weights) for kind, (names, weights) in _MIX_TABLE.items()}


def _account_types(rng: random.Random, segment: str) -> list[AccountType]:
    if segment == "small_business":
        types: list[AccountType] = ["business"]
        if rng.random() < 0.3:
            types.append("checking")
        if rng.random() < 0.5:
            types.append("credit_card")
        return types
    premier = segment == "premier"
    types = ["checking"]
    if rng.random() < (0.8 if premier else 0.5):
        types.append("savings")
    if rng.random() < (0.7 if premier else 0.35):
        types.append("credit_card")
    return types


def _balance(rng: random.Random, kind: str, status: str) -> int:
    if status == "closed":
        return 0
    median, sigma = _BALANCE[kind]
    cents = int(rng.lognormvariate(math.log(median * 100), sigma))
    if kind == "credit_card":
        # Card balances are what the customer owes; a quarter are paid off.
        return 0 if rng.random() < 0.25 else -cents
    return cents


def make_accounts(
    rng: random.Random, customers: list[Customer], now: datetime
) -> list[BankAccount]:
    plans = [(c, _account_types(rng, c.segment)) for c in customers]
    numbers = iter(serials(rng, "ACC", 9, sum(len(types) for _, types in plans)))
    statuses = iter(rng.choices(STATUSES, STATUS_WEIGHTS, k=sum(len(t) for _, t in plans)))
    accounts: list[BankAccount] = []
    for c, types in plans:
        opened = between(rng, c.created_at, min(c.created_at + timedelta(days=2), now))
        for i, kind in enumerate(types):
            if i:  # later products were opened some time after the relationship began
                opened = between(rng, opened, now)
            status = next(statuses)
            accounts.append(
                BankAccount(
                    account_number=next(numbers),
                    customer_id=c.customer_id,
                    type=kind,
                    status=status,
                    balance_cents=_balance(rng, kind, status),
                    currency="USD",
                    opened_at=opened,
                )
            )
    return accounts


def make_transactions(
    rng: random.Random, accounts: list[BankAccount], now: datetime
) -> list[Transaction]:
    """A recent feed per account, oldest first. Closed accounts have no recent activity."""
    window_start = now - HISTORY
    drafts: list[tuple[str, datetime, int, str, str]] = []
    for account in accounts:
        if account.status == "closed":
            continue
        start = max(window_start, account.opened_at)
        span = int((now - start).total_seconds())
        mix = _MIX[account.type]
        count = randint(rng, 0, MAX_TXNS_PER_ACCOUNT)
        if count == 0 or span <= 0:
            continue
        for offset in sorted(int(rng.random() * (span + 1)) for _ in range(count)):
            category = mix.draw(rng)
            sign, low, high, merchants = _CATEGORIES[category]
            amount = sign * randint(rng, low * 100, high * 100)
            merchant = pick(rng, merchants)
            if sign < 0 and len(merchants) > 1:  # card purchases carry a store number
                merchant = f"{merchant} #{randint(rng, 100, 9999)}"
            drafts.append(
                (
                    account.account_number,
                    start + timedelta(seconds=offset),
                    amount,
                    merchant,
                    category,
                )
            )
    ids = serials(rng, "TXN", 12, len(drafts))
    return [
        Transaction(txn_id, number, posted, amount, description, category)
        for txn_id, (number, posted, amount, description, category) in zip(ids, drafts, strict=True)
    ]
