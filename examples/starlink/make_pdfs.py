"""Generate the three PDF documents of the fictional Starlink-style help centre.

Run with the project's virtual environment (fpdf2 is required):

    /work/main/.venv/bin/python examples/starlink/make_pdfs.py

The PDFs are written into ``docs/`` next to this script and are committed, so
the examples work without fpdf2. All text is fictional sample content written
for grokassist's examples; it is not official documentation of any product.
Text is kept latin-1 safe so the built-in PDF core fonts can render it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

HERE = Path(__file__).resolve().parent
DOCS = HERE / "docs"
UPDATED = "2026-09-14"
FIXED_DATE = datetime(2026, 9, 14, 12, 0, 0, tzinfo=UTC)

# A document is a list of blocks: ("h1"|"h2"|"h3"|"p"|"li"|"num", text),
# ("table", [header_row, row, ...]) or ("break", "") for a page break.

QUICK_START = {
    "path": "setup/quick-start-guide.pdf",
    "title": "Quick Start Guide: Standard Kit and Mini Kit",
    "product": "all",
    "category": "setup",
    "blocks": [
        ("h1", "Quick Start Guide: Standard Kit and Mini Kit"),
        (
            "p",
            "This printed guide ships in the box with every kit. It gets you online in about 15 to 30 "
            "minutes. "
            "The first section covers the Standard Kit, the next page covers the Mini Kit, and the last page "
            "lists router lights, factory reset, safety information and where to get help. Full articles are "
            "in the help centre and in the "
            "Starlink app under Support.",
        ),
        ("h2", "Standard Kit: what is in the box"),
        ("li", "Standard dish (59 x 38 cm, 3.2 kg), motorized and self-aligning."),
        ("li", "Kickstand base."),
        (
            "li",
            "Dish cable: 15 m (50 ft) in kits with Router Gen 3; 23 m (75 ft) in older kits with Router Gen "
            "2.",
        ),
        ("li", "Router: Router Gen 3 (kits shipped since March 2024) or Router Gen 2 (older kits)."),
        ("li", "AC power cord, 1.8 m (Router Gen 3). The Router Gen 2 power cord is permanently attached."),
        ("h2", "Standard Kit setup in seven steps"),
        ("h3", "Step 1: Download the app"),
        (
            "p",
            "Install the Starlink app (iOS 16 or later, Android 11 or later) and sign in with the email "
            "address "
            "you used to order the kit.",
        ),
        ("h3", "Step 2: Choose a location"),
        (
            "p",
            "The dish needs a clear view of a wide cone of sky: a 100 degree field of view for the Standard "
            "Kit. "
            "In the Northern Hemisphere it tilts toward the north, in the Southern Hemisphere toward the "
            "south. "
            "Open Support > Check for Obstructions and scan the sky with your phone from the spot you have "
            "in "
            "mind. As a rule of thumb, stay at least 1.5 times the height of any tree or building (measured "
            "above the dish) away from it.",
        ),
        ("h3", "Step 3: Assemble the dish"),
        (
            "p",
            "Set the kickstand on flat, level ground. Push the mast into the kickstand until it clicks. "
            "Leave "
            "30 cm (12 in) of free space around the dish so the motors can tilt and rotate it.",
        ),
        ("h3", "Step 4: Connect the cable"),
        (
            "p",
            "Plug the dish cable into the port under the dish until it clicks, run it indoors, and plug the "
            "other "
            "end into the DISH port on the router. Do not cut, splice or extend the cable.",
        ),
        ("h3", "Step 5: Power up"),
        (
            "p",
            "Plug the router into a wall outlet (100-240 V AC). The router powers the dish through the "
            "cable; "
            "there is no separate power supply. The Standard Kit draws 50-75 W, up to 100 W when melting "
            "snow.",
        ),
        ("h3", "Step 6: Let the dish align"),
        (
            "p",
            "The dish tilts to vertical, checks its software and then turns itself toward the best part of "
            "the "
            "sky. This takes up to 15 minutes. Do not touch or move the dish while it aligns.",
        ),
        ("h3", "Step 7: Join the Wi-Fi"),
        (
            "p",
            "Join the Wi-Fi network named STARLINK (no password), open the app and choose your own network "
            "name "
            "and a password of at least 8 characters. Run Support > Speed Test to check your connection.",
        ),
        ("break", ""),
        ("h2", "Mini Kit quick start"),
        (
            "p",
            "The Mini Kit has its Wi-Fi router built into the dish and no motors. You aim it by hand with "
            "the "
            "app. Its field of view is 110 degrees and it draws 25-40 W (60 W peak).",
        ),
        ("num", "1. Find a spot with open sky and run Support > Check for Obstructions."),
        ("num", "2. Fold out the integrated kickstand. Weigh it down in winds above 40 km/h (25 mph)."),
        (
            "num",
            "3. Plug the 15 m DC cable into the dish and into the included 100 W USB-C power supply, then "
            "plug "
            "the supply into the wall. Phone and laptop chargers below 100 W will not work.",
        ),
        ("num", "4. Join the STARLINK Wi-Fi and open the app. Set a network name and password."),
        (
            "num",
            "5. Follow Aim Your Mini: lay your phone on the dish, rotate until the compass is centered, then "
            "tilt until the indicator turns green. The dish connects within about 5 minutes.",
        ),
        ("break", ""),
        ("h2", "Router lights at a glance"),
        (
            "table",
            [
                ["Light", "Router Gen 3", "Router Gen 2"],
                ["Solid white", "Online", "Has power (check the app for status)"],
                ["Pulsing white", "Starting, updating or pairing", "Not used"],
                ["Solid red", "No internet from the dish", "Not used"],
                ["Blinking red", "Factory reset in progress", "Not used"],
                ["Off", "No power", "No power"],
            ],
        ),
        ("h2", "Factory reset in brief"),
        (
            "li",
            "Router Gen 3: hold the pinhole button next to LAN 2 for 10 seconds, until the light blinks red.",
        ),
        (
            "li",
            "Router Gen 2: it has no reset button. Power-cycle it three times in a row (unplug, plug in, "
            "unplug "
            "as soon as the light comes on), then plug it in a fourth time and leave it.",
        ),
        ("h2", "Safety and care"),
        ("li", "Keep the router indoors at 0-40 C. Only the dish is weatherproof (IP67)."),
        (
            "li",
            "Never use the Standard Kit in a moving vehicle or on a boat underway. Stow it first with "
            "Settings > Starlink > Stow.",
        ),
        ("li", "Do not install near overhead power lines: keep at least 3 m (10 ft) away."),
        ("li", "Clear snow with a soft brush only. Never use hot water or metal tools on the dish."),
        ("h2", "Getting help"),
        (
            "p",
            "Open Support > Contact Support in the app. Tickets opened from the app include diagnostics "
            "from your kit. Your kit serial number starts with KIT and is printed under the dish. You have "
            "30 "
            "days from delivery to return the complete kit for a full refund.",
        ),
    ],
}

MOUNTING = {
    "path": "placement/mounting-and-installation-guide.pdf",
    "title": "Mounting and Installation Guide: Standard Kit",
    "product": "standard-kit",
    "category": "placement",
    "blocks": [
        ("h1", "Mounting and Installation Guide: Standard Kit"),
        (
            "p",
            "This guide explains how to install the Standard Kit dish permanently on a wall, roof or pole "
            "and "
            "how to route the cable into the building. Read it completely before you start. If you are not "
            "comfortable working at height or drilling into your home, hire a professional installer.",
        ),
        ("h2", "1. Plan the installation"),
        ("h3", "Survey the site"),
        (
            "p",
            "Use Support > Check for Obstructions in the app from the exact height and position where the "
            "dish "
            "will sit. Remember that the dish sees a 100 degree cone of sky and tilts toward the north in "
            "the "
            "Northern Hemisphere (south in the Southern Hemisphere). Trees grow and leaves return in spring.",
        ),
        ("h3", "Measure the cable route"),
        (
            "p",
            "Measure the full path from the dish to the router, including bends, the wall entry and any "
            "slack "
            "for a drip loop. The cable is 15 m (50 ft) with Router Gen 3 and 23 m (75 ft) with Router Gen "
            "2. "
            "A 45 m (150 ft) cable is available. The cable must not be cut, spliced or joined with couplers.",
        ),
        ("h3", "Tools and materials"),
        ("li", "Drill with a 5 mm pilot bit and a 22 mm (7/8 in) bit for the wall entry."),
        ("li", "Spirit level, stud finder, tape measure, pencil."),
        ("li", "Socket wrench or driver for lag screws; torque wrench for the Pipe Adapter."),
        ("li", "Outdoor-rated sealant (roof sealant for roof installations)."),
        ("li", "Cable clips rated for outdoor use; the Cable Routing Kit if you have one."),
        ("li", "A sturdy ladder, and a helper."),
        ("h2", "2. Safety first"),
        ("li", "Keep at least 3 m (10 ft) from overhead power lines, including with the ladder."),
        ("li", "Do not work on wet, icy or windy days, or on roofs steeper than you can safely stand on."),
        ("li", "Keep three points of contact on the ladder and never work alone."),
        ("li", "Unplug the router before connecting or disconnecting the dish cable."),
        ("h2", "3. Choose the mount"),
        (
            "table",
            [
                ["Mount", "Use it for", "Key figure"],
                ["Wall Mount", "Side walls, fascia", "25 cm standoff"],
                ["Pole Mount", "Clearing a roof edge", "Lifts dish 76 cm"],
                ["Pivot Mount", "Pitched roofs, ridges", "Pitch 0-40 degrees"],
                ["Pipe Adapter", "Existing poles", "Pole 38-64 mm diameter"],
            ],
        ),
        (
            "p",
            "Whichever mount you use, the mast must end up within 5 degrees of vertical, and the dish needs "
            "30 cm (12 in) of clear space in every direction for its motors. Once correctly mounted, the "
            "dish "
            "is rated for sustained winds up to 96 km/h (60 mph).",
        ),
        ("break", ""),
        ("h2", "4. Install the Wall Mount or Pole Mount"),
        (
            "num",
            "1. Locate a wooden stud or solid masonry with the stud finder. Never fix into siding or drywall "
            "alone.",
        ),
        (
            "num",
            "2. Hold the mount against the wall, check it with the spirit level and mark the four holes.",
        ),
        ("num", "3. Drill 5 mm pilot holes (or use masonry anchors in brick and concrete)."),
        ("num", "4. Apply sealant to each hole and fix the mount with the four supplied lag screws."),
        ("num", "5. Lift the dish out of the kickstand and push the mast into the mount until it clicks."),
        ("h2", "5. Install the Pivot Mount on a roof"),
        ("num", "1. Place the mount across the ridge or on the roof slope above a rafter."),
        (
            "num",
            "2. Adjust the pivot until the mast socket is vertical; it accepts roof pitches of 0-40 degrees.",
        ),
        (
            "num",
            "3. Put a bead of roof sealant under each of the four screw holes and screw into the rafter.",
        ),
        ("num", "4. Seal over each screw head, then insert the mast until it clicks."),
        ("h2", "6. Install the Pipe Adapter"),
        (
            "p",
            "Slide the Pipe Adapter over a rigid, vertical pole of 38-64 mm (1.5-2.5 in) diameter and "
            "tighten "
            "both clamp bolts to 10 N m. A pole that sways in the wind can trigger the Motors stuck (E-201) "
            "and Mast not near vertical (E-202) alerts.",
        ),
        ("h2", "7. Route the cable"),
        (
            "li",
            "Clip the cable every 50 cm along its route. Do not staple through it or clip it so tightly that "
            "it "
            "is pinched.",
        ),
        ("li", "Keep bends gentle: no tighter than a 5 cm (2 in) radius."),
        ("li", "Before the cable enters the building, form a drip loop (a U-shaped dip) so water runs off."),
        (
            "li",
            "Drill a 22 mm (7/8 in) hole, angled slightly upward from outside to inside. The connector fits "
            "through it. Seal the hole on both sides or use the Cable Routing Kit wall plate.",
        ),
        (
            "li",
            "Do not run the cable through a window or door that closes on it; crushed cables cause the Cable "
            "issue detected (E-402) alert and are not covered by the warranty.",
        ),
        ("h2", "8. Grounding"),
        (
            "p",
            "Follow local electrical codes. Roof-mounted masts are often required to be bonded to the "
            "building's "
            "grounding system with a copper conductor. If you are unsure, ask a licensed electrician.",
        ),
        ("h2", "9. Finish and check"),
        ("num", "1. Plug the cable into the router's DISH port and power up the router."),
        ("num", "2. Wait up to 15 minutes while the dish aligns itself."),
        ("num", "3. Reset the obstruction map: Settings > Advanced > Reset Obstruction Map."),
        ("num", "4. After 12 hours, check Statistics > Visibility. Under 1% obstructed time is ideal."),
        ("num", "5. Check the mount and cable clips again after the first storm."),
    ],
}

PLANS = {
    "path": "billing/service-plans-and-fair-use.pdf",
    "title": "Service Plans and Fair Use",
    "product": "all",
    "category": "billing",
    "blocks": [
        ("h1", "Service Plans and Fair Use"),
        (
            "p",
            "This document describes the service plans available for the Standard Kit and Mini Kit, how data "
            "priority works, where each plan may be used, and the rules that keep the network fair for "
            "everyone. Prices are in US dollars, exclude taxes, and are billed monthly in advance with no "
            "annual "
            "contract.",
        ),
        ("h2", "1. Plans"),
        (
            "table",
            [
                ["Plan", "Price / month", "Data", "Priority"],
                ["Residential", "$120", "Unlimited", "Standard"],
                ["Residential Lite", "$80", "Unlimited", "Deprioritized"],
                ["Roam 50 GB", "$50", "50 GB, then 1 Mbps", "Deprioritized"],
                ["Roam Unlimited", "$165", "Unlimited", "Standard"],
                ["Maritime 50 GB", "$250", "50 GB priority", "Priority"],
                ["Maritime 1 TB", "$1,000", "1 TB priority", "Priority"],
                ["Standby Mode", "$5", "Up to 500 kbps", "Lowest"],
            ],
        ),
        ("h3", "Extra data"),
        (
            "li",
            "Roam 50 GB: after 50 GB in a billing cycle, speeds drop to 1 Mbps. Extra data costs $10 per 10 "
            "GB.",
        ),
        (
            "li",
            "Maritime: after the priority allowance, service continues as deprioritized data. Extra priority "
            "data costs $2 per GB.",
        ),
        ("li", "Unused data and top-ups expire at the end of each billing cycle. They do not roll over."),
        ("h2", "2. How data priority works"),
        (
            "p",
            "Most of the time there is enough capacity for everyone and all plans see similar speeds. When a "
            "cell is congested, usually during the evening peak from about 7 pm to 11 pm local time, traffic "
            "is "
            "served in this order: priority data (Maritime), then standard data (Residential, Roam "
            "Unlimited), "
            "then deprioritized data (Residential Lite, Roam 50 GB, Maritime after the allowance), and "
            "finally "
            "Standby Mode.",
        ),
        (
            "p",
            "We do not cap Residential or Roam Unlimited data, and we do not block or slow down specific "
            "applications, websites or services. Network management is applied by priority class only, and "
            "only while a cell is congested.",
        ),
        ("h2", "3. Where each plan may be used"),
        (
            "li",
            "Residential and Residential Lite: only at the registered service address. Elsewhere, service is "
            "limited to low speeds and the app shows Unexpected location (E-601). Not for use in motion.",
        ),
        (
            "li",
            "Roam plans: anywhere service is available on land, on inland waters, and at sea within 22 km "
            "(12 nautical miles) of the coast. Use in a country other than the account's home country is "
            "limited to 2 consecutive months.",
        ),
        ("li", "Maritime plans: everywhere, including the open ocean with Ocean Mode turned on."),
        (
            "li",
            "In-motion use is included with Roam and Maritime plans when using an approved kit: the Mini Kit "
            "on "
            "the Mini Vehicle Mount or a fixed marine mount. The Standard Kit must not be used in motion on "
            "any plan.",
        ),
        ("break", ""),
        ("h2", "4. Acceptable use"),
        (
            "p",
            "Service is for the account holder's own household, travel or vessel. The following are not "
            "allowed:",
        ),
        ("li", "Reselling service, or sharing it with other households for payment."),
        ("li", "Running a paid public Wi-Fi hotspot without a business agreement."),
        ("li", "Using a Residential plan permanently at an address other than the service address."),
        ("li", "Attacks on networks or systems, sending spam, or any unlawful activity."),
        (
            "li",
            "Tampering with the dish, router software or the network to bypass location or priority rules.",
        ),
        (
            "p",
            "We may contact you, switch your plan, or suspend service for repeated or serious breaches. "
            "We always try to contact you first by email.",
        ),
        ("h2", "5. Pausing, changing and cancelling"),
        (
            "li",
            "Standby Mode costs $5 per month and starts at the end of the current billing cycle. Residential "
            "plans can stay in Standby for up to 6 consecutive months; Roam and Maritime have no limit.",
        ),
        (
            "li",
            "Upgrades apply immediately with a prorated charge; downgrades apply from the next billing date.",
        ),
        (
            "li",
            "Cancelling ends service at the end of the current billing cycle. Partial months are not "
            "refunded.",
        ),
        (
            "li",
            "New kits have a 30-day trial from delivery: return the complete kit for a refund of the kit, "
            "the "
            "original shipping and the first month of service.",
        ),
        ("h2", "6. Outage credits"),
        (
            "p",
            "If a network outage listed on Support > Service Status lasts 24 consecutive hours or more in "
            "your "
            "area, you receive a credit of 1/30 of your monthly plan price for each full day. Credits are "
            "applied automatically to the next invoice. They do not cover obstructions, local power cuts, "
            "damaged equipment, planned maintenance announced 48 hours ahead, or paused and suspended "
            "service.",
        ),
        ("h2", "7. Changes to plans and prices"),
        (
            "p",
            "We give at least 30 days' notice by email before changing the price or terms of your plan. If "
            "you "
            "do not accept a change, you can cancel before it takes effect.",
        ),
    ],
}


class HelpPDF(FPDF):
    def __init__(self, doc_title: str) -> None:
        super().__init__(format="A4")
        self.doc_title = doc_title
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(auto=True, margin=20)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 6, self.doc_title, align="L")
        self.ln(10)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 6, f"Fictional sample document - updated {UPDATED} - page {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def _table(pdf: FPDF, rows: list[list[str]]) -> None:
    pdf.set_font("Helvetica", "", 9.5)
    with pdf.table(
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        line_height=5.5,
        text_align="LEFT",
    ) as table:
        for row in rows:
            r = table.row()
            for cell in row:
                r.cell(cell)
    pdf.ln(3)


def build(doc: dict[str, Any]) -> Path:
    pdf = HelpPDF(doc["title"])
    pdf.set_title(doc["title"])
    pdf.set_author("grokassist examples (fictional sample help centre)")
    pdf.set_subject(f"category={doc['category']}")
    pdf.set_keywords(f"product={doc['product']}; locale=en-US; updated={UPDATED}; category={doc['category']}")
    pdf.set_creator("examples/starlink/make_pdfs.py")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_lang("en-US")
    pdf.add_page()
    width = pdf.epw
    for kind, content in doc["blocks"]:
        if kind == "h1":
            pdf.set_font("Helvetica", "B", 20)
            pdf.multi_cell(width, 9, content, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        elif kind == "h2":
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(width, 7, content, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "h3":
            pdf.set_font("Helvetica", "B", 11.5)
            pdf.multi_cell(width, 6, content, new_x="LMARGIN", new_y="NEXT")
        elif kind == "p":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(width, 5.5, content, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind in ("li", "num"):
            pdf.set_font("Helvetica", "", 10.5)
            bullet = "-" if kind == "li" else ""
            pdf.set_x(pdf.l_margin + 4)
            text = f"{bullet} {content}".strip()
            pdf.multi_cell(width - 4, 5.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.8)
        elif kind == "break":
            pdf.add_page()
        elif kind == "table":
            _table(pdf, content)
        else:  # pragma: no cover - guard against typos in the block list
            raise ValueError(f"unknown block kind: {kind}")
    out: Path = DOCS / str(doc["path"])
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def main() -> None:
    for doc in (QUICK_START, MOUNTING, PLANS):
        path = build(doc)
        print(f"wrote {path.relative_to(HERE)}")


if __name__ == "__main__":
    main()
