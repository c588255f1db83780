-- Which connector carries a shop's actions out: shopware, magento, shopify or
-- notify; empty means the platform's default.
ALTER TABLE shops ADD COLUMN connector VARCHAR(16) NOT NULL DEFAULT '';
