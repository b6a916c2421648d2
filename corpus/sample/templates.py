"""Machine-made page families of the sample: template pages (one template, different names and
numbers, as shops, job boards and weather sites produce) and keyword-stuffed spam."""

from __future__ import annotations

import random

CITIES = [
    "Lisbon",
    "Porto",
    "Lyon",
    "Nantes",
    "Leipzig",
    "Dresden",
    "Utrecht",
    "Ghent",
    "Bologna",
    "Turin",
    "Valencia",
    "Seville",
    "Krakow",
    "Brno",
    "Graz",
    "Basel",
    "Aarhus",
    "Malmo",
    "Tampere",
    "Cork",
]
BRANDS = ["Nordlicht", "Verano", "Kestrel", "Alder", "Monteval", "Brightwater", "Oakridge", "Solenne"]
PRODUCTS = [
    ("kettle", "1.7 litre", "a stainless steel body and a limescale filter"),
    ("desk lamp", "adjustable arm", "a warm white LED and a touch dimmer"),
    ("backpack", "28 litre", "a padded laptop sleeve and water resistant fabric"),
    ("rice cooker", "1.0 litre", "a keep-warm mode and a removable non-stick bowl"),
    ("office chair", "mesh back", "adjustable lumbar support and height"),
    ("bicycle light set", "USB rechargeable", "a 400 lumen front light and a rear light"),
]
ROLES = [
    ("Data Engineer", "build and maintain batch and streaming pipelines"),
    ("Nurse", "care for patients on a busy surgical ward"),
    ("Electrician", "install and repair wiring in residential buildings"),
    ("Primary School Teacher", "teach a class of seven-year-olds"),
    ("Warehouse Supervisor", "coordinate a team of twelve on the early shift"),
    ("Accountant", "prepare monthly reports and annual statements"),
]
COMPANIES = [
    "Harbor Logistics",
    "Greenfield Health",
    "Bright Circuits",
    "City Schools Trust",
    "Northwind Foods",
]
TEAMS = [
    "Riverside United",
    "Old Town Rovers",
    "Harbour City",
    "Northgate Athletic",
    "Valley Wanderers",
    "Eastfield Rangers",
    "St. Mary's",
    "Lakeside Town",
]
CONDITIONS = ["sunny", "partly cloudy", "overcast", "light rain", "showers", "foggy", "windy", "clear"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DISTRICTS = ["Old Town", "Riverside", "University Quarter", "Harbour", "Station District", "Green Hill"]


def product(rng: random.Random) -> tuple[str, list[str]]:
    brand, (kind, spec, feature) = rng.choice(BRANDS), rng.choice(PRODUCTS)
    model = f"{rng.choice('ABKMSX')}{rng.randint(100, 990)}"
    price, days, rating, reviews = (
        rng.randint(19, 249) + 0.99,
        rng.randint(1, 5),
        rng.randint(35, 49) / 10,
        rng.randint(3, 900),
    )
    title = f"{brand} {model} {kind} - {spec}"
    return title, [
        f"The {brand} {model} is a {spec} {kind} with {feature}. It is available in three colours and comes "
        f"with a two year warranty.",
        f"Price: {price:.2f} EUR including VAT. Free delivery within {days} working days. Customers rate "
        f"the {brand} {model} {rating} out of 5 based on {reviews} reviews.",
        f"In the box: {brand} {model} {kind}, quick start guide, warranty card. Questions about the "
        f"{kind}? Our customer service team answers within one working day.",
    ]


def weather(rng: random.Random) -> tuple[str, list[str]]:
    city, now = rng.choice(CITIES), rng.randint(-4, 31)
    cond = rng.choice(CONDITIONS)
    start = rng.randrange(7)
    forecast = [
        f"{DAYS[(start + i) % 7]}: {rng.choice(CONDITIONS)}, high {now + rng.randint(-3, 4)} degrees, "
        f"low {now - rng.randint(4, 9)} degrees."
        for i in range(1, 6)
    ]
    return f"Weather in {city}: {now} degrees and {cond}", [
        f"Current conditions in {city}: {cond} with a temperature of {now} degrees Celsius. Wind from the "
        f"{rng.choice(['north', 'south', 'east', 'west'])} at {rng.randint(3, 40)} km/h, humidity "
        f"{rng.randint(30, 95)} percent.",
        "Five-day forecast. " + " ".join(forecast),
        f"Sunrise in {city} is at {rng.randint(5, 8)}:{rng.randint(10, 59)} and sunset at "
        f"{rng.randint(16, 21)}:{rng.randint(10, 59)}. Forecasts are updated every three hours.",
    ]


def job(rng: random.Random) -> tuple[str, list[str]]:
    (role, duty), company, city = rng.choice(ROLES), rng.choice(COMPANIES), rng.choice(CITIES)
    low = rng.randint(28, 70) * 1000
    return f"{role} at {company} in {city}", [
        f"{company} is looking for a {role} to join our team in {city}. In this role you will {duty}, "
        f"working closely with colleagues across the organisation.",
        f"We offer a permanent contract, {rng.randint(25, 30)} days of annual leave, flexible working hours "
        f"and a salary between {low:,} and {low + rng.randint(5, 20) * 1000:,} EUR per year, depending on "
        "experience.",
        f"To apply, send your CV and a short cover letter by the {rng.randint(1, 28)}th of next month. "
        f"Reference number {rng.randint(10000, 99999)}. We welcome applications from everyone.",
    ]


def match(rng: random.Random) -> tuple[str, list[str]]:
    home, away = rng.sample(TEAMS, 2)
    hs, as_ = rng.randint(0, 4), rng.randint(0, 4)
    result = "drew" if hs == as_ else ("beat" if hs > as_ else "lost to")
    return f"{home} {hs}-{as_} {away}: match report", [
        f"{home} {result} {away} {hs}-{as_} in front of {rng.randint(800, 24000):,} spectators on Saturday "
        f"afternoon.",
        f"The first goal came in the {rng.randint(3, 44)}th minute after a corner, and the second half "
        f"was more open, with both sides creating chances. {away} had {rng.randint(35, 65)} percent of "
        "possession.",
        f"{home} now sit {rng.randint(1, 18)}th in the table. Their next game is away at "
        f"{rng.choice(TEAMS)} in two weeks.",
    ]


def apartment(rng: random.Random) -> tuple[str, list[str]]:
    rooms, district, city = rng.randint(1, 5), rng.choice(DISTRICTS), rng.choice(CITIES)
    size = rooms * rng.randint(22, 32)
    return f"{rooms}-room apartment in {district}, {city}", [
        f"Bright {rooms}-room apartment of {size} square metres on the {rng.randint(1, 7)}th floor in the "
        f"{district} district of {city}.",
        f"Monthly rent {rng.randint(6, 24) * 100} EUR plus {rng.randint(12, 30) * 10} EUR service charges. "
        f"Available from the {rng.randint(1, 28)}th of next month. "
        f"{'Balcony facing south.' if rng.random() < 0.5 else 'Lift and cellar storage.'}",
        f"The tram stop is {rng.randint(2, 12)} minutes on foot. Viewings by appointment; please quote "
        f"listing number {rng.randint(1000, 9999)}.",
    ]


FAMILIES = {"product": product, "weather": weather, "job": job, "match": match, "apartment": apartment}

SPAM_KEYWORDS = [
    "cheap flights",
    "best casino bonus",
    "weight loss pills",
    "free followers",
    "payday loans",
    "replica watches",
    "crypto signals",
    "essay writing service",
    "cheap hotels",
    "seo backlinks",
]


def spam(rng: random.Random) -> tuple[str, list[str]]:
    """Keyword-stuffed text in the shapes spam takes: repeated phrases, link lists, shouting."""
    kw = rng.choice(SPAM_KEYWORDS)
    others = rng.sample(SPAM_KEYWORDS, 4)
    shape = rng.randrange(3)
    if shape == 0:
        stuffed = " ".join(f"{rng.choice(['best', 'cheap', 'top', 'buy', 'free'])} {kw}" for _ in range(60))
        paragraphs = [stuffed, f"{kw} {kw} {kw} online now. {kw} 2024. {kw} discount. {kw} deals."]
    elif shape == 1:
        paragraphs = [f"CLICK HERE FOR {k.upper()}!!!" for k in [kw, *others, kw, kw]]
        paragraphs += [f"{k} | {kw} | {k} cheap | {k} free" for k in others]
    else:
        paragraphs = [
            f"Looking for {kw}? We have the best {kw} and the cheapest {kw}. Our {kw} is the number one "
            f"{kw} site for {kw}. Get {kw} today and save on {kw}. {kw} {kw} {kw}.",
            " ".join(f"{k} {k} {k}" for k in others * 3),
            f"Related searches: {kw} near me, {kw} reviews, {kw} 2024, {kw} free trial, {kw} coupon.",
        ]
    return f"{kw.title()} - Best {kw.title()} Cheap {kw.title()} 2024", paragraphs
