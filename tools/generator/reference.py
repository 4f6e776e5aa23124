"""Reference data of the fictional brand: names, countries, currencies, products, channels.

Every free-text spelling the generator writes into ``utm_source``, ``acquisition_channel`` and
ad ``channel`` is listed here, so the ``channel_mapping`` seed can be checked against it
(``free_text_channel_spellings()``).
"""

from __future__ import annotations

import numpy as np

FIRST_NAMES = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Emily",
    "Paul",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Sophie",
    "Lukas",
    "Léa",
    "Hugo",
    "Chloé",
    "José",
    "Zoë",
    "Björn",
    "Anna",
    "Marco",
    "Giulia",
    "Sean",
    "Aoife",
    "Oliver",
    "Amelia",
    "Jack",
    "Isla",
    "Pablo",
    "Lucía",
    "Jan",
    "Sanne",
    "Felix",
    "Mia",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Rossi",
    "Russo",
    "Ferrari",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Jansen",
    "deVries",
    "García",
    "Fernández",
    "Nowak",
    "Hall",
    "Allen",
    "Evans",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Collins",
]

# Countries: code, share of people, currency, UTC offset in winter / summer (minutes), cities.
COUNTRIES = (
    ("US", 0.40, "USD", -300, -240, ("New York", "Chicago", "Austin", "Seattle", "Denver")),
    ("CA", 0.08, "CAD", -300, -240, ("Toronto", "Montréal", "Vancouver")),
    ("GB", 0.14, "GBP", 0, 60, ("London", "Manchester", "Bristol", "Leeds")),
    ("DE", 0.10, "EUR", 60, 120, ("Berlin", "München", "Hamburg", "Köln")),
    ("FR", 0.07, "EUR", 60, 120, ("Paris", "Lyon", "Marseille")),
    ("NL", 0.05, "EUR", 60, 120, ("Amsterdam", "Utrecht")),
    ("ES", 0.04, "EUR", 60, 120, ("Madrid", "Barcelona")),
    ("IT", 0.03, "EUR", 60, 120, ("Milano", "Roma")),
    ("IE", 0.03, "EUR", 0, 60, ("Dublin", "Cork")),
    ("AU", 0.06, "AUD", 600, 600, ("Sydney", "Melbourne")),
)
COUNTRY_CODES = np.array([c[0] for c in COUNTRIES])
COUNTRY_WEIGHTS = np.array([c[1] for c in COUNTRIES]) / sum(c[1] for c in COUNTRIES)
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")
COUNTRY_CURRENCY = np.array([CURRENCIES.index(c[2]) for c in COUNTRIES])
COUNTRY_OFFSETS = np.array([[c[3], c[4]] for c in COUNTRIES])
# Rough units of each currency per USD: only to make local prices plausible (the warehouse
# converts with its own seed).
PRICE_FACTOR = np.array([1.0, 0.92, 0.79, 1.36, 1.52])
# Tax on top of the net amount, by country.
COUNTRY_TAX = np.array([0.07, 0.13, 0.20, 0.19, 0.20, 0.21, 0.21, 0.22, 0.23, 0.10])

EMAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "orange.fr",
    "free.fr",
    "btinternet.com",
    "proton.me",
    "hey.com",
)
WORK_DOMAINS = ("acme.com", "example.org", "initech.com", "globex.net", "umbrella.co.uk")

# Products: sku, name, category, base price in USD cents, popularity.
PRODUCTS = (
    ("COF-ESP-250", "Espresso Blend 250g", "coffee", 1290, 10),
    ("COF-ESP-1KG", "Espresso Blend 1kg, whole bean", "coffee", 3990, 4),
    ("COF-HOU-250", "House Filter Roast 250g", "coffee", 1190, 9),
    ("COF-ETH-250", "Ethiopia Yirgacheffe 250g", "coffee", 1590, 6),
    ("COF-COL-250", "Colombia Huila 250g", "coffee", 1490, 6),
    ("COF-DEC-250", "Swiss Water Decaf 250g", "coffee", 1390, 3),
    ("COF-SAM-4", "Single Origin Sampler (4 x 100g)", "coffee", 2490, 3),
    ("TEA-EAR-100", "Earl Grey 100g", "tea", 990, 4),
    ("TEA-SEN-100", "Sencha 100g", "tea", 1190, 3),
    ("TEA-CHA-100", "Masala Chai 100g", "tea", 1090, 3),
    ("TEA-MAT-30", "Ceremonial Matcha 30g", "tea", 2490, 2),
    ("EQP-V60", "Pour-over Dripper V60", "equipment", 2490, 2),
    ("EQP-GRD", "Hand Grinder", "equipment", 8900, 1),
    ("EQP-KET", "Gooseneck Kettle 1L", "equipment", 6900, 1),
    ("EQP-SCL", "Brew Scale", "equipment", 4500, 1),
    ("EQP-FIL", "Paper Filters (100)", "equipment", 690, 4),
    ("EQP-FRN", "French Press 8 cup", "equipment", 3490, 1),
    ("MRC-MUG", 'Mug "Good Morning"', "merch", 1800, 2),
    ("MRC-TOT", "Canvas Tote", "merch", 2200, 1),
    ("GFT-CRD-50", "Gift Card 50", "gift", 5000, 1),
)
PRODUCT_SKUS = np.array([p[0] for p in PRODUCTS])
PRODUCT_NAMES = np.array([p[1] for p in PRODUCTS])
PRODUCT_CATEGORIES = np.array([p[2] for p in PRODUCTS])
PRODUCT_PRICES_USD = np.array([p[3] for p in PRODUCTS])
PRODUCT_WEIGHTS = np.array([p[4] for p in PRODUCTS], dtype=float) / sum(p[4] for p in PRODUCTS)

# Subscription plans: name, interval, base price in USD cents.
PLANS = (
    ("Weekly Espresso", "week", 1290),
    ("Weekly Filter", "week", 1190),
    ("Coffee Club Monthly", "month", 2900),
    ("Coffee Club Monthly Duo", "month", 4900),
    ("Tea Club Monthly", "month", 2200),
    ("Coffee Club Annual", "year", 29900),
)
PLAN_WEIGHTS = np.array([0.08, 0.07, 0.45, 0.15, 0.1, 0.15])

# The true acquisition channels of people, as the marketing channels of docs/landing-contract.md, with each
# system's spellings. utm_source NULL = no UTM parameters (direct).
CHANNELS = (
    "paid_search",
    "paid_social",
    "email",
    "sms",
    "organic",
    "referral",
    "affiliate",
    "direct",
)
CHANNEL_WEIGHTS = np.array([0.22, 0.24, 0.08, 0.03, 0.18, 0.08, 0.05, 0.12])
UTM_SOURCES: dict[str, tuple[str, ...]] = {
    "paid_search": ("google", "bing", "adwords"),
    "paid_social": ("facebook", "fb", "instagram", "ig", "tiktok", "TikTok"),
    "email": ("klaviyo", "newsletter", "Email"),
    "sms": ("sms", "attentive"),
    "organic": ("google_organic", "seo"),
    "referral": ("referral", "refer-a-friend"),
    "affiliate": ("awin", "affiliate", "rakuten"),
    "direct": ("direct", "(direct)"),
}
ACQUISITION_CHANNELS: dict[str, tuple[str, ...]] = {
    "paid_search": ("Google Ads", "bing", "Google"),
    "paid_social": ("Facebook", "Meta Ads", "Instagram", "TikTok"),
    "email": ("Newsletter signup", "email"),
    "sms": ("SMS",),
    "organic": ("Organic Search", "organic"),
    "referral": ("Referral", "Refer-a-Friend"),
    "affiliate": ("Affiliate", "awin"),
    "direct": ("Direct", "direct"),
}
# Ad platforms: the spelling in the spend export, the channel, share of the budget, currency.
AD_CHANNELS = (
    ("Google Ads", "paid_search", 0.34, "USD"),
    ("bing", "paid_search", 0.05, "USD"),
    ("facebook", "paid_social", 0.18, "USD"),
    ("Meta Ads", "paid_social", 0.15, "EUR"),
    ("TikTok", "paid_social", 0.12, "USD"),
    ("Pinterest Ads", "paid_social", 0.04, "GBP"),
    ("Awin", "affiliate", 0.12, "EUR"),
)
# The Google export changed its channel spelling at the start of 2025 (a real-world nuisance).
GOOGLE_RENAMED = "google_ads"
SOCIAL_PLATFORMS = ("Instagram", "Facebook", "TikTok", "Pinterest", "YouTube")


def free_text_channel_spellings() -> dict[str, list[str]]:
    """Every free-text channel spelling the generator writes, by column, with its channel."""
    return {
        "utm_source": sorted({s for values in UTM_SOURCES.values() for s in values}),
        "acquisition_channel": sorted(
            {s for values in ACQUISITION_CHANNELS.values() for s in values}
        ),
        "ad_channel": sorted({a[0] for a in AD_CHANNELS} | {GOOGLE_RENAMED}),
    }
