<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Plugin;

use Magento\Catalog\Api\ProductRepositoryInterface;
use Magento\Customer\Api\CustomerRepositoryInterface;
use Magento\Framework\Model\AbstractModel;
use Magento\ProductAlert\Model\ResourceModel\Stock;
use Treue\Loyalty\Model\EventMapper;
use Treue\Loyalty\Model\Recorder;

/**
 * Records stock.subscribed when a product alert (product_alert_stock, "notify
 * me when this product is back in stock") is saved new, and stock.unsubscribed
 * when one is deleted. A plugin on the alert's resource model, because the
 * alert model dispatches no events of its own name. The alert names product
 * and customer by id; their SKU and e-mail are read here.
 */
class ProductAlertStock
{
    public function __construct(
        private readonly Recorder $recorder,
        private readonly ProductRepositoryInterface $products,
        private readonly CustomerRepositoryInterface $customers
    ) {
    }

    public function aroundSave(Stock $subject, callable $proceed, AbstractModel $alert): Stock
    {
        $isNew = $alert->isObjectNew() || $alert->getOrigData('alert_stock_id') === null;
        $result = $proceed($alert);
        $this->recorder->record(fn (EventMapper $m): array =>
            $m->stockAlertEvents($alert, $this->sku($alert), $this->customers->getById((int) $alert->getCustomerId()), $isNew));
        return $result;
    }

    public function afterDelete(Stock $subject, Stock $result, AbstractModel $alert): Stock
    {
        $this->recorder->record(fn (EventMapper $m): array =>
            $m->stockAlertDeletedEvents($alert, $this->sku($alert), $this->customers->getById((int) $alert->getCustomerId())));
        return $result;
    }

    private function sku(AbstractModel $alert): string
    {
        return (string) $this->products->getById((int) $alert->getProductId())->getSku();
    }
}
