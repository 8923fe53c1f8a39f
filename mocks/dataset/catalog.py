"""Fixed catalogs: the bank's products and the ERP's SKUs. Identical for every seed.

Eligibility rules, loan paperwork and order lines all refer to these codes, so they are
plain constants rather than generated data.
"""

from __future__ import annotations

from .model import Product

_K = 100  # cents per dollar, to keep the table readable

PRODUCTS: tuple[Product, ...] = (
    # code, name, kind, min credit score, min income (USD), max amount (cents), APR (bps)
    Product("LOAN-PERSONAL", "Personal Loan", "loan", 640, 30_000, 50_000 * _K, 1199),
    Product("LOAN-AUTO", "Auto Loan", "loan", 620, 25_000, 75_000 * _K, 699),
    Product("LOAN-SMALLBIZ", "Small Business Loan", "loan", 680, 60_000, 250_000 * _K, 899),
    Product("MORTGAGE-30Y", "30-Year Fixed Mortgage", "loan", 680, 50_000, 1_500_000 * _K, 675),
    Product("MORTGAGE-15Y", "15-Year Fixed Mortgage", "loan", 700, 70_000, 1_000_000 * _K, 599),
    Product("HELOC", "Home Equity Line of Credit", "loan", 700, 60_000, 250_000 * _K, 825),
    Product("CARD-SECURED", "Secured Credit Card", "card", 300, 0, 2_000 * _K, 2699),
    Product("CARD-CLASSIC", "Classic Credit Card", "card", 580, 15_000, 5_000 * _K, 2499),
    Product("CARD-GOLD", "Gold Rewards Card", "card", 670, 40_000, 15_000 * _K, 2199),
    Product("CARD-PLATINUM", "Platinum Travel Card", "card", 740, 90_000, 50_000 * _K, 1899),
    Product("ACCT-CHECKING", "Everyday Checking", "account", 300, 0, None, None),
    Product("ACCT-SAVINGS", "High-Yield Savings", "account", 300, 0, None, None),
    Product("ACCT-BUSINESS", "Business Checking", "account", 300, 0, None, None),
    Product("PLAN-BASIC", "Basic Banking Plan", "plan", 300, 0, None, None),
    Product("PLAN-PREMIER", "Premier Relationship Plan", "plan", 700, 100_000, None, None),
    Product("PLAN-SMALLBIZ", "Small Business Plan", "plan", 620, 50_000, None, None),
)

LOAN_PRODUCTS: tuple[Product, ...] = tuple(p for p in PRODUCTS if p.kind == "loan")

# Paperwork an application needs before underwriting can finish, per loan product.
LOAN_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "LOAN-PERSONAL": ("government_id", "proof_of_income", "bank_statements"),
    "LOAN-AUTO": (
        "government_id",
        "proof_of_income",
        "vehicle_purchase_agreement",
        "proof_of_insurance",
    ),
    "LOAN-SMALLBIZ": (
        "government_id",
        "business_license",
        "tax_returns",
        "profit_and_loss_statement",
        "bank_statements",
    ),
    "MORTGAGE-30Y": (
        "government_id",
        "proof_of_income",
        "tax_returns",
        "bank_statements",
        "purchase_agreement",
        "property_appraisal",
    ),
    "MORTGAGE-15Y": (
        "government_id",
        "proof_of_income",
        "tax_returns",
        "bank_statements",
        "purchase_agreement",
        "property_appraisal",
    ),
    "HELOC": ("government_id", "proof_of_income", "mortgage_statement", "property_appraisal"),
}

# ERP goods: what a bank's merchant-services arm ships. (sku family, variants, price USD)
_SKU_FAMILIES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("Card reader", ("Contactless", "Chip & PIN", "Mobile", "Countertop", "Kiosk"), 59),
    ("POS terminal", ("Mini", "Standard", "Pro", "Flex", "Station"), 399),
    ("Receipt printer", ("Thermal 58mm", "Thermal 80mm", "Bluetooth", "Kitchen", "Label"), 189),
    (
        "Receipt paper",
        (
            "2.25in x 50ft 12-pack",
            "2.25in x 85ft 24-pack",
            "3.125in x 230ft 8-pack",
            "3.125in x 273ft 50-pack",
            "Bond 3in 10-pack",
        ),
        29,
    ),
    ("Cash drawer", ("Compact", "Standard", "Heavy-duty", "Flip-top", "Locking"), 119),
    ("Barcode scanner", ("Handheld", "Wireless", "Presentation", "2D imager", "Rugged"), 139),
    (
        "Checkbook",
        ("Personal 100", "Personal 200", "Business 300", "Business 600", "Duplicate 150"),
        35,
    ),
    ("Deposit slip book", ("Personal", "Business", "Carbonless", "Large", "Mini"), 19),
    ("Security token", ("Keyfob", "Card", "USB-C", "NFC", "Bluetooth"), 25),
    ("Coin counter", ("Desktop", "Pro", "Sorter", "Wrapper", "Mixed-coin"), 249),
)


def _skus() -> tuple[tuple[str, str, int], ...]:
    out = []
    for family_index, (family, variants, price) in enumerate(_SKU_FAMILIES):
        for variant_index, variant in enumerate(variants):
            sku = f"SKU-{family_index + 1:02d}{variant_index + 1:02d}"
            # Variants climb in price so the list does not look like one number repeated.
            cents = price * _K * (4 + variant_index) // 4 - 1
            out.append((sku, f"{family} - {variant}", cents))
    return tuple(out)


# (sku, description, unit price in cents); 50 entries.
SKUS: tuple[tuple[str, str, int], ...] = _skus()
WAREHOUSES: tuple[str, ...] = ("RNO1", "ATL2", "DFW1", "CMH1")
