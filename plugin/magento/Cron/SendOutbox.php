<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Cron;

use Psr\Log\LoggerInterface;
use Treue\Loyalty\Model\Config;
use Treue\Loyalty\Model\Outbox;
use Treue\Loyalty\Model\Sender;
use Treue\Loyalty\Model\Signer;

/**
 * Delivers due outbox rows to Treue, once a minute (etc/crontab.xml), signed as
 * Standard Webhooks. A 2xx answer marks a row sent; anything else, a 3xx
 * included, or a network error schedules a retry with exponential backoff, until
 * the row runs out of attempts and is marked dead.
 */
class SendOutbox
{
    /** Rows per run; at 15 s per request a full batch stays within a few minutes. */
    private const BATCH = 50;
    /** Longer than a run can take, so a row is not claimed twice while in flight. */
    private const LEASE_SECONDS = 15 * 60;
    private const KEEP_SENT_DAYS = 30;

    public function __construct(
        private readonly Config $config,
        private readonly Outbox $outbox,
        private readonly Sender $sender,
        private readonly LoggerInterface $logger
    ) {
    }

    public function execute(): void
    {
        if (!$this->config->isEnabled()) {
            return;
        }
        try {
            $url = $this->config->endpoint();
            $signer = new Signer($this->config->secret());
        } catch (\DomainException | \InvalidArgumentException $e) {
            // Misconfigured: rows wait in the outbox until the settings are fixed.
            $this->logger->error($e->getMessage());
            return;
        }
        $max = $this->config->maxAttempts();
        foreach ($this->outbox->claimDue(self::BATCH, self::LEASE_SECONDS) as $row) {
            $attempts = $row['attempts'] + 1;
            try {
                // The timestamp is this attempt's, the id the row's: a retry is
                // a new signature over the same id and body.
                $headers = $signer->headers($row['event_id'], time(), $row['payload']);
                $status = $this->sender->post($url, $headers, $row['payload']);
                $error = 'HTTP ' . $status;
            } catch (\Throwable $e) {
                $status = 0;
                $error = $e->getMessage();
            }
            if ($status >= 200 && $status < 300) {
                $this->outbox->markSent($row['id'], $attempts);
                continue;
            }
            $this->outbox->markFailed($row['id'], $attempts, $max, $error);
            if ($attempts >= $max) {
                $this->logger->error('treue: loyalty event dead after retries', [
                    'event_id' => $row['event_id'], 'attempts' => $attempts, 'error' => $error,
                ]);
            }
        }
        $this->outbox->purgeSent(self::KEEP_SENT_DAYS);
    }
}
