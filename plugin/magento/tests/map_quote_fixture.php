<?php
/**
 * Treue loyalty module for Magento 2.
 *
 * Contract fixture of the cart: runs EventMapper::quoteEvents over stand-in
 * quotes and prints the events as the outbox would store them, one JSON
 * document per line (plugin/magento/cart_contract_test.go checks them).
 *
 * Usage: php map_quote_fixture.php
 */
declare(strict_types=1);

require __DIR__ . '/../Model/EventMapper.php';
require __DIR__ . '/entity.php';

use Treue\Loyalty\Model\EventMapper;

$espresso = new Entity(['item_id' => '501', 'sku' => 'ESP-500', 'product_id' => '14', 'name' => 'Espresso Bohnen 500 g',
    'qty' => '2.0000', 'price' => '14.9500', 'parent_item_id' => null]);
$mug = new Entity(['item_id' => '502', 'sku' => 'MUG-BLUE', 'product_id' => '31', 'name' => 'Tasse',
    'qty' => '1.0000', 'price' => '29.9000', 'parent_item_id' => null]);
$mugChild = new Entity(['item_id' => '503', 'sku' => 'MUG-BLUE', 'product_id' => '33', 'name' => 'Tasse Blau',
    'qty' => '1.0000', 'price' => '0.0000', 'parent_item_id' => '502']);

$cart = [
    'entity_id' => '3301', 'is_active' => '1', 'customer_id' => '77', 'customer_is_guest' => '0',
    'customer_email' => 'anna.beispiel@example.com', 'customer_firstname' => 'Anna', 'customer_lastname' => 'Beispiel',
    'grand_total' => '59.8000', 'quote_currency_code' => 'EUR', 'updated_at' => '2026-03-01 17:00:00',
    'all_visible_items' => [$espresso, $mug],
];
$mapper = new EventMapper(static fn (): int => 1772384865); // 2026-03-01T17:07:45Z

$events = array_merge(
    $mapper->quoteEvents(new Entity($cart)),
    // A guest's cart before the checkout asked for the e-mail: nothing.
    $mapper->quoteEvents(new Entity(['customer_email' => null, 'customer_is_guest' => '1'] + $cart)),
    // The guest typed the e-mail: the cart joins the guest's journey by it.
    $mapper->quoteEvents(new Entity(['customer_email' => 'jon@example.com', 'customer_id' => null, 'customer_is_guest' => '1',
        'customer_firstname' => null, 'customer_lastname' => null, 'all_visible_items' => [$mugChild, $mug]] + $cart)),
    // Converted to an order: inactive, nothing.
    $mapper->quoteEvents(new Entity(['is_active' => '0'] + $cart)),
    // Emptied: nothing.
    $mapper->quoteEvents(new Entity(['all_visible_items' => []] + $cart)),
);
foreach ($events as $event) {
    echo EventMapper::encode($event), "\n";
}
