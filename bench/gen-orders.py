#!/usr/bin/env python3
"""Seed of the order benchmark (bench/orders.sh): the demo store's settings,
customers and catalog (sim/seed/demo-bigcommerce.json) with N generated paid
orders instead of the demo's, and the store's request quota set.

    bench/gen-orders.py N FIRST_ID QUOTA WINDOW_MS OUT.json

Amounts are exact: integer cents throughout, printed as decimal strings; the
tax of a line is 8.25 % rounded half up, shipping is untaxed. Every SKU used
is mapped by the benchmark's configuration. Deterministic (fixed seed).
"""
import json
import random
import sys

SKUS = ["NW-SOAP-6PK", "NW-DISH-1L", "NW-SPRAY-750", "NW-TOWEL-12",
        "NW-TISSUE-24", "NW-NAPKIN-200", "NW-DETERG-3L", "NW-BASKET-L"]
PAID = [2, 10, 11]


def cents(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def money(c):
    return "%d.%02d" % (c // 100, c % 100)


def main():
    n, first, quota, window = (int(a) for a in sys.argv[1:5])
    out = sys.argv[5]
    seed = json.load(open("sim/seed/demo-bigcommerce.json"))
    bc = seed["bigcommerce"]
    bc["settings"]["rate_quota"] = quota
    bc["settings"]["rate_window_ms"] = window
    products = {p["sku"]: p for p in bc["products"]}
    rnd = random.Random(20261127)
    orders = []
    for i in range(n):
        lines, subtotal, tax = [], 0, 0
        for sku in rnd.sample(SKUS, rnd.randint(1, 3)):
            p = products[sku]
            qty = rnd.randint(1, 4)
            line = cents(p["price"]) * qty
            line_tax = (line * 825 + 5000) // 10000
            subtotal += line
            tax += line_tax
            lines.append({"product_id": p["id"], "variant_id": p["variants"][0]["id"],
                          "sku": sku, "name": p["name"], "quantity": qty,
                          "price_ex_tax": p["price"], "tax": money(line_tax)})
        shipping = 795
        total = subtotal + tax + shipping
        day, minute = 3 + i // 600, i % 600
        stamp = "2026-11-%02dT%02d:%02d:00Z" % (day, 8 + minute // 60, minute % 60)
        orders.append({
            "id": first + i, "customer_id": 1 + i % len(bc["customers"]),
            "status_id": PAID[i % len(PAID)], "currency": "USD",
            "date_created": stamp, "date_modified": stamp,
            "payment_method": "Credit Card", "payment_provider_id": "stripe",
            "products": lines,
            "shipping": [{"shipping_method": "UPS Ground", "cost_ex_tax": money(shipping),
                          "cost_tax": "0.00"}],
            "transactions": [{"event": "purchase", "method": "credit_card",
                              "amount": money(total), "gateway": "stripe"}],
        })
    bc["orders"] = orders
    bc["refunds"] = []
    json.dump(seed, open(out, "w"))


if __name__ == "__main__":
    main()
