"""One deterministic fake enterprise that every mock system is seeded from.

    from mocks.dataset import generate_dataset
    ds = generate_dataset(customers=1000, seed=42)
    ds.customer_by_phone("+14155550123")

Same (customers, seed) -> same data, byte for byte (`ds.fingerprint()`). The data is
deliberately messy at documented rates; see `mocks.dataset.mess`.
"""

from ._clock import REFERENCE_NOW
from .catalog import LOAN_DOCUMENTS, PRODUCTS, SKUS
from .generator import generate_dataset
from .mess import MESS_RATES, PHONE_FORMAT_WEIGHTS, STALE_AFTER
from .model import (
    BankAccount,
    CallRecord,
    CrmAccount,
    CrmContact,
    CrmLead,
    Customer,
    Dataset,
    DatasetTruth,
    DocumentItem,
    InventoryItem,
    Loan,
    Order,
    OrderLine,
    Product,
    Transaction,
)
from .phones import COMPANY_NUMBER, PHONE_FORMATS, to_e164

__all__ = [
    "COMPANY_NUMBER",
    "LOAN_DOCUMENTS",
    "MESS_RATES",
    "PHONE_FORMATS",
    "PHONE_FORMAT_WEIGHTS",
    "PRODUCTS",
    "REFERENCE_NOW",
    "SKUS",
    "STALE_AFTER",
    "BankAccount",
    "CallRecord",
    "CrmAccount",
    "CrmContact",
    "CrmLead",
    "Customer",
    "Dataset",
    "DatasetTruth",
    "DocumentItem",
    "InventoryItem",
    "Loan",
    "Order",
    "OrderLine",
    "Product",
    "Transaction",
    "generate_dataset",
    "to_e164",
]
