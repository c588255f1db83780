<?php
/**
 * Treue loyalty module for Magento 2.
 *
 * Contract fixture: runs Model/EventMapper.php, without Magento, over stand-in
 * sales entities and prints every event exactly as the outbox would store it,
 * one JSON document per line. Treue's Go test (plugin/magento/contract_test.go)
 * decodes each line into models.Event and validates it.
 *
 * Usage: php map_fixture.php
 */
declare(strict_types=1);

require __DIR__ . '/../Model/EventMapper.php';
require __DIR__ . '/entity.php';

use Treue\Loyalty\Model\EventMapper;

$espresso = new Entity(['item_id' => '2081', 'sku' => 'ESP-500', 'product_id' => '14', 'name' => 'Espresso Bohnen 500 g',
    'qty_ordered' => '2.0000', 'price' => '14.9500', 'parent_item_id' => null]);
$mug = new Entity(['item_id' => '2082', 'sku' => 'MUG-BLUE', 'product_id' => '31', 'name' => 'Tasse',
    'qty_ordered' => '1.0000', 'price' => 29.9, 'parent_item_id' => null]);
$mugChild = new Entity(['item_id' => '2083', 'sku' => 'MUG-BLUE', 'product_id' => '33', 'name' => 'Tasse Blau',
    'qty_ordered' => '1.0000', 'price' => '0.0000', 'parent_item_id' => '2082']);

$order = new Entity([
    'entity_id' => '1042', 'increment_id' => '000001042', 'state' => 'new',
    'customer_id' => '77', 'customer_is_guest' => '0', 'customer_email' => 'anna.beispiel@example.com',
    'customer_firstname' => 'Anna', 'customer_lastname' => 'Beispiel', 'customer_dob' => '1990-05-01 00:00:00',
    'coupon_code' => 'WELCOME10', 'grand_total' => '59.8000', 'order_currency_code' => 'EUR',
    'created_at' => '2026-03-02 09:14:05', 'updated_at' => '2026-03-02 09:14:05',
    'all_visible_items' => [$espresso, $mug],
]);
$guestOrder = new Entity([
    'entity_id' => '1043', 'increment_id' => '000001043', 'state' => 'canceled',
    'customer_id' => null, 'customer_is_guest' => '1', 'customer_email' => 'jon@example.com',
    'grand_total' => 243, 'order_currency_code' => 'USD',
    'created_at' => null, 'updated_at' => '2026-03-03 16:30:10', 'all_visible_items' => [],
]);
$invoice = new Entity(['entity_id' => '913', 'state' => '2', 'created_at' => '2026-03-02 09:20:01', 'order' => $order]);
$track = new Entity(['track_number' => '00340434161094042557', 'title' => 'DHL Paket', 'carrier_code' => 'dhl']);
$shipment = new Entity(['entity_id' => '611', 'created_at' => '2026-03-03 15:40:19', 'order' => $order,
    'all_tracks' => [new Entity(['track_number' => '']), $track]]);
$creditmemo = new Entity([
    'entity_id' => '88', 'state' => 2, 'grand_total' => '14.9500', 'order_currency_code' => 'EUR',
    'created_at' => '2026-03-09 07:02:10', 'order' => $order,
    'all_items' => [
        new Entity(['sku' => 'ESP-500', 'product_id' => '14', 'name' => 'Espresso Bohnen 500 g', 'qty' => '1.0000',
            'price' => '14.9500', 'order_item' => $espresso]),
        new Entity(['sku' => 'MUG-BLUE', 'product_id' => '31', 'name' => 'Tasse', 'qty' => '0.0000',
            'price' => '29.9000', 'order_item' => $mug]),
        new Entity(['sku' => 'MUG-BLUE', 'product_id' => '33', 'name' => 'Tasse Blau', 'qty' => '1.0000',
            'price' => '0.0000', 'order_item' => $mugChild]),
    ],
]);

// A fixed clock: the guest order has no created_at yet, as on its first save.
$mapper = new EventMapper(static fn (): int => 1772443200); // 2026-03-02T09:20:00Z

$events = array_merge(
    $mapper->orderEvents($order, true, null),
    $mapper->orderEvents($order, false, 'new'),        // a later save: nothing new
    $mapper->orderEvents($guestOrder, true, null),     // placed and canceled at once
    $mapper->invoiceEvents($invoice, true, null),
    $mapper->invoiceEvents($invoice, false, 2),        // already paid: nothing
    $mapper->shipmentEvents($shipment, true),
    $mapper->shipmentEvents($shipment, false),         // a re-save: nothing
    $mapper->creditmemoEvents($creditmemo, true, null),
);
foreach ($events as $event) {
    echo EventMapper::encode($event), "\n";
}
