-- Stock changes a webhook announced without their level (Shopware's
-- product.written, Shopify's inventory_levels/update), one row per shop and
-- product (or inventory item) until the level is read from the shop's API.
-- seen_at is the latest announcement: a read finishes the row only when no
-- newer one came meanwhile.
CREATE TABLE stock_lookups (
  shop_id    BIGINT       NOT NULL,
  ref        VARCHAR(191) NOT NULL,
  seen_at    DATETIME(6)  NOT NULL,
  attempts   INT          NOT NULL DEFAULT 0,
  due_at     DATETIME(6)  NOT NULL,
  created_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (shop_id, ref),
  KEY ix_stock_lookups_due (due_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
