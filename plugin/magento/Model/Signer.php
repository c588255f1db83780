<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Model;

/**
 * Signs a delivery as Standard Webhooks "v1" (https://www.standardwebhooks.com):
 * webhook-signature = "v1," . base64(HMAC-SHA256(key, id . "." . timestamp . "." . body)),
 * where key is the base64-decoded part of the "whsec_..." secret.
 *
 * This class is plain PHP on purpose: it has no Magento dependency, so the
 * cross-language contract test (tests/sign_fixture.php) runs it without a shop.
 */
final class Signer
{
    /** Below this the secret is too weak to sign with; Treue issues 32 bytes. */
    private const MIN_KEY_BYTES = 16;

    private string $key;

    /**
     * @param string $secret "whsec_" followed by base64, as Treue shows it; the
     *                       prefix is optional
     * @throws \InvalidArgumentException when the secret is not such a value
     */
    public function __construct(string $secret)
    {
        $secret = trim($secret);
        if (str_starts_with($secret, 'whsec_')) {
            $secret = substr($secret, strlen('whsec_'));
        }
        $key = base64_decode($secret, true);
        if ($key === false || strlen($key) < self::MIN_KEY_BYTES) {
            throw new \InvalidArgumentException(
                'treue: the signing secret must be "whsec_" followed by at least '
                . self::MIN_KEY_BYTES . ' base64-encoded bytes'
            );
        }
        $this->key = $key;
    }

    /**
     * Returns the webhook-signature value for one attempt.
     *
     * @throws \InvalidArgumentException when the id contains ".", which would
     *                                   make the signed content ambiguous
     */
    public function sign(string $id, int $timestamp, string $body): string
    {
        if ($id === '' || str_contains($id, '.')) {
            throw new \InvalidArgumentException('treue: a webhook id must be non-empty and contain no "."');
        }
        $mac = hash_hmac('sha256', $id . '.' . $timestamp . '.' . $body, $this->key, true);
        return 'v1,' . base64_encode($mac);
    }

    /**
     * Returns the three Standard Webhooks headers for one attempt. The timestamp
     * is the time of the attempt (Unix seconds), not of the event: receivers
     * reject timestamps more than a few minutes off their clock.
     *
     * @return array{webhook-id: string, webhook-timestamp: string, webhook-signature: string}
     */
    public function headers(string $id, int $timestamp, string $body): array
    {
        return [
            'webhook-id' => $id,
            'webhook-timestamp' => (string) $timestamp,
            'webhook-signature' => $this->sign($id, $timestamp, $body),
        ];
    }
}
