// Package magento is Treue's side of Magento 2.
//
// The Go code is the connector that carries actions out through the Magento
// REST API (OAuth 1.0a or bearer), for Adobe Commerce and Magento Open Source
// shops alike.
//
// The folder is also Treue_Loyalty, a Magento 2 module for Magento Open Source,
// where Adobe I/O Events (plugin/adobe) is not available: observers write
// order, payment, shipment and credit memo events to an outbox table inside
// Magento's own transaction, and a cron job posts them to Treue's
// /webhooks/standard/{shop_key} route as signed Standard Webhooks, with
// retries. Treue receives them with plugin/standard.
//
// contract_test.go runs the module's plain-PHP parts (the signer and the
// event mapper) with the php command and checks their output against Treue's
// Standard Webhooks verifier and models.Event. See README.md for merchants.
package magento
