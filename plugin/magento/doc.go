// Package magento holds no Go code. The folder is Treue_Loyalty, a Magento 2
// module for Magento Open Source, where Adobe I/O Events (plugin/adobe) is not
// available: observers write order, payment, shipment and credit memo events to
// an outbox table inside Magento's own transaction, and a cron job posts them to
// Treue's /webhooks/standard/{shop_key} route as signed Standard Webhooks, with
// retries. Treue receives them with plugin/standard; nothing Magento-specific
// runs on the Go side.
//
// The Go file here is contract_test.go: it runs the module's plain-PHP parts
// (the signer and the event mapper) with the php command and checks their
// output against Treue's Standard Webhooks verification and models.Event.
// See README.md for merchants.
package magento
