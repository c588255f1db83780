-- Shopify's and Adobe I/O's delivery ids are not covered by their
-- signatures: a signed body replayed under a new id was stored again. The
-- inbox keys such deliveries by a hash of the topic and the signed body too.
ALTER TABLE inbox ADD COLUMN body_hash CHAR(64) NULL;
CREATE UNIQUE INDEX ux_inbox_body_hash ON inbox (shop_id, body_hash);
