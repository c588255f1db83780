<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Model;

/**
 * Retry schedule for outbox rows: 1 min, 2 min, 4 min ... doubling up to a cap
 * of 6 hours, plus up to 20 % jitter so that rows that failed together (Treue
 * was down) do not all come back in the same cron run. With the default of 15
 * attempts a row is retried for about 40 hours before it is marked dead.
 * Plain PHP, no Magento dependency.
 */
final class Backoff
{
    public const BASE_SECONDS = 60;
    public const CAP_SECONDS = 6 * 3600;

    /**
     * Seconds to wait after the given number of failed attempts (1 or more).
     *
     * @param callable(int, int): int|null $rand random_int or a stand-in for tests
     */
    public static function delay(int $failedAttempts, ?callable $rand = null): int
    {
        $rand ??= 'random_int';
        // The exponent is capped before shifting, so a large attempt count
        // cannot overflow.
        $exp = min(max($failedAttempts, 1) - 1, 20);
        $delay = min(self::CAP_SECONDS, self::BASE_SECONDS << $exp);
        return $delay + $rand(0, intdiv($delay, 5));
    }
}
