# Generates ../openapi.json. Run: python3 handlers/openapi/gen.py
# (kept as a script so the document stays consistent; TestOpenAPI checks it
# lists exactly the registered routes)
import json, os

problem = {"$ref": "#/components/responses/Problem"}
def resp(desc, schema=None, ctype="application/json"):
    r = {"description": desc}
    if schema is not None:
        r["content"] = {ctype: {"schema": schema}}
    return r
def ref(n): return {"$ref": "#/components/schemas/" + n}
def errors(*codes):
    return {str(c): problem for c in codes}
shop_p = {"name": "shop", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Treue shop key"}
id_p = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}, "description": "Treue customer id"}
bearer = [{"bearer": []}]
webhook_ok = resp("Durably stored, a duplicate, an event type Treue does not use, or authentic but unparsed (stored for treue inbox replay; detail and errors say what is wrong)", ref("WebhookAccepted"))
def webhook(summary, params=(), desc=""):
    return {"post": {"summary": summary, "description": desc, "tags": ["webhooks"], "parameters": list(params),
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": webhook_ok, **errors(401, 413, 415, 429, 503)}}}

paths = {
 "/healthz": {"get": {"summary": "The process is alive", "tags": ["operations"], "responses": {"200": resp("alive", {"type": "object"})}}},
 "/readyz": {"get": {"summary": "The database answers and the schema is current", "tags": ["operations"], "responses": {"200": resp("ready", {"type": "object"}), **errors(503)}}},
 "/metrics": {"get": {"summary": "Prometheus metrics", "tags": ["operations"], "responses": {"200": resp("metrics", {"type": "string"}, "text/plain")}}},
 "/webhooks/standard/{shop}": webhook("Receive a canonical event signed as Standard Webhooks", [shop_p],
     "Body: a canonical event (plugin/standard/event.schema.json). Headers webhook-id, webhook-timestamp, webhook-signature."),
 "/webhooks/shopware": webhook("Receive a Shopware 6 app webhook", (), "Signed with shopware-shop-signature; shop by source.shopId."),
 "/webhooks/shopify": webhook("Receive a Shopify webhook", (), "Signed with X-Shopify-Hmac-Sha256; shop by X-Shopify-Shop-Domain."),
 "/webhooks/adobe/{shop}": {**webhook("Receive an Adobe I/O Events delivery (CloudEvents)", [shop_p]),
     "get": {"summary": "Adobe I/O Events challenge handshake", "tags": ["webhooks"], "parameters": [shop_p,
        {"name": "challenge", "in": "query", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": resp("the challenge echoed", {"type": "object", "properties": {"challenge": {"type": "string"}}}), **errors(400, 404)}}},
 "/shopware/register": {"get": {"summary": "Shopware app registration (step 1)", "tags": ["shopware"],
     "parameters": [{"name": n, "in": "query", "required": True, "schema": {"type": "string"}} for n in ("shop-id", "shop-url", "timestamp")],
     "responses": {"200": resp("proof, shop secret and confirmation URL", ref("ShopwareRegistration")), **errors(401, 404, 422)}}},
 "/shopware/confirm": {"post": {"summary": "Shopware app registration confirmation (step 2)", "tags": ["shopware"],
     "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
     "responses": {"204": resp("confirmed"), **errors(400, 401, 404, 413, 422)}}},
 "/api/v1/openapi.json": {"get": {"summary": "This document", "tags": ["api"], "responses": {"200": resp("OpenAPI 3.1", {"type": "object"})}}},
 "/api/v1/rules": {"get": {"summary": "The active rules (admin)", "tags": ["rules"], "security": bearer,
     "responses": {"200": resp("active rules", ref("Rules")), **errors(401, 403)}}},
 "/api/v1/me": {"get": {"summary": "The token's name and role: the console checks a token with it at sign-in (support)", "tags": ["operations"], "security": bearer,
     "responses": {"200": resp("the token", {"type": "object", "properties": {"name": {"type": "string"}, "role": {"enum": ["support", "admin"]}}}), **errors(401, 403)}}},
 "/api/v1/shops": {"get": {"summary": "The shops, with the time zone their times are shown in; never their secrets (support)", "tags": ["operations"], "security": bearer,
     "responses": {"200": resp("shops", {"type": "object", "properties": {"shops": {"type": "array", "items": {"type": "object", "properties": {
         "key": {"type": "string"}, "name": {"type": "string"}, "platform": {"type": "string"}, "timezone": {"type": "string"}, "currency": {"type": "string"}}}}}}), **errors(401, 403)}}},
 "/api/v1/shops/{shop}/reports/rules": {"get": {"summary": "What each rule achieves against its holdout group: counts, rates, uplift with its 95 % interval, revenue, cost (support)", "tags": ["reports"],
     "security": bearer, "parameters": [shop_p,
       {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "first day (shop's time zone); default 90 days before to"},
       {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "the day after the last; default tomorrow"}],
     "responses": {"200": resp("the report", ref("RulesReport")), **errors(401, 403, 404, 422, 503)}}},
 "/api/v1/shops/{shop}/customers": {"get": {"summary": "Find customers by e-mail, customer number or shop customer id (support)", "tags": ["customers"],
     "security": bearer, "parameters": [shop_p, {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
     "responses": {"200": resp("matches", {"type": "object", "properties": {"customers": {"type": "array", "items": ref("CustomerHit")}}}), **errors(401, 403, 404, 422)}}},
 "/api/v1/shops/{shop}/customers/{id}": {"get": {"summary": "A customer's profile (support)", "tags": ["customers"], "security": bearer,
     "parameters": [shop_p, id_p], "responses": {"200": resp("profile", ref("Profile")), **errors(401, 403, 404)}},
   "delete": {"summary": "Erase the customer (GDPR Art. 17; admin)", "tags": ["data protection"], "security": bearer,
     "parameters": [shop_p, id_p], "responses": {"200": resp("erased; the audit record", {"type": "object"}), **errors(401, 403, 404)}}},
 "/api/v1/shops/{shop}/customers/{id}/timeline": {"get": {"summary": "Events and actions, newest first (support)", "tags": ["customers"], "security": bearer,
     "parameters": [shop_p, id_p,
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next_cursor of the previous page"},
        {"name": "types", "in": "query", "schema": {"type": "string"}, "description": "comma list: event types, action.<type>, events, actions"}],
     "responses": {"200": resp("a page", ref("TimelinePage")), **errors(401, 403, 404, 422)}}},
 "/api/v1/shops/{shop}/customers/{id}/export": {"get": {"summary": "Everything Treue holds about the customer (GDPR Art. 15; support)", "tags": ["data protection"],
     "security": bearer, "parameters": [shop_p, id_p], "responses": {"200": resp("export document", {"type": "object"}), **errors(401, 403, 404)}}},
 "/api/v1/shops/{shop}/customers/{id}/opt-outs": {
   "post": {"summary": "Opt the customer out of a category; pending actions about it are cancelled (support)", "tags": ["data protection"],
     "security": bearer, "parameters": [shop_p, id_p],
     "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "required": ["category"], "properties": {"category": {"type": "string"}}}}}},
     "responses": {"200": resp("recorded", {"type": "object", "properties": {"category": {"type": "string"}, "cancelled_actions": {"type": "integer"}}}), **errors(400, 401, 403, 404, 413, 415, 422)}},
   "delete": {"summary": "Undo an opt-out (support)", "tags": ["data protection"], "security": bearer,
     "parameters": [shop_p, id_p, {"name": "category", "in": "query", "schema": {"type": "string"}}],
     "responses": {"204": resp("removed"), **errors(401, 403, 404, 415, 422)}}},
 "/api/v1/shops/{shop}/actions": {"get": {"summary": "List a shop's actions, e.g. the dead ones (support)", "tags": ["actions"], "security": bearer,
     "parameters": [shop_p, {"name": "status", "in": "query", "schema": {"enum": ["scheduled", "sending", "sent", "retrying", "dead", "cancelled", "suppressed"]}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
     "responses": {"200": resp("a page", {"type": "object", "properties": {"actions": {"type": "array", "items": ref("Action")}, "next_cursor": {"type": "string"}}}), **errors(401, 403, 404, 422)}}},
 "/api/v1/shops/{shop}/reports/loyalty": {"get": {"summary": "The shop's loyalty figures for a period: repurchase rate, days between orders, stages per month, cohort retention (support)", "tags": ["reports"],
     "description": "Dates are days in the shop's time zone; to is exclusive. Defaults: to is tomorrow (today counts), from the first day of the month eleven months before the period's last month. "
        "Every rate comes with its counts; below min_sample customers (or gaps) it is null with a note. At most 120 months; the figures are computed within 25 s or answered 503.",
     "security": bearer, "parameters": [shop_p,
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "first day, YYYY-MM-DD"},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "day after the last, YYYY-MM-DD"}],
     "responses": {"200": resp("the figures", ref("LoyaltyReport")), **errors(401, 403, 404, 422, 503)}}},
 "/api/v1/shops/{shop}/reports/budget": {"get": {"summary": "The shop's incentive spend against its monthly budget, per month and rule, with what the budget held back (support)", "tags": ["reports"],
     "description": "Months are calendar months in the rules file's defaults.timezone; the period's from and to (days, to exclusive) select the months they touch. Defaults: this month and the two before. "
        "Spent counts the actions scheduled, on their way or sent; held the ones suppressed with budget_exhausted, at the cost they were priced at.",
     "security": bearer, "parameters": [shop_p,
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "first day, YYYY-MM-DD"},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "day after the last, YYYY-MM-DD"}],
     "responses": {"200": resp("the spend", ref("BudgetReport")), **errors(401, 403, 404, 422, 503)}}},
 "/api/v1/actions/{id}/retry": {"post": {"summary": "Put a dead action back in the queue, due now (admin)", "tags": ["actions"], "security": bearer,
     "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}],
     "responses": {"200": resp("the action", ref("Action")), **errors(401, 403, 404, 409)}}},
 "/api/v1/actions/{id}/cancel": {"post": {"summary": "Cancel an action that has not been sent (admin)", "tags": ["actions"], "security": bearer,
     "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}],
     "responses": {"200": resp("the action", ref("Action")), **errors(401, 403, 404, 409)}}},
 "/console/{path}": {m: {"summary": "The support console (HTML, embedded)", "tags": ["console"],
     "parameters": [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"}, "description": "empty for the page, or an asset"}],
     "responses": {"200": resp("page or asset", {"type": "string"}, "text/html"), **errors(404)}} for m in ("get", "head")},
}
rate = {"type": ["number", "null"], "minimum": 0, "maximum": 1, "description": "null below min_sample"}
note = {"type": "string", "description": "\"not enough data: N customers, 30 needed\" where a figure is null, else empty"}
ident = {"type": "object", "properties": {"kind": {"enum": ["id", "number", "email"]}, "value": {"type": "string"}}}
dt = {"type": ["string", "null"], "format": "date-time"}
schemas = {
 "Problem": {"type": "object", "description": "RFC 9457 problem details", "required": ["type", "title", "status"],
   "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
     "instance": {"type": "string"}, "request_id": {"type": "string"},
     "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}},
 "WebhookAccepted": {"type": "object", "properties": {"status": {"enum": ["stored", "duplicate", "ignored", "uninstalled", "unparsed"]}, "delivery_id": {"type": "string"},
   "detail": {"type": "string", "description": "unparsed: why"}, "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}},
 "ShopwareRegistration": {"type": "object", "properties": {"proof": {"type": "string"}, "secret": {"type": "string"}, "confirmation_url": {"type": "string"}}},
 "Rules": {"type": "object", "properties": {"file": {"type": "string"}, "version": {"type": "string"}, "loaded_at": {"type": "string", "format": "date-time"},
   "last_error": {"type": "string"}, "defaults": {"type": "object"}, "rules": {"type": "array", "items": {"type": "object"}}}},
 "Identity": ident,
 "CustomerHit": {"type": "object", "properties": {"id": {"type": "string"}, "stage": {"type": "string"}, "identities": {"type": "array", "items": ref("Identity")},
   "order_count": {"type": "integer"}, "last_order_at": dt}},
 "Profile": {"type": "object", "properties": {k: v for k, v in {
   "id": {"type": "string"}, "shop": {"type": "string"}, "name": {"type": "string"}, "stage": {"enum": ["new", "first_purchase", "second_positive", "loyal", "at_risk", "lapsed"]},
   "identities": {"type": "array", "items": ref("Identity")}, "order_count": {"type": "integer"}, "positive_order_count": {"type": "integer"},
   "return_count": {"type": "integer"}, "total_spent": {"type": "string"}, "currency": {"type": "string"}, "first_order_at": dt, "last_order_at": dt,
   "reorder_interval_days": {"type": "number"}, "categories": {"type": "array", "items": {"type": "string"}}, "skus": {"type": "array", "items": {"type": "string"}},
   "marketing_consent": {"type": "boolean"}, "opted_out_categories": {"type": "array", "items": {"type": "string"}}, "birthday": {"type": "string", "format": "date"},
   "points_balance": {"type": "integer"}, "tier": {"type": "string"}, "referral_code": {"type": "string"}, "referred_by": {"type": "string"},
   "holdout": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"}}.items()}},
 "TimelineItem": {"type": "object", "required": ["kind", "id", "type", "at"], "properties": {
   "kind": {"enum": ["event", "action"]}, "id": {"type": "string"}, "type": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
   "received_at": {"type": "string", "format": "date-time"}, "platform": {"type": "string"}, "order_ref": {"type": "string"}, "summary": {"type": "string"},
   "data": {"type": "object"}, "status": {"enum": ["scheduled", "sending", "sent", "retrying", "dead", "cancelled", "suppressed"]},
   "due_at": {"type": "string", "format": "date-time"}, "sent_at": dt, "rule_id": {"type": "string"}, "rules_version": {"type": "string"},
   "trigger_event": {"type": "object", "properties": {"id": {"type": "string"}, "type": {"type": "string"}}}, "attempts": {"type": "integer"},
   "reason": {"type": "string"}, "params": {"type": "object"}, "why": {"type": "string"},
   "order_number": {"type": "string", "description": "the order's number as the shop shows it"},
   "waiting": {"type": "string", "description": "why a scheduled or retrying action has not gone out: dispatch off, no connector, the shop's circuit open, a failed attempt, due later"}}},
 "Action": {"type": "object", "properties": {"id": {"type": "string"}, "customer": {"type": "string"}, "type": {"type": "string"},
   "status": {"type": "string"}, "rule_id": {"type": "string"}, "rules_version": {"type": "string"}, "due_at": {"type": "string", "format": "date-time"},
   "sent_at": dt, "attempts": {"type": "integer"}, "reason": {"type": "string"}, "order_ref": {"type": "string"}, "sku": {"type": "string"},
   "params": {"type": "object"}, "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
   "waiting": {"type": "string"}}},
 "RulesReport": {"type": "object", "properties": {"shop": {"type": "string"}, "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
   "currency": {"type": "string"}, "min_sample": {"type": "integer"}, "confidence": {"type": "number"}, "rules": {"type": "array", "items": ref("RuleReport")}}},
 "RuleGroup": {"type": "object", "properties": {"customers": {"type": "integer"}, "converted": {"type": "integer"}, "rate": {"type": ["number", "null"], "description": "null below min_sample"},
   "revenue": {"type": "string"}, "actions": {"type": "integer"}, "sent": {"type": "integer"}}},
 "RuleReport": {"type": "object", "properties": {"rule_id": {"type": "string"}, "action_type": {"type": "string"}, "window_days": {"type": "number"},
   "conversion": {"enum": ["order", "review"]}, "marketing": {"type": "boolean"}, "treatment": ref("RuleGroup"), "holdout": {"oneOf": [ref("RuleGroup"), {"type": "null"}]},
   "enough_data": {"type": "boolean"}, "note": {"type": "string"},
   "uplift": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"absolute": {"type": "number"}, "ci_low": {"type": "number"}, "ci_high": {"type": "number"},
     "relative": {"type": ["number", "null"]}, "significant": {"type": "boolean"}}}]},
   "incremental_revenue": {"type": ["string", "null"]}, "outcomes": {"type": "object", "additionalProperties": {"type": "integer"}},
   "cost": {"type": "object", "properties": {"code_value": {"type": "string"}, "codes_redeemed": {"type": "integer"}, "samples_sent": {"type": "integer"},
     "sample_value": {"type": ["string", "null"]}, "points_awarded": {"type": "integer"}, "points_value": {"type": ["string", "null"]}, "total": {"type": "string"}}},
   "maturing": {"type": "integer"}, "sends_per_week": {"type": "array", "items": {"type": "object", "properties": {"week": {"type": "string"}, "sent": {"type": "integer"}}}}}},
 "BudgetReport": {"type": "object", "required": ["shop", "from", "to", "currency", "monthly", "months"], "properties": {
     "shop": {"type": "string"}, "from": {"type": "string", "description": "first month, YYYY-MM"}, "to": {"type": "string", "description": "last month, YYYY-MM"},
     "currency": {"type": "string"}, "monthly": {"type": ["string", "null"], "description": "the monthly budget; null without one"},
     "months": {"type": "array", "items": {"type": "object", "properties": {
         "month": {"type": "string"}, "spent": {"type": "string"}, "spent_cents": {"type": "integer"}, "actions": {"type": "integer"}, "remaining": {"type": ["string", "null"]},
         "held": {"type": "integer"}, "held_value": {"type": "string"},
         "rules": {"type": "array", "items": {"type": "object", "properties": {"rule_id": {"type": "string"}, "spent": {"type": "string"}, "actions": {"type": "integer"},
             "held": {"type": "integer"}, "held_value": {"type": "string"}}}}}}}}},
 "LoyaltyReport": {"type": "object", "required": ["shop", "from", "to", "timezone", "min_sample", "customers", "repurchase", "days_between_orders", "stages", "cohorts"], "properties": {
   "shop": {"type": "string"}, "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date", "description": "exclusive"},
   "timezone": {"type": "string"}, "min_sample": {"type": "integer", "description": "a rate over fewer customers (a median over fewer gaps) is null"},
   "customers": {"type": "integer", "description": "customers with any counted order (not cancelled, not a test) before to"},
   "repurchase": {"type": "object", "properties": {
     "customers": {"type": "integer", "description": "customers whose first counted order is in the period"},
     "repeat_customers": {"type": "integer", "description": "of them, those with a second counted order before to"},
     "rate": rate, "within_90_days": {"type": "object", "properties": {"repeat_customers": {"type": "integer"}, "rate": rate}}, "note": note}},
   "days_between_orders": {"type": "object", "properties": {
     "median": {"type": ["number", "null"], "description": "days, one decimal, between a customer's consecutive counted orders both placed in the period"},
     "gaps": {"type": "integer"}, "note": note}},
   "stages": {"type": "array", "items": {"type": "object", "properties": {"month": {"type": "string", "description": "YYYY-MM"},
     "counts": {"type": "object", "description": "customers in each stage at the month's end (or now)",
       "properties": {k: {"type": "integer"} for k in ("new", "first_purchase", "second_positive", "loyal", "at_risk", "lapsed")}}}}},
   "cohorts": {"type": "array", "items": {"type": "object", "properties": {"cohort": {"type": "string", "description": "YYYY-MM of the first counted order"},
     "size": {"type": "integer"}, "retained": {"type": "array", "items": {"type": "integer"}, "description": "customers with a counted order in month offset 0, 1, …"},
     "rates": {"type": "array", "items": rate}, "note": note}}}}},
 "TimelinePage": {"type": "object", "properties": {"items": {"type": "array", "items": ref("TimelineItem")}, "next_cursor": {"type": "string"}}},
}
doc = {"openapi": "3.1.0",
  "info": {"title": "Treue", "version": "1", "description": "Loyalty sidecar: shop webhooks in, journeys and actions out. Errors are RFC 9457 application/problem+json."},
  "paths": paths,
  "components": {"schemas": schemas,
    "responses": {"Problem": {"description": "Problem details", "content": {"application/problem+json": {"schema": ref("Problem")}}}},
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "treue tokens create --name NAME --role support|admin"}}}}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "openapi.json")
open(out, "w").write(json.dumps(doc, indent=2) + "\n")
