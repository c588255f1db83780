<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Model;

use Psr\Log\LoggerInterface;

/**
 * Writes the events of one entity save to the outbox, from inside the shopper's
 * or admin's request. It never throws: a loyalty event is not worth failing a
 * checkout for, so a failure is logged (and the event lost) instead.
 */
class Recorder
{
    public function __construct(
        private readonly Config $config,
        private readonly Outbox $outbox,
        private readonly EventMapper $mapper,
        private readonly LoggerInterface $logger
    ) {
    }

    /**
     * @param callable(EventMapper): list<array<string, mixed>> $map
     */
    public function record(callable $map): void
    {
        try {
            if (!$this->config->isEnabled()) {
                return;
            }
            foreach ($map($this->mapper) as $event) {
                $this->outbox->add($event);
            }
        } catch (\Throwable $e) {
            $this->logger->error('treue: could not record a loyalty event', ['exception' => $e]);
        }
    }
}
