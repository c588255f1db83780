<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Model;

use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\Encryption\EncryptorInterface;

/**
 * The module's settings (Stores > Configuration > Treue > Loyalty). They are
 * global: one Magento installation is one shop in Treue.
 */
class Config
{
    public const XML_ENABLED = 'treue/general/enabled';
    public const XML_URL = 'treue/general/url';
    public const XML_SHOP_KEY = 'treue/general/shop_key';
    public const XML_SECRET = 'treue/general/secret';
    public const XML_MAX_ATTEMPTS = 'treue/general/max_attempts';

    private const DEFAULT_MAX_ATTEMPTS = 15;

    public function __construct(
        private readonly ScopeConfigInterface $scopeConfig,
        private readonly EncryptorInterface $encryptor
    ) {
    }

    public function isEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_ENABLED);
    }

    /**
     * The Standard Webhooks endpoint of this shop: {url}/webhooks/standard/{shop_key}.
     *
     * @throws \DomainException when the URL or shop key is missing or unsafe
     */
    public function endpoint(): string
    {
        $url = rtrim(trim((string) $this->scopeConfig->getValue(self::XML_URL)), '/');
        $key = trim((string) $this->scopeConfig->getValue(self::XML_SHOP_KEY));
        $parts = parse_url($url);
        $host = is_array($parts) ? strtolower((string) ($parts['host'] ?? '')) : '';
        $scheme = is_array($parts) ? strtolower((string) ($parts['scheme'] ?? '')) : '';
        // Order data is personal data: plain HTTP only to this machine.
        $local = in_array($host, ['localhost', '127.0.0.1', '[::1]'], true);
        if ($host === '' || !($scheme === 'https' || ($scheme === 'http' && $local))
            || isset($parts['user']) || isset($parts['query']) || isset($parts['fragment'])) {
            throw new \DomainException('treue: the Treue URL must be an https:// base URL');
        }
        if (preg_match('/^[a-z0-9][a-z0-9_-]{0,62}$/', $key) !== 1) {
            throw new \DomainException('treue: the shop key must be 1-63 characters of a-z, 0-9, "-" or "_"');
        }
        return $url . '/webhooks/standard/' . $key;
    }

    /**
     * The signing secret ("whsec_..."). The admin stores it encrypted. Depending
     * on where it was set (admin, config:set, env.php) and on the config
     * metadata, Magento hands it over encrypted or already decrypted, so a value
     * that already has the whsec_ prefix is used as it is.
     */
    public function secret(): string
    {
        $value = trim((string) $this->scopeConfig->getValue(self::XML_SECRET));
        if ($value === '' || str_starts_with($value, 'whsec_')) {
            return $value;
        }
        $decrypted = trim($this->encryptor->decrypt($value));
        return $decrypted !== '' ? $decrypted : $value;
    }

    public function maxAttempts(): int
    {
        $n = (int) $this->scopeConfig->getValue(self::XML_MAX_ATTEMPTS);
        return $n > 0 ? $n : self::DEFAULT_MAX_ATTEMPTS;
    }
}
