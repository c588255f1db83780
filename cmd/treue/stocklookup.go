package main

import (
	"net/http"

	"github.com/treue/treue/config"
	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopify"
	"github.com/treue/treue/plugin/shopware"
	"github.com/treue/treue/webhooks/process"
)

// newStockReaders is stockReaders over the dispatcher's egress rules.
func newStockReaders(cfg config.Config, shopifyAPI string) process.StockReaders {
	return stockReaders(egress.NewClient(cfg.Dispatch.EgressOptions()), shopifyAPI)
}

// stockReaders finds the stock reader of a shop by the connector that holds
// its API credentials: the platforms whose stock webhooks carry no level.
func stockReaders(client *http.Client, shopifyAPI string) process.StockReaders {
	sfy := shopify.NewConnector(client)
	sfy.BaseURL = shopifyAPI
	readers := map[string]plugin.StockReader{
		models.ConnectorShopify:  sfy,
		models.ConnectorShopware: shopware.NewConnector(client),
	}
	return func(shop *models.Shop) (plugin.StockReader, bool) {
		r, ok := readers[shop.ConnectorName()]
		return r, ok
	}
}
