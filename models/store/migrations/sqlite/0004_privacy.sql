-- Category opt-outs: the customer's "not interested in this category".
CREATE TABLE opt_outs (
  shop_id     INTEGER  NOT NULL,
  customer_id INTEGER  NOT NULL,
  category    TEXT     NOT NULL,
  source      TEXT     NOT NULL,
  created_at  DATETIME NOT NULL,
  PRIMARY KEY (customer_id, category)
);
CREATE INDEX ix_opt_outs_shop ON opt_outs (shop_id);

-- Erasures: an audit record without personal data, and de-identified
-- aggregates kept for statistics.
CREATE TABLE erasures (
  shop_id           INTEGER  NOT NULL,
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  erased_at         DATETIME NOT NULL,
  requested_by      TEXT     NOT NULL,
  stage             TEXT     NOT NULL,
  order_count       INTEGER  NOT NULL,
  total_spent_cents INTEGER  NOT NULL,
  events            INTEGER  NOT NULL,
  actions           INTEGER  NOT NULL,
  cancelled_actions INTEGER  NOT NULL
);
CREATE INDEX ix_erasures_shop ON erasures (shop_id, erased_at);
