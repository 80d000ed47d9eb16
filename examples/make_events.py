#!/usr/bin/env python3
"""Writes examples/events.jsonl: a small, readable market story for `leadscore replay`.

- acme (software, NL): a buying committee ramps up over three weeks; the champion
  goes very_high, the account reaches tier A. Then it goes quiet (replay with --until
  to watch decay demote it).
- globex (retail, US): noise - a few email clicks, never routed.
- initech (BR): not a target country - disqualified from the start, whatever it does.
- umbrella (DACH): whitepapers at half weight; a gmail lead.
- hooli (software, GB, an ideal customer): its mail-security scanner clicks every link
  of a campaign mail to three people in 0.15 s (21 events). Unfiltered, that would route
  all three to medium and the account to A (coordinated outreach within 24 h); the
  `mail_scanner` filter drops the burst whole and nothing routes.
- a crawler's pricing page view marked bot=true: dropped by `known_bots`.
- one duplicate event, one event of a type the model does not score, one Forget.
"""
import datetime as dt
import json
import pathlib

T0 = int(dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.timezone.utc).timestamp() * 1000)
DAY = 86_400_000
HOUR = 3_600_000
lines = []
n = 0


def event(lead, account, typ, at, **attrs):
    global n
    n += 1
    e = {"event_id": f"ev-{n:04d}", "lead_id": lead, "account_id": account, "type": typ, "occurred_at_ms": at}
    if attrs:
        e["attributes"] = attrs
    lines.append({"event": e})
    return e


def lead(lead_id, account, role, seniority, title, domain, at):
    lines.append({"lead": {"lead_id": lead_id, "account_id": account, "role": role, "seniority": seniority,
                           "title": title, "country": "NL", "email_domain": domain, "updated_at_ms": at}})


def account(account_id, name, industry, employees, country, market, at):
    lines.append({"account": {"account_id": account_id, "name": name, "industry": industry,
                              "employee_count": employees, "country": country, "market": market,
                              "updated_at_ms": at}})


account("acme", "Acme BV", "software", 1200, "NL", "Benelux", T0)
account("globex", "Globex Retail", "retail", 80, "US", "NA", T0)
account("initech", "Initech", "software", 900, "BR", "LATAM", T0)
account("umbrella", "Umbrella GmbH", "fintech", 3000, "DE", "DACH", T0)
lead("acme-ana", "acme", "champion", "vp", "VP Engineering", "acme.example", T0)
lead("acme-bob", "acme", "economic_buyer", "c_level", "CFO", "acme.example", T0)
lead("acme-cy", "acme", "technical_evaluator", "director", "Director IT", "acme.example", T0)
lead("acme-dee", "acme", "procurement", "manager", "Buyer", "acme.example", T0)
lead("initech-ivo", "initech", "champion", "vp", "VP Ops", "initech.example", T0)
lead("umbrella-uli", "umbrella", "end_user", "manager", "Analyst", "gmail.com", T0)
account("hooli", "Hooli Ltd", "software", 1500, "GB", "UKI", T0)
lead("hooli-hal", "hooli", "economic_buyer", "vp", "CFO", "hooli.example", T0)
lead("hooli-ina", "hooli", "champion", "director", "Director IT", "hooli.example", T0)
lead("hooli-jo", "hooli", "technical_evaluator", "manager", "Engineer", "hooli.example", T0)

# Week 1: the champion reads pricing and whitepapers; noise elsewhere.
event("acme-ana", "acme", "whitepaper_download", T0 + 1 * HOUR, campaign="q4-roi")
event("globex-gus", "globex", "email_click", T0 + 2 * HOUR)
event("acme-ana", "acme", "pricing_page_view", T0 + 1 * DAY, url="/pricing")
dup = event("acme-ana", "acme", "pricing_page_view", T0 + 1 * DAY + 5 * HOUR, url="/pricing")
lines.append({"event": dict(dup)})  # redelivered: counted once
event("initech-ivo", "initech", "product_trial_started", T0 + 2 * DAY)
event("umbrella-uli", "umbrella", "whitepaper_download", T0 + 2 * DAY)
event("acme-ana", "acme", "webinar_attended", T0 + 3 * DAY, campaign="q4-webinar")
event("globex-gus", "globex", "email_click", T0 + 4 * DAY)
event("acme-ana", "acme", "page_scroll", T0 + 4 * DAY)  # not a signal of the model: skipped

# Week 2: the committee joins.
event("acme-bob", "acme", "pricing_page_view", T0 + 8 * DAY)
event("acme-bob", "acme", "webinar_attended", T0 + 9 * DAY)
event("acme-cy", "acme", "product_trial_started", T0 + 9 * DAY + 3 * HOUR)
event("acme-ana", "acme", "pricing_page_view", T0 + 10 * DAY)
event("acme-ana", "acme", "product_trial_started", T0 + 10 * DAY + 2 * HOUR)
event("initech-ivo", "initech", "pricing_page_view", T0 + 10 * DAY)
event("umbrella-uli", "umbrella", "whitepaper_download", T0 + 11 * DAY)
# A campaign mail reaches three people at hooli; the mail gateway's scanner opens every
# link in it before they do: 7 links x 3 people, a few milliseconds apart.
links = [("email_click", "/webinar"), ("pricing_page_view", "/pricing"), ("email_click", "/blog"),
         ("whitepaper_download", "/roi.pdf"), ("pricing_page_view", "/pricing/enterprise"),
         ("email_click", "/unsubscribe-preferences"), ("email_click", "/contact")]
scan_at = T0 + 12 * DAY + 14 * HOUR
for i, (typ, url) in enumerate(links):
    for j, person in enumerate(["hooli-hal", "hooli-ina", "hooli-jo"]):
        event(person, "hooli", typ, scan_at + (i * 3 + j) * 7, url=url, campaign="q4-roi")
# A crawler that says what it is.
event("acme-dee", "acme", "pricing_page_view", T0 + 12 * DAY, url="/pricing", bot="true")

# Week 3: decision time.
event("acme-bob", "acme", "pricing_page_view", T0 + 15 * DAY)
event("acme-dee", "acme", "pricing_page_view", T0 + 15 * DAY + 1 * HOUR)
event("acme-ana", "acme", "pricing_page_view", T0 + 16 * DAY)
event("acme-ana", "acme", "pricing_page_view", T0 + 16 * DAY + 2 * HOUR, url="/pricing/enterprise")
event("acme-ana", "acme", "webinar_attended", T0 + 17 * DAY, campaign="q4-deep-dive")
event("acme-cy", "acme", "webinar_attended", T0 + 16 * DAY + 4 * HOUR)
event("globex-gus", "globex", "unsubscribe", T0 + 17 * DAY)
lines.append({"forget": {"lead_id": "globex-gus", "account_id": "globex"}})
event("acme-ana", "acme", "email_click", T0 + 18 * DAY)

out = pathlib.Path(__file__).with_name("events.jsonl")
out.write_text("".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines))
print(f"wrote {len(lines)} records to {out}")
