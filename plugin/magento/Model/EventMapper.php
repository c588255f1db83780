<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Model;

/**
 * Maps Magento sales entities to Treue canonical journey events: the JSON shape
 * of Treue's models.Event, {"type", "timestamp", "data": {"customer", "order", ...}},
 * with amounts as decimal strings ("59.80") and times in RFC 3339 (UTC).
 *
 * The entities are read only through their getters, with no Magento type in a
 * signature, so this class runs in plain PHP too: tests/map_fixture.php feeds it
 * stand-in objects and Treue's Go tests check the result against models.Event.
 *
 * Which saves produce an event is decided here from the entity's state before
 * the save ($isNew, $previousState, read from getOrigData() by the observers):
 * Magento saves an order many times, and each event should be written once.
 * Treue dedupes repeats anyway, keyed by the order, shipment or refund id.
 */
final class EventMapper
{
    /** Sales entity states (Magento\Sales\Model\Order\Invoice::STATE_PAID, Creditmemo::STATE_REFUNDED). */
    private const INVOICE_STATE_PAID = 2;
    private const CREDITMEMO_STATE_REFUNDED = 2;

    /** @var \Closure(): int */
    private \Closure $now;

    /**
     * @param \Closure(): int|null $now Unix time source; time() when null
     */
    public function __construct(?\Closure $now = null)
    {
        $this->now = $now ?? static fn (): int => time();
    }

    /**
     * Events of an order save: order.placed for a new order, order.cancelled or
     * order.completed when the state changes to canceled or complete.
     *
     * @param object $order Magento\Sales\Model\Order
     * @return list<array<string, mixed>>
     */
    public function orderEvents(object $order, bool $isNew, ?string $previousState): array
    {
        $data = ['customer' => $this->customer($order), 'order' => $this->order($order, true)];
        $events = [];
        if ($isNew) {
            $events[] = $this->event('order.placed', $order->getCreatedAt(), $data);
        }
        $state = (string) $order->getState();
        if ($state !== (string) $previousState) {
            if ($state === 'canceled') {
                $events[] = $this->event('order.cancelled', $order->getUpdatedAt(), $data);
            } elseif ($state === 'complete') {
                $events[] = $this->event('order.completed', $order->getUpdatedAt(), $data);
            }
        }
        return $events;
    }

    /**
     * order.paid when an invoice becomes paid (new and paid, or open to paid).
     *
     * @param object $invoice Magento\Sales\Model\Order\Invoice
     * @return list<array<string, mixed>>
     */
    public function invoiceEvents(object $invoice, bool $isNew, ?int $previousState): array
    {
        $state = (int) $invoice->getState();
        if ($state !== self::INVOICE_STATE_PAID || (!$isNew && $previousState === self::INVOICE_STATE_PAID)) {
            return [];
        }
        $order = $invoice->getOrder();
        $o = $this->order($order, true);
        $o['paid_at'] = $this->time($invoice->getCreatedAt());
        return [$this->event('order.paid', $invoice->getCreatedAt(), [
            'customer' => $this->customer($order),
            'order' => $this->compact($o),
        ])];
    }

    /**
     * shipment.shipped for a new shipment, with its first tracking number.
     *
     * @param object $shipment Magento\Sales\Model\Order\Shipment
     * @return list<array<string, mixed>>
     */
    public function shipmentEvents(object $shipment, bool $isNew): array
    {
        if (!$isNew) {
            return [];
        }
        $order = $shipment->getOrder();
        $s = ['id' => $this->str($shipment->getEntityId()), 'shipped_at' => $this->time($shipment->getCreatedAt())];
        foreach ($shipment->getAllTracks() ?? [] as $track) {
            if ($this->str($track->getTrackNumber()) !== '') {
                $s['tracking'] = $this->str($track->getTrackNumber());
                $s['carrier'] = $this->str($track->getTitle()) ?: $this->str($track->getCarrierCode());
                break;
            }
        }
        return [$this->event('shipment.shipped', $shipment->getCreatedAt(), [
            'customer' => $this->customer($order),
            'order' => $this->order($order, false),
            'shipment' => $this->compact($s),
        ])];
    }

    /**
     * refund.issued when a credit memo becomes refunded. Open Source has no RMA,
     * so a credit memo is also how returned goods show up.
     *
     * @param object $creditmemo Magento\Sales\Model\Order\Creditmemo
     * @return list<array<string, mixed>>
     */
    public function creditmemoEvents(object $creditmemo, bool $isNew, ?int $previousState): array
    {
        $state = (int) $creditmemo->getState();
        if ($state !== self::CREDITMEMO_STATE_REFUNDED
            || (!$isNew && $previousState === self::CREDITMEMO_STATE_REFUNDED)) {
            return [];
        }
        $order = $creditmemo->getOrder();
        $r = [
            'id' => $this->str($creditmemo->getEntityId()),
            'amount' => $this->money($creditmemo->getGrandTotal()),
            'currency' => $this->str($creditmemo->getOrderCurrencyCode()) ?: $this->str($order->getOrderCurrencyCode()),
            'issued_at' => $this->time($creditmemo->getCreatedAt()),
            'items' => $this->items($creditmemo->getAllItems() ?? [], 'getQty'),
        ];
        return [$this->event('refund.issued', $creditmemo->getCreatedAt(), [
            'customer' => $this->customer($order),
            'order' => $this->order($order, false),
            'refund' => $this->compact($r),
        ])];
    }

    /**
     * stock.subscribed for a new product alert (product_alert_stock): the
     * customer asked to hear when the product is back. The observer passes the
     * product's SKU and the customer, which the alert names by id only.
     *
     * @param object $alert Magento\ProductAlert\Model\Stock
     * @param object $customer Magento\Customer\Api\Data\CustomerInterface or Model\Customer
     * @return list<array<string, mixed>>
     */
    public function stockAlertEvents(object $alert, string $sku, object $customer, bool $isNew): array
    {
        if (!$isNew || $sku === '') {
            return [];
        }
        return [$this->event('stock.subscribed', $alert->getAddDate(), [
            'customer' => $this->alertCustomer($alert, $customer),
            'subscription' => ['sku' => $sku, 'at' => $this->time($alert->getAddDate())],
        ])];
    }

    /**
     * stock.unsubscribed when a product alert is deleted (the customer
     * unsubscribed); Magento keeps the alerts it has sent, so a deletion is
     * the customer's.
     *
     * @return list<array<string, mixed>>
     */
    public function stockAlertDeletedEvents(object $alert, string $sku, object $customer): array
    {
        if ($sku === '') {
            return [];
        }
        $at = gmdate('Y-m-d\TH:i:s\Z', ($this->now)());
        return [$this->event('stock.unsubscribed', $at, [
            'customer' => $this->alertCustomer($alert, $customer),
            'subscription' => ['sku' => $sku, 'at' => $at],
        ])];
    }

    /**
     * product.stock_changed for a saved stock item whose quantity or stock
     * status changed: a shop event, no customer. Out of stock is quantity 0,
     * whatever the quantity says.
     *
     * @param object $item Magento\CatalogInventory\Model\Stock\Item
     * @return list<array<string, mixed>>
     */
    public function stockItemEvents(object $item, string $sku, ?float $previousQty, ?bool $previousInStock): array
    {
        $qty = (float) $item->getQty();
        $inStock = (bool) $item->getIsInStock();
        if ($sku === '' || ($previousQty !== null && abs($previousQty - $qty) < 1e-9 && $previousInStock === $inStock)) {
            return [];
        }
        $at = gmdate('Y-m-d\TH:i:s\Z', ($this->now)());
        return [$this->event('product.stock_changed', $at, [
            'product' => ['sku' => $sku, 'stock' => $inStock ? max(0, (int) floor($qty + 1e-9)) : 0, 'at' => $at],
        ])];
    }

    /**
     * The customer of a product alert, as an order names its customer.
     *
     * @return array<string, string>|\stdClass
     */
    private function alertCustomer(object $alert, object $customer): array|\stdClass
    {
        $c = $this->compact([
            'id' => $this->str($alert->getCustomerId()),
            'email' => $this->str($customer->getEmail()),
            'first_name' => $this->str($customer->getFirstname()),
            'last_name' => $this->str($customer->getLastname()),
        ]);
        return $c === [] ? new \stdClass() : $c;
    }

    /**
     * cart.updated for a save of an active quote (the cart) with items and an
     * e-mail. A guest's quote has no e-mail until the checkout asks for it:
     * before that nothing names a customer whose journey the cart could join.
     * A quote converted to an order is inactive: the order.placed tells.
     *
     * The update is dated by the mapper's clock, not by the quote's updated_at:
     * the database sets that column on the save, so the object still holds the
     * previous update's time, and Treue keeps one step per cart and time (two
     * saves in the same second are one update).
     *
     * @param object $quote Magento\Quote\Model\Quote
     * @return list<array<string, mixed>>
     */
    public function quoteEvents(object $quote): array
    {
        $email = $this->str($quote->getCustomerEmail());
        if (!$quote->getIsActive() || $email === '') {
            return [];
        }
        $items = $this->items($quote->getAllVisibleItems() ?? [], 'getQty');
        if ($items === []) {
            return [];
        }
        $at = gmdate('Y-m-d\TH:i:s\Z', ($this->now)());
        $customer = $this->compact([
            'id' => $quote->getCustomerIsGuest() ? '' : $this->str($quote->getCustomerId()),
            'email' => $email,
            'first_name' => $this->str($quote->getCustomerFirstname()),
            'last_name' => $this->str($quote->getCustomerLastname()),
        ]);
        $cart = $this->compact([
            'id' => $this->str($quote->getEntityId()),
            'items' => $items,
            'total' => $this->money($quote->getGrandTotal()),
            'currency' => $this->str($quote->getQuoteCurrencyCode()),
            'updated_at' => $at,
        ]);
        return [$this->event('cart.updated', $at, ['customer' => $customer, 'cart' => $cart])];
    }

    /**
     * Encodes an event exactly as it is stored and sent: the signature covers
     * these bytes, so they are never re-encoded after this.
     *
     * @param array<string, mixed> $event
     * @throws \JsonException
     */
    public static function encode(array $event): string
    {
        return json_encode($event, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }

    /**
     * @param array<string, mixed> $data
     * @return array<string, mixed>
     */
    private function event(string $type, mixed $at, array $data): array
    {
        return ['type' => $type, 'timestamp' => $this->time($at), 'data' => $data];
    }

    /**
     * The customer of an order. Guests are known by e-mail only; Magento's
     * customer id is what Treue's push-back uses, so it is sent whenever there is one.
     *
     * @return array<string, string>|\stdClass
     */
    private function customer(object $order): array|\stdClass
    {
        $c = [
            'id' => $order->getCustomerIsGuest() ? '' : $this->str($order->getCustomerId()),
            'email' => $this->str($order->getCustomerEmail()),
            'first_name' => $this->str($order->getCustomerFirstname()),
            'last_name' => $this->str($order->getCustomerLastname()),
        ];
        $dob = substr($this->str($order->getCustomerDob()), 0, 10);
        if (preg_match('/^\d{4}-\d{2}-\d{2}$/', $dob) === 1) {
            $c['birthday'] = $dob;
        }
        $c = $this->compact($c);
        // An empty customer must still encode as {}, not [].
        return $c === [] ? new \stdClass() : $c;
    }

    /**
     * @return array<string, mixed>
     */
    private function order(object $order, bool $withContents): array
    {
        $o = ['id' => $this->str($order->getEntityId()), 'number' => $this->str($order->getIncrementId())];
        if ($withContents) {
            $o += [
                'placed_at' => $this->time($order->getCreatedAt()),
                'currency' => $this->str($order->getOrderCurrencyCode()),
                'total' => $this->money($order->getGrandTotal()),
                'items' => $this->items($order->getAllVisibleItems() ?? [], 'getQtyOrdered'),
                'coupon' => $this->str($order->getCouponCode()),
            ];
        }
        return $this->compact($o);
    }

    /**
     * Line items, leaving out child items of configurable and bundle products
     * (the parent carries SKU and price), items with no quantity (a credit memo
     * lists every order item) and items naming no product.
     *
     * @param iterable<object> $items
     * @return list<array<string, mixed>>
     */
    private function items(iterable $items, string $qtyGetter): array
    {
        $out = [];
        foreach ($items as $item) {
            // Invoice and credit memo items point at their order item; an order
            // item has no order item of its own (Magento's magic getter gives null).
            $orderItem = $item->getOrderItem() ?? $item;
            if ($orderItem->getParentItemId()) {
                continue;
            }
            $qty = (float) $item->{$qtyGetter}();
            $li = $this->compact([
                'sku' => $this->str($item->getSku()),
                'product_id' => $this->str($item->getProductId()),
                'name' => $this->str($item->getName()),
                'unit_price' => $this->money($item->getPrice()),
            ]);
            if ($qty <= 0 || (!isset($li['sku']) && !isset($li['product_id']))) {
                continue;
            }
            // Decimal quantities are rounded up, so a sold item never counts as zero.
            $li['quantity'] = (int) ceil($qty - 1e-9);
            $out[] = $li;
        }
        return $out;
    }

    /**
     * A Magento database time ("2026-03-02 09:14:05", always UTC) in RFC 3339.
     * A new entity may not have its created_at yet (the database fills it in),
     * so a missing time is the current time.
     */
    private function time(mixed $value): string
    {
        if ($value instanceof \DateTimeInterface) {
            return gmdate('Y-m-d\TH:i:s\Z', $value->getTimestamp());
        }
        $s = $this->str($value);
        if (preg_match('/^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/', $s, $m) === 1) {
            return $m[1] . 'T' . $m[2] . 'Z';
        }
        return gmdate('Y-m-d\TH:i:s\Z', ($this->now)());
    }

    /**
     * A decimal amount as a string with two decimals, computed without floats
     * where Magento gives a string ("59.8000" becomes "59.80").
     */
    private function money(mixed $value): string
    {
        if ($value === null || $value === '') {
            return '';
        }
        if (is_string($value) && preg_match('/^(-?\d+)(?:\.(\d*))?$/', trim($value), $m) === 1) {
            $frac = rtrim($m[2] ?? '', '0');
            if (strlen($frac) <= 4) {
                return $m[1] . '.' . str_pad($frac, 2, '0');
            }
        }
        return number_format((float) $value, 2, '.', '');
    }

    private function str(mixed $value): string
    {
        return $value === null ? '' : trim((string) $value);
    }

    /**
     * Drops empty values, as Treue's JSON does with omitempty.
     *
     * @param array<string, mixed> $a
     * @return array<string, mixed>
     */
    private function compact(array $a): array
    {
        return array_filter($a, static fn ($v): bool => $v !== '' && $v !== null && $v !== []);
    }
}
