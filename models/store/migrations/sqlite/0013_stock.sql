-- Back-in-stock notices. product_stock is the last stock level the shop
-- reported per SKU, by source time (a level older than changed_at changes
-- nothing), and the restock whose notices are being recorded.
CREATE TABLE product_stock (
  shop_id       INTEGER  NOT NULL,
  sku           TEXT     NOT NULL,
  quantity      INTEGER  NOT NULL,
  changed_at    DATETIME NOT NULL,
  restock_at    DATETIME NULL,
  restock_done  BOOLEAN  NOT NULL DEFAULT TRUE,
  updated_at    DATETIME NOT NULL,
  PRIMARY KEY (shop_id, sku)
);
CREATE INDEX ix_product_stock_pending ON product_stock (restock_done, shop_id, sku);

-- A customer's subscription to a SKU, one row per customer and SKU: its
-- latest state by source time, and the notice a restock recorded for it.
CREATE TABLE stock_subscriptions (
  shop_id             INTEGER  NOT NULL,
  id                  INTEGER  PRIMARY KEY AUTOINCREMENT,
  customer_id         INTEGER  NOT NULL,
  sku                 TEXT     NOT NULL,
  active              BOOLEAN  NOT NULL,
  subscribed_at       DATETIME NOT NULL,
  changed_at          DATETIME NOT NULL,
  notified_restock_at DATETIME NULL,
  notice_event_id     INTEGER  NULL,
  notice_at           DATETIME NULL
);
CREATE UNIQUE INDEX uq_stock_subscriptions ON stock_subscriptions (shop_id, customer_id, sku);
CREATE INDEX ix_stock_subscriptions_queue ON stock_subscriptions (shop_id, sku, subscribed_at, id);
