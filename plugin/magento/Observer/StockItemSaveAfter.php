<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Observer;

use Magento\Catalog\Api\ProductRepositoryInterface;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;
use Treue\Loyalty\Model\EventMapper;
use Treue\Loyalty\Model\Recorder;

/**
 * Records product.stock_changed on cataloginventory_stock_item_save_after
 * (the default stock; Inventory (MSI) source items are not observed), so that
 * Treue can notify the product's subscribers when it is back in stock.
 */
class StockItemSaveAfter implements ObserverInterface
{
    public function __construct(
        private readonly Recorder $recorder,
        private readonly ProductRepositoryInterface $products
    ) {
    }

    public function execute(Observer $observer): void
    {
        $item = $observer->getEvent()->getItem() ?? $observer->getEvent()->getDataObject();
        if (!is_object($item)) {
            return;
        }
        $origQty = $item->getOrigData('qty');
        $origInStock = $item->getOrigData('is_in_stock');
        $this->recorder->record(function (EventMapper $m) use ($item, $origQty, $origInStock): array {
            $sku = (string) $this->products->getById((int) $item->getProductId())->getSku();
            return $m->stockItemEvents($item, $sku, $origQty === null ? null : (float) $origQty,
                $origInStock === null ? null : (bool) $origInStock);
        });
    }
}
