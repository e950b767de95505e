# Shared by the e2e tests that judge postings from outside (sourced after
# common.bash and need_py): orders placed at the simulated store through its
# control API, and the documents found in the AIS simulator's F0911.
#
#   order_json ID STATUS   a card order of the demo catalog, 33.28 USD
#   new_order ID STATUS    places it (0 when the store took it)
#   set_status ID STATUS
#   f0911 PREFIX           "REF DOCS BALANCED(1/0)" per reference
#   docs_of, one_doc, balanced, no_rows KEY; all_one, all_balanced ID...

jq_py()   { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# A paid (or not) card order of the demo catalog, 33.28 USD.
order_json() { # ID STATUS
    printf '{"id":%s,"customer_id":1,"status_id":%s,"currency":"USD",' "$1" "$2"
    printf '"payment_method":"Credit Card","payment_provider_id":"stripe",'
    printf '"billing_address":{"first_name":"Jane","last_name":"Doe","street_1":"12 Elm Street","city":"Austin","state":"Texas","zip":"78701","country":"United States","country_iso2":"US","email":"jane.doe@example.com"},'
    printf '"products":[{"product_id":113,"variant_id":1131,"sku":"NW-SPRAY-750","name":"All-Purpose Spray 750 ml","quantity":2,"price_ex_tax":"6.95","tax":"1.15"},'
    printf '{"product_id":112,"variant_id":1121,"sku":"NW-DISH-1L","name":"Dish Liquid 1 L","quantity":2,"price_ex_tax":"4.75","tax":"0.78"}],'
    printf '"shipping":[{"first_name":"Jane","last_name":"Doe","street_1":"12 Elm Street","city":"Austin","state":"Texas","zip":"78701","country":"United States","country_iso2":"US","shipping_method":"UPS Ground","cost_ex_tax":"7.95","cost_tax":"0.00"}],'
    printf '"transactions":[{"event":"purchase","method":"credit_card","amount":"33.28","gateway":"stripe"}]}'
}
new_order() { # ID STATUS -> 0 when the store took it
    bc_ctl POST orders "$(order_json "$1" "$2")" | grep -q "\"id\": *$1[,}]"
}
set_status() { bc_ctl POST "orders/$1" "{\"status_id\":$2}" >/dev/null; }

# ---- JDE facts (F0911 read back from the AIS simulator) ------------------------
# "REF DOCS BALANCED(1/0)" for every reference (VINV) starting with $1; a
# document balances when its AA amounts, as exact decimals, sum to zero.
f0911() {
    ais_ctl GET table/F0911 | "$PY" -c '
import json, sys
from decimal import Decimal
rows = json.load(sys.stdin, parse_float=Decimal)["rows"]
docs = {}
for r in rows:
    v = str(r.get("F0911_VINV") or "").strip()
    if not v.startswith(sys.argv[1]):
        continue
    k = (v, r.get("F0911_DCT"), r.get("F0911_DOC"), r.get("F0911_KCO"))
    docs[k] = docs.get(k, Decimal(0)) + Decimal(str(r["F0911_AA"]))
refs = {}
for (v, _, _, _), s in docs.items():
    n, ok = refs.get(v, (0, True))
    refs[v] = (n + 1, ok and s == 0)
for v in sorted(refs):
    print(v, refs[v][0], 1 if refs[v][1] else 0)
' "$1"
}
docs_of()  { f0911 "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
one_doc()  { [ "$(docs_of "$1")" = 1 ]; }
balanced() { f0911 "$1" | awk -v k="$1" '$1 == k && $3 == 1 { f = 1 } END { exit !f }'; }
no_rows()  { [ -z "$(f0911 "$1")" ]; }
all_one()  { local i; for i in "$@"; do one_doc "BC${i}S" || return 1; done; }
all_balanced() { local i; for i in "$@"; do balanced "BC${i}S" || return 1; done; }
