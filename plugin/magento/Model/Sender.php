<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

namespace Treue\Loyalty\Model;

use Magento\Framework\HTTP\Client\CurlFactory;

/**
 * POSTs one signed event to Treue. Redirects are not followed: a 3xx counts as
 * a failure, as the Standard Webhooks spec asks of senders.
 */
class Sender
{
    private const CONNECT_TIMEOUT = 5;
    private const TIMEOUT = 15;

    public function __construct(private readonly CurlFactory $curlFactory)
    {
    }

    /**
     * @param array<string, string> $headers
     * @return int the HTTP status
     * @throws \Exception on a network error
     */
    public function post(string $url, array $headers, string $body): int
    {
        $curl = $this->curlFactory->create();
        $curl->setTimeout(self::TIMEOUT);
        $curl->setOption(CURLOPT_CONNECTTIMEOUT, self::CONNECT_TIMEOUT);
        $curl->setOption(CURLOPT_FOLLOWLOCATION, false);
        $curl->setOption(CURLOPT_PROTOCOLS, CURLPROTO_HTTPS | CURLPROTO_HTTP);
        $curl->setHeaders($headers + [
            'Content-Type' => 'application/json',
            'User-Agent' => 'Treue-Loyalty-Magento/1.0',
        ]);
        $curl->post($url, $body);
        return (int) $curl->getStatus();
    }
}
