<?php
/**
 * Treue loyalty module for Magento 2.
 *
 * Contract fixture for back in stock: runs Model/EventMapper.php, without
 * Magento, over stand-in product alerts and stock items and prints every event
 * as the outbox would store it, one JSON document per line
 * (plugin/magento/contract_stock_test.go checks them).
 *
 * Usage: php stock_fixture.php
 */
declare(strict_types=1);

require __DIR__ . '/../Model/EventMapper.php';

use Treue\Loyalty\Model\EventMapper;

/** A stand-in for Magento's DataObject: getFooBar() reads the key foo_bar. */
final class Entity
{
    /** @param array<string, mixed> $data */
    public function __construct(private array $data)
    {
    }

    /** @param list<mixed> $args */
    public function __call(string $method, array $args): mixed
    {
        $key = strtolower((string) preg_replace('/(?<!^)[A-Z]/', '_$0', substr($method, 3)));
        return $this->data[$key] ?? null;
    }
}

$anna = new Entity(['email' => 'anna.beispiel@example.com', 'firstname' => 'Anna', 'lastname' => 'Beispiel']);
$alert = new Entity(['alert_stock_id' => '5', 'customer_id' => '77', 'product_id' => '14', 'add_date' => '2026-03-04 08:00:00']);
$item = new Entity(['product_id' => '14', 'qty' => '5.0000', 'is_in_stock' => '1']);
$soldOut = new Entity(['product_id' => '14', 'qty' => '3.0000', 'is_in_stock' => '0']);

$mapper = new EventMapper(static fn (): int => 1772611200); // 2026-03-04T08:00:00Z

$events = array_merge(
    $mapper->stockAlertEvents($alert, 'ESP-500', $anna, true),
    $mapper->stockAlertEvents($alert, 'ESP-500', $anna, false),   // a re-save (Magento marks it sent): nothing
    $mapper->stockItemEvents($item, 'ESP-500', 0.0, false),       // back in stock
    $mapper->stockItemEvents($item, 'ESP-500', 5.0, true),        // saved unchanged: nothing
    $mapper->stockItemEvents($soldOut, 'ESP-500', 3.0, true),     // out of stock, whatever the quantity
    $mapper->stockAlertDeletedEvents($alert, 'ESP-500', $anna),
);
foreach ($events as $event) {
    echo EventMapper::encode($event), "\n";
}
