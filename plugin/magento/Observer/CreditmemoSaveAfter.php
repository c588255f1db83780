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
 * Records refund.issued on sales_order_creditmemo_save_after.
 * It runs inside the save's database transaction (see etc/events.xml), so the
 * outbox row commits or rolls back with the entity.
 */
class CreditmemoSaveAfter implements ObserverInterface
{
    public function __construct(private readonly Recorder $recorder)
    {
    }

    public function execute(Observer $observer): void
    {
        $entity = $observer->getEvent()->getCreditmemo();
        if (!is_object($entity)) {
            return;
        }
        // An entity that was never loaded from the database has no original data.
        $isNew = $entity->getOrigData('entity_id') === null;
        $previousState = $entity->getOrigData('state');
        $this->recorder->record(
            static fn (EventMapper $m): array => $m->creditmemoEvents($entity, $isNew, $previousState === null ? null : (int) $previousState)
        );
    }
}
