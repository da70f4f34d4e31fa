"""Generate N distinct articles in the shape of conflict reporting, as JSONL (our own text).

Varied actors, weapons, places, counts, times and statements, drawn from the catalogues with a
seeded random generator, so the same N gives the same corpus.

    .venv/bin/python bench/corpus.py 1000 > corpus.jsonl
"""

from __future__ import annotations

import json
import random
import sys

PAIRS = [("Russia", "Ukraine", "Russian", "Ukrainian"), ("Ukraine", "Russia", "Ukrainian", "Russian"),
         ("Israel", "Lebanon", "Israeli", "Lebanese"), ("Iran", "Israel", "Iranian", "Israeli"),
         ("the Houthis", "Israel", "Houthi", "Israeli"), ("Sudan", "Chad", "Sudanese", "Chadian"),
         ("India", "Pakistan", "Indian", "Pakistani"), ("Azerbaijan", "Armenia", "Azerbaijani", "Armenian")]
PLACES = {"Ukraine": ["Kharkiv", "Odesa", "the Kyiv region", "Zaporizhzhia", "Dnipro", "Sumy"],
          "Russia": ["the Kursk region", "the Belgorod region", "Bryansk", "Rostov", "Crimea"],
          "Israel": ["Haifa", "Tel Aviv", "Eilat", "the Golan Heights"],
          "Lebanon": ["Beirut", "Tyre", "southern Lebanon"], "Chad": ["Abeche"], "Sudan": ["Khartoum", "El Fasher"],
          "Pakistan": ["Lahore", "Islamabad"], "India": ["Jammu", "Srinagar"], "Armenia": ["Yerevan"],
          "Azerbaijan": ["Baku"], "Iran": ["Isfahan", "Tehran"]}
WEAPONS = ["Shahed-136", "Iskander-M", "Kh-101", "Kalibr", "HIMARS", "ATACMS", "Storm Shadow", "Lancet",
           "Bayraktar TB2", "Fateh-110", "Burkan", "BrahMos", "Grad", "Geran-2", "Kinzhal", "Neptune"]
AIR_DEFENCE = ["S-300", "S-400", "Patriot", "Iron Dome", "NASAMS", "IRIS-T", "Pantsir", "Buk", "David's Sling"]
OUTLETS = ["Reuters", "the Associated Press", "AFP", "Al Jazeera", "the BBC", "Interfax"]
DAYS = ["on Monday", "on Tuesday", "overnight", "late on Friday", "on Sunday", "early on Wednesday"]


def article(i: int, rng: random.Random) -> dict:
    attacker, defender, adj_a, adj_d = rng.choice(PAIRS)
    place = rng.choice(PLACES.get(defender.replace("the ", ""), ["the capital"]))
    weapon, interceptor = rng.choice(WEAPONS), rng.choice(AIR_DEFENCE)
    launched = rng.randint(5, 90)
    downed = rng.randint(1, launched)
    killed = rng.randint(0, 12)
    day = rng.choice(DAYS)
    outlet = rng.choice(OUTLETS)
    body = [
        f"{attacker.capitalize() if attacker.startswith('the') else attacker} launched {launched} "
        f"{weapon} {rng.choice(['drones', 'missiles', 'rockets'])} at {place} {day}, {adj_d} officials said.",
        f"The {adj_d} air force said its {interceptor} systems shot down {downed} of them over {place}.",
        f"At least {killed} people were killed and dozens were wounded, the regional governor said, "
        f"according to preliminary reports.",
        f"{attacker.capitalize() if attacker.startswith('the') else attacker} denied targeting civilians "
        f"and accused {defender} of staging the attack, {outlet} reported.",
        "The United Nations urged both sides to protect civilians, while the European Union called for "
        "an immediate ceasefire.",
        f"Analysts said the strike on {place} was the largest in weeks. Report number {i}.",
    ]
    return {"id": f"bench-{i}", "title": f"{adj_a} strike on {place} ({i})", "source": "kg bench",
            "published": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "text": " ".join(body)}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    write_corpus(n, sys.stdout)


def write_corpus(n: int, out) -> None:
    rng = random.Random(20241128)
    for i in range(n):
        out.write(json.dumps(article(i, rng)) + "\n")


if __name__ == "__main__":
    main()
