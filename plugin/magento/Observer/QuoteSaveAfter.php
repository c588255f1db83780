<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Observer;

use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;
use Treue\Loyalty\Model\EventMapper;
use Treue\Loyalty\Model\Recorder;

/**
 * Records cart.updated on sales_quote_save_after, for Treue's cart reminder:
 * Treue derives cart.abandoned when no order follows. It runs inside the
 * quote's save transaction (see etc/events.xml), so the outbox row commits or
 * rolls back with the cart; nothing is sent from the shopper's request.
 */
class QuoteSaveAfter implements ObserverInterface
{
    public function __construct(private readonly Recorder $recorder)
    {
    }

    public function execute(Observer $observer): void
    {
        $quote = $observer->getEvent()->getQuote();
        if (!is_object($quote)) {
            return;
        }
        $this->recorder->record(static fn (EventMapper $m): array => $m->quoteEvents($quote));
    }
}
