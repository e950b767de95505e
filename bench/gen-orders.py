#!/usr/bin/env python3
"""Seed of the order benchmark (bench/orders.sh): the demo store's settings,
customers and catalog (sim/seed/demo-bigcommerce.json) with N generated paid
orders instead of the demo's, and the store's request quota set.

    bench/gen-orders.py N FIRST_ID QUOTA WINDOW_MS OUT.json

The catalog gets categories (the demo seed has none), so that the
benchmark's mapping can be what a finance team writes: revenue by category,
a few SKU exceptions, categories nobody mapped (merchandising ones: best
sellers, gifts, kitchen) whose products fall to the default revenue account,
and clearing by gateway with one gateway left unmapped. Orders use every
product, variants included, and pay by stripe, paypal, braintree (unmapped:
default clearing), some partly by gift certificate or store credit.

Amounts are exact: integer cents throughout, printed as decimal strings; the
tax of a line is 8.25 % rounded half up, shipping is untaxed. Deterministic
(fixed seed).
"""
import json
import random
import sys

# Catalog categories by product id. Mapped by bench/orders.sh's
# posting.revenue_by_category: 21 cleaning, 22 paper, 23 laundry, 24 home.
# Not mapped: 18 best sellers, 25 kitchen, 26 gifts.
CATEGORIES = {
    111: [21, 18], 112: [25, 21], 113: [21], 114: [22], 115: [22, 18],
    116: [22, 25], 117: [23], 118: [23, 18], 119: [26, 24], 120: [24],
    130: [25],
}
PAID = [2, 10, 11]
# (gateway, method, payment_method, weight)
GATEWAYS = [("stripe", "credit_card", "Credit Card", 55),
            ("paypal", "electronic_wallet", "PayPal", 30),
            ("braintree", "credit_card", "Credit Card", 15)]


def cents(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def money(c):
    return "%d.%02d" % (c // 100, c % 100)


def sellables(products):
    """(product, variant) pairs: every variant of every product."""
    out = []
    for p in products:
        for v in p["variants"]:
            out.append((p, v))
    return out


def payments(rnd, i, total):
    """The order's transactions and its payment_method."""
    gw, method, label, _ = rnd.choices(GATEWAYS, weights=[g[3] for g in GATEWAYS])[0]
    txns, pm = [], label
    roll = rnd.random()
    if roll < 0.08 and total > 2000:      # part by gift certificate
        part = rnd.choice([1000, 1500, 2000])
        txns.append({"event": "purchase", "method": "gift_certificate", "amount": money(part),
                     "gateway": "custom",
                     "gift_certificate": {"code": "GC-%d-NW" % i, "balance": "50.00"}})
        total -= part
        pm = "Gift Certificate + " + label
    elif roll < 0.13 and total > 1000:    # part by store credit
        part = rnd.choice([500, 1000])
        txns.append({"event": "purchase", "method": "store_credit", "amount": money(part),
                     "gateway": "custom"})
        total -= part
        pm = "Store Credit + " + label
    txns.append({"event": "purchase", "method": method, "amount": money(total), "gateway": gw})
    return txns, pm, gw


def main():
    n, first, quota, window = (int(a) for a in sys.argv[1:5])
    out = sys.argv[5]
    seed = json.load(open("sim/seed/demo-bigcommerce.json"))
    bc = seed["bigcommerce"]
    bc["settings"]["rate_quota"] = quota
    bc["settings"]["rate_window_ms"] = window
    for p in bc["products"]:
        p["categories"] = CATEGORIES.get(p["id"], [])
    items = sellables(bc["products"])
    rnd = random.Random(20261127)
    orders = []
    for i in range(n):
        lines, subtotal, tax = [], 0, 0
        for p, v in rnd.sample(items, rnd.randint(1, 4)):
            price = v.get("price", p["price"])
            qty = rnd.randint(1, 4)
            line = cents(price) * qty
            line_tax = (line * 825 + 5000) // 10000
            subtotal += line
            tax += line_tax
            lines.append({"product_id": p["id"], "variant_id": v["id"],
                          "sku": v["sku"], "name": p["name"], "quantity": qty,
                          "price_ex_tax": price, "tax": money(line_tax)})
        shipping = 795
        total = subtotal + tax + shipping
        txns, pm, gw = payments(rnd, first + i, total)
        day, minute = 3 + i // 600, i % 600
        stamp = "2026-11-%02dT%02d:%02d:00Z" % (day, 8 + minute // 60, minute % 60)
        orders.append({
            "id": first + i, "customer_id": 1 + i % len(bc["customers"]),
            "status_id": PAID[i % len(PAID)], "currency": "USD",
            "date_created": stamp, "date_modified": stamp,
            "payment_method": pm, "payment_provider_id": gw,
            "products": lines,
            "shipping": [{"shipping_method": "UPS Ground", "cost_ex_tax": money(shipping),
                          "cost_tax": "0.00"}],
            "transactions": txns,
        })
    bc["orders"] = orders
    bc["refunds"] = []
    json.dump(seed, open(out, "w"))


if __name__ == "__main__":
    main()
