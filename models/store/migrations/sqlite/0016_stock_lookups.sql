-- Stock changes a webhook announced without their level (Shopware's
-- product.written, Shopify's inventory_levels/update), one row per shop and
-- product (or inventory item) until the level is read from the shop's API.
-- seen_at is the latest announcement: a read finishes the row only when no
-- newer one came meanwhile.
CREATE TABLE stock_lookups (
  shop_id    INTEGER  NOT NULL,
  ref        TEXT     NOT NULL,
  seen_at    DATETIME NOT NULL,
  attempts   INTEGER  NOT NULL DEFAULT 0,
  due_at     DATETIME NOT NULL,
  created_at DATETIME NOT NULL,
  PRIMARY KEY (shop_id, ref)
);
CREATE INDEX ix_stock_lookups_due ON stock_lookups (due_at);
