"""Vocabularies the demo data is drawn from: names, companies, places, notes.

Tuples (not sets) throughout: their order is part of what makes the seed deterministic.
"""

from __future__ import annotations

# fmt: off
FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sophia", "Lucas", "Mia", "Ethan",
    "Amelia", "James", "Harper", "Benjamin", "Chloé", "Daniel", "Zoë", "Henry", "Priya", "Arjun",
    "Mei", "Wei", "Yuki", "Haruto", "Fatima", "Omar", "Aisha", "Kwame", "Ngozi", "Sven",
    "Ingrid", "Søren", "Björn", "Łukasz", "Anna", "José", "María", "Lucía", "Diego", "Camila",
    "Grace", "Samuel", "Isabella", "David", "Nora", "Elijah", "Leah", "Gabriel", "Hannah", "Ravi",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernández", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Pérez", "Thompson", "White", "Harris", "Sánchez",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Nguyen", "Kim", "Patel", "Chen", "Müller", "Schmidt", "O'Brien", "Nuñez", "Kowalski",
    "Tanaka", "Okafor", "Mensah", "Larsen", "Dubois", "Rossi",
)
COMPANY_WORDS = (
    "Northwind", "Contoso", "Blue Harbor", "Summit", "Redwood", "Lumen", "Ironclad", "Brightline",
    "Cobalt", "Evergreen", "Silverline", "Granite", "Nimbus", "Pioneer", "Atlas", "Beacon",
    "Cascade", "Horizon", "Keystone", "Meridian", "Orchard", "Polaris", "Quantum", "Riverbend",
    "Sterling", "Tidewater", "Vantage", "Willow", "Zenith", "Aurora", "Bluebird", "Crestview",
    "Driftwood", "Foxglove", "Harborview", "Juniper", "Lakeshore", "Maple", "Oakridge", "Pinecone",
)
COMPANY_KINDS = (
    "Logistics", "Analytics", "Health", "Robotics", "Foods", "Capital", "Energy", "Labs",
    "Software", "Systems", "Outfitters", "Media", "Bank", "Insurance", "Pharma", "Studios",
    "Freight", "Hospitality", "Manufacturing", "Telecom", "Biotech", "Realty", "Retail",
    "Consulting", "Security",
)
LEGAL_SUFFIXES = ("", "", "", " Inc.", " LLC", " Ltd", " GmbH", " Corp.", " S.A.")
TLDS = (".com", ".com", ".com", ".io", ".co", ".de", ".co.uk", ".net")
TITLES = (
    "VP of Sales", "Account Executive", "Chief Financial Officer", "Head of Operations",
    "Procurement Manager", "Software Engineer", "Director of Marketing", "CEO", "CTO",
    "Customer Success Manager", "Office Manager", "IT Director", "Controller", "Buyer",
    "Product Manager", "Sales Development Representative",
)
LEAD_SOURCES = (
    "Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Word of mouth",
    "Other",
)
SF_INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Finance", "Food & Beverage", "Healthcare", "Hospitality", "Insurance",
    "Manufacturing", "Media", "Not For Profit", "Retail", "Shipping", "Technology",
    "Telecommunications", "Transportation", "Utilities", "Other",
)
SF_ACCOUNT_TYPES = (
    "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
    "Installation Partner", "Technology Partner", "Other",
)
HS_LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
    "customer", "evangelist", "other",
)
HS_INDUSTRIES = (
    "COMPUTER_SOFTWARE", "INFORMATION_TECHNOLOGY_AND_SERVICES", "MARKETING_AND_ADVERTISING",
    "FINANCIAL_SERVICES", "HOSPITAL_HEALTH_CARE", "RETAIL", "LOGISTICS_AND_SUPPLY_CHAIN",
    "HIGHER_EDUCATION", "CONSUMER_GOODS", "REAL_ESTATE", "BIOTECHNOLOGY", "AUTOMOTIVE",
)
# city, state, postal codes, country name, ISO country code, phone prefix
PLACES = (
    ("San Francisco", "CA", ("94103", "94107", "94110"), "United States", "US", "+1 415"),
    ("Austin", "TX", ("78701", "78704"), "United States", "US", "+1 512"),
    ("New York", "NY", ("10001", "10013", "10018"), "United States", "US", "+1 212"),
    ("Chicago", "IL", ("60601", "60607"), "United States", "US", "+1 312"),
    ("Seattle", "WA", ("98101", "98109"), "United States", "US", "+1 206"),
    ("Boston", "MA", ("02110", "02116"), "United States", "US", "+1 617"),
    ("Denver", "CO", ("80202", "80205"), "United States", "US", "+1 303"),
    ("Atlanta", "GA", ("30303", "30308"), "United States", "US", "+1 404"),
    ("Toronto", "ON", ("M5V 2T6", "M4W 1A8"), "Canada", "CA", "+1 416"),
    ("London", None, ("EC1A 1BB", "SW1A 2AA", "N1 9GU"), "United Kingdom", "GB", "+44 20"),
    ("Dublin", None, ("D02 X285", "D04 V1W8"), "Ireland", "IE", "+353 1"),
    ("Berlin", None, ("10115", "10997"), "Germany", "DE", "+49 30"),
    ("München", "BY", ("80331", "80469"), "Germany", "DE", "+49 89"),
    ("Paris", None, ("75002", "75011"), "France", "FR", "+33 1"),
    ("Sydney", "NSW", ("2000", "2010"), "Australia", "AU", "+61 2"),
    ("Tokyo", None, ("100-0005", "150-0002"), "Japan", "JP", "+81 3"),
    ("São Paulo", "SP", ("01310-100", "04538-132"), "Brazil", "BR", "+55 11"),
)
STREETS = (
    "Market St", "Main Street", "Congress Ave", "Broadway", "Pine St", "Harbor Blvd",
    "Elm Street", "Oak Avenue", "King Street West", "Friedrichstraße", "Rue de Rivoli",
    "George Street", "Old Street", "Avenida Paulista",
)
NOTE_SENTENCES = (
    "Met at the spring trade show; interested in the enterprise tier.",
    "Prefers email over phone — do not call before 10am local time.",
    "Renewal due next quarter, budget approved by finance.",
    "Asked for a security questionnaire (SOC 2 report sent on request).",
    "Champion left the company; new contact introduced by the CFO.",
    "Migrating from a legacy on-prem system, timeline slipping.",
    "Billing disputes resolved; credit applied to the next invoice.",
    "Needs multi-currency invoicing for the EU subsidiary.",
    "Pilot with 25 seats went well ✓ expanding to the whole team.",
    "Procurement requires a signed DPA before any data leaves the EU.",
    "Very responsive; decision maker for all tooling purchases.",
    "Evaluating two competitors; price is the main concern.",
    "Uses the API heavily, asked about higher rate limits.",
    "Executive sponsor: « très satisfait » after the last QBR.",
    "Holiday freeze from mid-December; schedule the kickoff for January.",
    "Integration with their ERP is owned by an outside agency.",
)
# fmt: on
