<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Model;

use Magento\Framework\App\ResourceConnection;

/**
 * The treue_outbox table: one row per event, written by the observers and
 * delivered by the cron job.
 *
 * A row is due while sent_at is NULL and next_attempt_at is in the past. A row
 * that ran out of attempts keeps sent_at NULL and gets next_attempt_at NULL: it
 * is dead, and stays for inspection (re-arm it by setting next_attempt_at).
 * All times are UTC.
 */
class Outbox
{
    public const TABLE = 'treue_outbox';

    public function __construct(private readonly ResourceConnection $resource)
    {
    }

    /**
     * Writes an event. It uses Magento's default connection, the one the sales
     * entities are saved on, so when called from a *_save_after observer the row
     * is part of the same database transaction: it commits with the order, and
     * disappears if the order's save is rolled back.
     *
     * @param array<string, mixed> $event
     * @throws \JsonException
     */
    public function add(array $event): void
    {
        $this->resource->getConnection()->insert($this->table(), [
            'event_id' => Uuid::v4(),
            'event_type' => (string) $event['type'],
            'payload' => EventMapper::encode($event),
            'attempts' => 0,
            'next_attempt_at' => gmdate('Y-m-d H:i:s'),
        ]);
    }

    /**
     * Claims up to $limit due rows for this run by pushing their next attempt
     * $leaseSeconds ahead. A row whose claim fails was taken by a concurrent run.
     * If this run dies, the rows come due again when the lease ends; Treue
     * dedupes a row sent twice by its event_id.
     *
     * @return list<array{id: int, event_id: string, payload: string, attempts: int}>
     */
    public function claimDue(int $limit, int $leaseSeconds): array
    {
        $db = $this->resource->getConnection();
        $now = gmdate('Y-m-d H:i:s');
        $rows = $db->fetchAll(
            $db->select()
                ->from($this->table(), ['id', 'event_id', 'payload', 'attempts', 'next_attempt_at'])
                ->where('sent_at IS NULL')
                ->where('next_attempt_at IS NOT NULL')
                ->where('next_attempt_at <= ?', $now)
                ->order('id')
                ->limit($limit)
        );
        $lease = gmdate('Y-m-d H:i:s', time() + $leaseSeconds);
        $claimed = [];
        foreach ($rows as $row) {
            $n = $db->update(
                $this->table(),
                ['next_attempt_at' => $lease],
                ['id = ?' => (int) $row['id'], 'next_attempt_at = ?' => $row['next_attempt_at'], 'sent_at IS NULL']
            );
            if ($n === 1) {
                $claimed[] = [
                    'id' => (int) $row['id'],
                    'event_id' => (string) $row['event_id'],
                    'payload' => (string) $row['payload'],
                    'attempts' => (int) $row['attempts'],
                ];
            }
        }
        return $claimed;
    }

    public function markSent(int $id, int $attempts): void
    {
        $this->resource->getConnection()->update(
            $this->table(),
            ['sent_at' => gmdate('Y-m-d H:i:s'), 'attempts' => $attempts, 'next_attempt_at' => null, 'last_error' => null],
            ['id = ?' => $id]
        );
    }

    /**
     * Records a failed attempt and schedules the next one, or marks the row dead
     * when $attempts reached $maxAttempts.
     */
    public function markFailed(int $id, int $attempts, int $maxAttempts, string $error): void
    {
        $dead = $attempts >= $maxAttempts;
        $this->resource->getConnection()->update(
            $this->table(),
            [
                'attempts' => $attempts,
                'next_attempt_at' => $dead ? null : gmdate('Y-m-d H:i:s', time() + Backoff::delay($attempts)),
                'last_error' => mb_substr(($dead ? 'dead: ' : '') . $error, 0, 2000),
            ],
            ['id = ?' => $id]
        );
    }

    /**
     * Deletes rows delivered more than $days days ago.
     */
    public function purgeSent(int $days): int
    {
        return $this->resource->getConnection()->delete(
            $this->table(),
            ['sent_at < ?' => gmdate('Y-m-d H:i:s', time() - $days * 86400)]
        );
    }

    private function table(): string
    {
        return $this->resource->getTableName(self::TABLE);
    }
}
