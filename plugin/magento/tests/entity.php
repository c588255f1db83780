<?php
/**
 * Treue loyalty module for Magento 2.
 *
 * Test helper of the contract fixtures (map_fixture.php, map_quote_fixture.php).
 */
declare(strict_types=1);

/**
 * A stand-in for Magento's DataObject: getFooBar() reads the key foo_bar.
 */
final class Entity
{
    /** @param array<string, mixed> $data */
    public function __construct(private array $data)
    {
    }

    /** @param list<mixed> $args */
    public function __call(string $method, array $args): mixed
    {
        if (!str_starts_with($method, 'get')) {
            throw new \BadMethodCallException($method);
        }
        $key = strtolower((string) preg_replace('/(?<!^)[A-Z]/', '_$0', substr($method, 3)));
        return $this->data[$key] ?? null;
    }
}
