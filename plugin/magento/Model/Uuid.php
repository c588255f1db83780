<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Model;

/**
 * Random (version 4) UUIDs for outbox rows. Each row's UUID is its webhook-id,
 * the key Treue dedupes on, so it must stay the same on every retry: it is made
 * once, when the row is written. Plain PHP, no Magento dependency.
 */
final class Uuid
{
    public static function v4(): string
    {
        $b = random_bytes(16);
        $b[6] = chr((ord($b[6]) & 0x0f) | 0x40);
        $b[8] = chr((ord($b[8]) & 0x3f) | 0x80);
        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($b), 4));
    }
}
